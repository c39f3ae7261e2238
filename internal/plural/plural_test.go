package plural

import "testing"

func TestCount(t *testing.T) {
	for _, tt := range []struct {
		got, want string
	}{
		{S(0, "fork"), "0 forks"},
		{S(1, "fork"), "1 fork"},
		{S(2, "host file"), "2 host files"},
		{Count(1, "file differs", "files differ"), "1 file differs"},
		{Count(3, "file differs", "files differ"), "3 files differ"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
