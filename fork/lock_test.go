package fork

import (
	"strings"
	"testing"
)

func sampleLock() *Lock {
	return &Lock{
		Prefix: "gitlab.example.com/workflow",
		Dir:    "third_party/forked",
		Keep:   []string{"example.com/api/...", "example.com/b"},
		Tests:  true,
		Forks: []LockedFork{
			{Path: "example.com/UpperCase", Version: "v1.0.0", Sum: "h1:abc=", ForkPath: "gitlab.example.com/workflow/example.com/UpperCase",
				ForkDir: "third_party/forked/example.com/!upper!case", TreeHash: "h1:def=", Require: requireDirect, Packages: 2},
			{Path: "example.com/a", Version: "v0.0.0-20200101000000-abcdefabcdef", Replace: "../a b", Sum: "h1:x=", ForkPath: "gitlab.example.com/workflow/example.com/a",
				ForkDir: "third_party/forked/example.com/a", TreeHash: "h1:y=", Require: requireNone},
		},
	}
}

func TestLockRoundTrip(t *testing.T) {
	l := sampleLock()
	text := l.Format()
	got, err := ParseLock("plugfork.lock", text)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if again := got.Format(); string(again) != string(text) {
		t.Errorf("round trip changed the lock:\n%s\nwant:\n%s", again, text)
	}
	if got.Forks[1].Replace != "../a b" || !got.Tests || len(got.Keep) != 2 {
		t.Errorf("fields lost: %+v", got)
	}
}

func TestParseLockErrors(t *testing.T) {
	good := string(sampleLock().Format())
	for _, tt := range []struct {
		name, edit, want string
	}{
		{"not a lock", "hello\n", "plugfork.lock:1: not a plugfork lock"},
		{"future", strings.Replace(good, "plugfork 1", "plugfork 9", 1), `lock format "9" is not supported`},
		{"escape dir", strings.Replace(good, "dir third_party/forked/example.com/a\n", "dir ../../etc\n", 1), `points outside its place`},
		{"absolute dir", strings.Replace(good, "dir third_party/forked\n", "dir /etc\n", 1), `must be relative`},
		{"dotdot dir", strings.Replace(good, "dir third_party/forked\n", "dir ../x\n", 1), `must stay inside the host module`},
		{"wrong fork path", strings.Replace(good, "path gitlab.example.com/workflow/example.com/a\n", "path evil.com/x\n", 1), `is not gitlab.example.com/workflow/example.com/a`},
		{"bad require", strings.Replace(good, "require none", "require maybe", 1), `want direct, indirect or none`},
		{"unknown", good + "frobnicate\n", `unknown directive "frobnicate"`},
		{"field outside", strings.Replace(good, "plugfork 1\n", "plugfork 1\n\tsum h1:x=\n", 1), `sum outside a fork entry`},
		{"twice", good + "\nfork example.com/a v1.0.0\n", `listed twice`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseLock("plugfork.lock", []byte(tt.edit))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// FuzzParseLock: the lock reader never panics, and whatever it accepts
// formats to a lock it accepts again, identically.
func FuzzParseLock(f *testing.F) {
	f.Add(sampleLock().Format())
	f.Add([]byte("plugfork 1\nprefix a.b/c\ndir x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseLock("plugfork.lock", data)
		if err != nil {
			return
		}
		text := l.Format()
		l2, err := ParseLock("plugfork.lock", text)
		if err != nil {
			t.Fatalf("formatted lock does not parse: %v\n%s", err, text)
		}
		if string(l2.Format()) != string(text) {
			t.Fatalf("format is not stable:\n%s", text)
		}
	})
}
