package fork

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/plugfork/plugfork/internal/closure"
	"github.com/plugfork/plugfork/internal/lockfile"
)

// The sizes the size report judges files by; tests lower them.
var (
	// warnBytes is the size over which git hosts warn about a file
	// (GitHub: 50 MiB).
	warnBytes int64 = 50 << 20
	// limitBytes is the size over which git hosts refuse a file (GitHub:
	// 100 MiB): a fork holding one cannot be pushed.
	limitBytes int64 = 100 << 20
	// largestN is how many of the largest modules and files the report
	// lists, besides every file over warnBytes.
	largestN = 5
)

// Scope is the builds whose files the forks hold, as the lock records it:
// empty, every build (as go mod vendor sees it).
type Scope struct {
	Platforms []string `json:"platforms,omitempty"` // GOOS/GOARCH; none: every platform
	Tags      []string `json:"tags,omitempty"`      // custom build tags set in every scoped build
}

// String returns the scope as fork's text output says it: "linux/amd64,
// darwin/arm64, tags goplugin"; "every platform" or "tags none" for what it
// leaves open.
func (s Scope) String() string {
	platforms, tags := "every platform", "none"
	if len(s.Platforms) > 0 {
		platforms = strings.Join(s.Platforms, ",")
	}
	if len(s.Tags) > 0 {
		tags = strings.Join(s.Tags, ",")
	}
	return platforms + ", tags " + tags
}

// Size is how much the forks weigh: in all, their largest modules, and
// their largest files with where each is reached from.
type Size struct {
	Bytes   int64        `json:"bytes"`
	Files   int          `json:"files"`
	Modules []ModuleSize `json:"largest_modules,omitempty"`
	Largest []LargeFile  `json:"largest_files,omitempty"`
}

// ModuleSize is one fork's weight.
type ModuleSize struct {
	Module string `json:"module"`
	Bytes  int64  `json:"bytes"`
	Files  int    `json:"files"`
}

// LargeFile is one of the largest files of the forks.
type LargeFile struct {
	Path   string    `json:"path"` // relative to the host root
	Module string    `json:"module"`
	Bytes  int64     `json:"bytes"`
	Level  SizeLevel `json:"level,omitempty"`
	// ReachedFrom is the import chain from a host package to the package
	// the file belongs to, each step with the file importing the next and
	// its build constraint.
	ReachedFrom []Step `json:"reached_from,omitempty"`
}

// Step is one package of an import chain.
type Step = lockfile.Step

// SizeLevel says what a git host does with a file of that size.
type SizeLevel string

// The size levels ("" for a file git hosts take).
const (
	SizeWarning SizeLevel = "warning" // over 50 MiB: git hosts warn
	SizeRefused SizeLevel = "refused" // over 100 MiB: git hosts refuse the push
)

func levelOf(n int64) SizeLevel {
	switch {
	case n > limitBytes:
		return SizeRefused
	case n > warnBytes:
		return SizeWarning
	}
	return ""
}

// sizedFile is a file of a fork, relative to its root, with its size.
type sizedFile struct {
	rel  string
	size int64
}

// addLargest adds f to the list of the largest files, which holds the
// largestN largest and every one over warnBytes.
func addLargest(list []sizedFile, f sizedFile) []sizedFile {
	list = append(list, f)
	slices.SortStableFunc(list, func(a, b sizedFile) int {
		return cmp.Or(cmp.Compare(b.size, a.size), strings.Compare(a.rel, b.rel))
	})
	for len(list) > largestN && list[len(list)-1].size <= warnBytes {
		list = list[:len(list)-1]
	}
	return list
}

// largest returns the largest files of the forks m wrote for p, as the
// lock records them, each with the import chain that reaches its package.
func largest(p *plan, m *materialized) []lockfile.LargeFile {
	var all []sizedFile
	from := map[sizedFile]int{}
	for i, out := range m.forks {
		for _, f := range out.largest {
			f.rel = path.Join(p.forks[i].ForkDir, f.rel)
			all = append(all, f)
			from[f] = i
		}
	}
	var list []sizedFile
	for _, f := range all {
		list = addLargest(list, f)
	}
	var out []lockfile.LargeFile
	for _, f := range list {
		fp := &p.forks[from[f]]
		lf := lockfile.LargeFile{Path: f.rel, Module: fp.Mod.Path, Bytes: f.size}
		if pkg := ownerOf(fp, strings.TrimPrefix(f.rel, fp.ForkDir+"/")); pkg != nil {
			lf.Chain = p.closure.ReachedFrom(pkg.Path)
		}
		out = append(out, lf)
	}
	return out
}

// ownerOf returns the package of the fork whose directory holds the file
// rel (relative to the module root), else the nearest one above it, else
// the fork's first package: the file comes with the module, which is
// reached through it.
func ownerOf(fp *forkPlan, rel string) *closure.Package {
	var best *closure.Package
	dir := path.Dir(rel)
	for _, pkg := range fp.Pkgs {
		r := cmp.Or(pkg.Rel, ".")
		if r == dir || r == "." || strings.HasPrefix(dir, r+"/") {
			if best == nil || len(pkg.Rel) > len(best.Rel) {
				best = pkg
			}
		}
	}
	if best == nil && len(fp.Pkgs) > 0 {
		best = fp.Pkgs[0]
	}
	return best
}

// sizeOf returns the size report of the forks the lock l records.
func sizeOf(l *lockfile.Lock) Size {
	var s Size
	for _, f := range l.Forks {
		s.Bytes += f.Bytes
		s.Files += f.Files
		s.Modules = append(s.Modules, ModuleSize{Module: f.Path, Bytes: f.Bytes, Files: f.Files})
	}
	slices.SortStableFunc(s.Modules, func(a, b ModuleSize) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), strings.Compare(a.Module, b.Module))
	})
	s.Modules = s.Modules[:min(largestN, len(s.Modules))]
	for _, f := range l.Largest {
		s.Largest = append(s.Largest, LargeFile{Path: f.Path, Module: f.Module, Bytes: f.Bytes, Level: levelOf(f.Bytes), ReachedFrom: f.Chain})
	}
	return s
}

// largeFindings returns a finding per file of the size report that git
// hosts refuse.
func largeFindings(s Size) []Finding {
	var out []Finding
	for _, f := range s.Largest {
		if f.Level != SizeRefused {
			continue
		}
		msg := fmt.Sprintf("%s is %s: git hosts refuse files over %s", f.Path, FormatSize(f.Bytes), FormatSize(limitBytes))
		if i := constrained(f.ReachedFrom); i >= 0 {
			c := f.ReachedFrom[i]
			msg += fmt.Sprintf("; only builds with %s reach it (%s of %s imports %s): --platform and --tags can leave it out",
				c.Constraint, c.File, c.Package, f.ReachedFrom[i+1].Package)
		}
		out = append(out, Finding{Pos: f.Path, Kind: FindingLargeFile, Path: f.Module, Message: msg})
	}
	return out
}

// constrained returns the index of the first step of an import chain
// whose importing file has a build constraint, or -1. The chain has the
// fewest such steps (closure.ReachedFrom): with one, every chain has one.
func constrained(chain []Step) int {
	return slices.IndexFunc(chain, func(s Step) bool { return s.Constraint != "" })
}

// FormatSize formats a size in binary units, as git hosts state their
// limits: "122.4 MiB", "6.4 KiB", "300 B".
func FormatSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
