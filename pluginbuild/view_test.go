package pluginbuild

import "testing"

func TestMaxGo(t *testing.T) {
	for _, tt := range []struct{ a, b, want string }{
		{"", "1.22", "1.22"},
		{"1.22", "", "1.22"},
		{"1.22", "1.22.3", "1.22.3"},
		{"1.22.3", "1.22", "1.22.3"},
		{"1.26", "1.26.0", "1.26.0"},
		{"1.26.0", "1.26", "1.26.0"},
		{"1.26rc1", "1.26", "1.26rc1"},
		{"1.26rc1", "1.26.0", "1.26.0"},
		{"1.9", "1.10", "1.10"},
		{"1.26.1", "1.26.1", "1.26.1"},
	} {
		if got := maxGo(tt.a, tt.b); got != tt.want {
			t.Errorf("maxGo(%q, %q) = %q, want %q", tt.a, tt.b, got, tt.want)
		}
	}
}
