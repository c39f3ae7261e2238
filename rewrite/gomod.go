package rewrite

import (
	"fmt"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"github.com/plugfork/plugfork/internal/edit"
)

// GoMod rewrites the go.mod file data. The module line and every require
// and replace line whose module path is exactly a forked module path get the
// new path; their versions become PlaceholderVersion of the new path (a
// version-less replace left side stays version-less, and a directory on a
// replace right side is kept). Tool lines naming a package of a forked module
// are mapped like imports. go, toolchain, godebug, retract and exclude lines
// and comments are preserved: an exclude names a version of the original
// module, which may still be in the module graph through modules that are not
// forked, and excluding the fork's placeholder version would drop the
// requirement on the fork. A require or replace line that the rewrite makes
// name the same module (and version) as an earlier one is dropped. The file
// is edited and printed through x/mod/modfile, and the output is checked to
// parse; Result.Edits is then one edit spanning everything that changed.
func GoMod(filename string, data []byte, m *Mapping) (Result, error) {
	f, err := modfile.Parse(filename, data, nil)
	if err != nil {
		return Result{}, err
	}
	g := gomod{m: m, filename: filename}
	if f.Module != nil {
		if newPath, ok := m.Module(f.Module.Mod.Path); ok {
			if err := f.AddModuleStmt(newPath); err != nil {
				return Result{}, g.errorf(f.Module.Syntax, "rewriting module line: %v", err)
			}
			g.changed = true
		}
	}
	// A rewrite can make two lines name the same module (a go.mod that
	// requires both the original and the fork, or two versions of the
	// original): the first line wins and the later one is dropped.
	required := make(map[string]bool) // module path -> rewritten
	for _, r := range f.Require {
		mod, ok, err := g.mapVersion(r.Mod, r.Syntax)
		if err != nil {
			return Result{}, err
		}
		if ok {
			r.Mod = mod
			setTokens(r.Syntax, "require", modfile.AutoQuote(mod.Path), mod.Version)
		}
		if rewritten, seen := required[r.Mod.Path]; seen && (ok || rewritten) {
			g.drop(r.Syntax)
			*r = modfile.Require{}
			continue
		}
		required[r.Mod.Path] = required[r.Mod.Path] || ok
	}
	replaced := make(map[module.Version]bool) // left side -> rewritten
	for _, r := range f.Replace {
		oldMod, oldOK, err := g.mapVersion(r.Old, r.Syntax)
		if err != nil {
			return Result{}, err
		}
		if rewritten, seen := replaced[oldMod]; seen && (oldOK || rewritten) {
			g.drop(r.Syntax)
			*r = modfile.Replace{}
			continue
		}
		replaced[oldMod] = oldOK
		newMod, newOK := r.New, false
		if r.New.Version != "" { // a module, not a directory
			if newMod, newOK, err = g.mapVersion(r.New, r.Syntax); err != nil {
				return Result{}, err
			}
		}
		if !oldOK && !newOK {
			continue
		}
		r.Old, r.New = oldMod, newMod
		tokens := []string{modfile.AutoQuote(oldMod.Path)}
		if oldMod.Version != "" {
			tokens = append(tokens, oldMod.Version)
		}
		tokens = append(tokens, "=>", modfile.AutoQuote(newMod.Path))
		if newMod.Version != "" {
			tokens = append(tokens, newMod.Version)
		}
		setTokens(r.Syntax, "replace", tokens...)
	}
	for _, t := range f.Tool {
		if newPath, ok := m.Lookup(t.Path); ok {
			t.Path = newPath
			setTokens(t.Syntax, "tool", modfile.AutoQuote(newPath))
			g.changed = true
		}
	}
	if !g.changed {
		return Result{Src: data}, nil
	}
	if g.dropped {
		f.Cleanup()
	}
	out, err := f.Format()
	if err != nil {
		return Result{}, fmt.Errorf("%s: formatting rewritten go.mod: %w", filename, err)
	}
	if _, err := modfile.Parse(filename, out, nil); err != nil {
		return Result{}, fmt.Errorf("%s: rewritten go.mod does not parse: %w", filename, err)
	}
	return Result{Src: out, Edits: []edit.Edit{diffEdit(data, out)}}, nil
}

type gomod struct {
	m        *Mapping
	filename string
	changed  bool // a line was rewritten
	dropped  bool // a line was marked for removal by Cleanup
}

// drop marks a go.mod line for removal, as modfile's Drop methods do.
func (g *gomod) drop(line *modfile.Line) {
	line.Token = nil
	line.Comments.Suffix = nil
	g.changed, g.dropped = true, true
}

func (g *gomod) errorf(line *modfile.Line, format string, args ...any) error {
	pos := g.filename
	if line != nil {
		pos = fmt.Sprintf("%s:%d", g.filename, line.Start.Line)
	}
	return fmt.Errorf("%s: %s", pos, fmt.Sprintf(format, args...))
}

// mapVersion maps mod when its path is exactly a forked module path: the new
// path with its placeholder version, or no version if mod had none.
func (g *gomod) mapVersion(mod module.Version, line *modfile.Line) (module.Version, bool, error) {
	newPath, ok := g.m.Module(mod.Path)
	if !ok {
		return mod, false, nil
	}
	g.changed = true
	if mod.Version == "" {
		return module.Version{Path: newPath}, true, nil
	}
	v := PlaceholderVersion(newPath)
	if err := module.Check(newPath, v); err != nil {
		return mod, false, g.errorf(line, "mapping %s to %s: %v", mod.Path, newPath, err)
	}
	return module.Version{Path: newPath, Version: v}, true, nil
}

// setTokens sets the tokens of a go.mod line; verb is dropped inside a block.
func setTokens(line *modfile.Line, verb string, tokens ...string) {
	if line.InBlock {
		line.Token = tokens
		return
	}
	line.Token = append([]string{verb}, tokens...)
}

// diffEdit returns the single edit that turns old into new: the span
// between their common prefix and common suffix.
func diffEdit(old, new []byte) edit.Edit {
	p := 0
	for p < len(old) && p < len(new) && old[p] == new[p] {
		p++
	}
	s := 0
	for s < len(old)-p && s < len(new)-p && old[len(old)-1-s] == new[len(new)-1-s] {
		s++
	}
	return edit.Edit{Start: p, End: len(old) - s, New: string(new[p : len(new)-s])}
}

// PlaceholderVersion returns the pseudo-version a fork at newModulePath is
// required at: v0.0.0-00010101000000-000000000000, or vN.0.0-… for a path
// with a major version suffix (/vN, or .vN for gopkg.in paths). A forked
// gopkg.in/yaml.v3 under a prefix is no longer a gopkg.in path, so it gets v0.
func PlaceholderVersion(newModulePath string) string {
	major := "v0"
	if _, pathMajor, ok := module.SplitPathVersion(newModulePath); ok && pathMajor != "" {
		if p := module.PathMajorPrefix(pathMajor); p != "" {
			major = p
		}
	}
	return major + ".0.0-00010101000000-000000000000"
}

// UpstreamVersion returns the version a fork at newModulePath of an
// upstream module at version is required at: the upstream version itself
// wherever the fork's path allows it (module.Check: a path ending /vN takes
// only vN versions; any other path, a gopkg.in/....vN under a prefix among
// them, only v0 and v1), so that build information tells an upgraded fork
// from the old one; PlaceholderVersion otherwise (a v2+ upstream at a path
// without /vN, +incompatible, no version).
func UpstreamVersion(newModulePath, version string) string {
	if semver.IsValid(version) && semver.Build(version) == "" && module.Check(newModulePath, version) == nil {
		return version
	}
	return PlaceholderVersion(newModulePath)
}
