package fork

import "testing"

func TestAffects(t *testing.T) {
	type ev = struct{ Introduced, Fixed string }
	rng := func(events ...ev) []vulnRange {
		r := vulnRange{Type: "SEMVER"}
		for _, e := range events {
			r.Events = append(r.Events, struct {
				Introduced string `json:"introduced"`
				Fixed      string `json:"fixed"`
			}{e.Introduced, e.Fixed})
		}
		return []vulnRange{r}
	}
	twoRanges := rng(ev{Introduced: "0"}, ev{Fixed: "1.1.0"}, ev{Introduced: "1.5.0"}, ev{Fixed: "1.5.2"})
	for _, c := range []struct {
		ranges  []vulnRange
		version string
		fixed   string
		ok      bool
	}{
		{twoRanges, "v1.0.0", "v1.1.0", true},
		{twoRanges, "v1.1.0", "", false},
		{twoRanges, "v1.4.9", "", false},
		{twoRanges, "v1.5.0", "v1.5.2", true},
		{twoRanges, "v1.5.2", "", false},
		{rng(ev{Introduced: "2.0.0"}), "v2.3.0", "", true}, // no fix yet
		{rng(ev{Introduced: "2.0.0"}), "v1.9.0", "", false},
		{[]vulnRange{{Type: "ECOSYSTEM"}}, "v1.0.0", "", false},
	} {
		fixed, ok := affects(c.ranges, c.version)
		if fixed != c.fixed || ok != c.ok {
			t.Errorf("affects(%+v, %s) = %q, %v; want %q, %v", c.ranges, c.version, fixed, ok, c.fixed, c.ok)
		}
	}
}
