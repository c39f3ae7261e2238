package fork

import (
	"slices"
	"testing"
)

func TestWithModFlag(t *testing.T) {
	for _, tt := range []struct {
		env  []string
		want string
	}{
		{nil, "GOFLAGS=-mod=readonly"},
		{[]string{"GOFLAGS=-mod=vendor -tags=netgo"}, "GOFLAGS=-tags=netgo -mod=readonly"},
		{[]string{"HOME=/h", "GOFLAGS=-tags=a --mod=mod -trimpath"}, "GOFLAGS=-tags=a -trimpath -mod=readonly"},
	} {
		got := withModFlag(tt.env, "readonly")
		if got[len(got)-1] != tt.want || slices.ContainsFunc(got[:len(got)-1], func(kv string) bool { return len(kv) > 8 && kv[:8] == "GOFLAGS=" }) {
			t.Errorf("withModFlag(%q) = %q, want last %q and no other GOFLAGS", tt.env, got, tt.want)
		}
	}
}
