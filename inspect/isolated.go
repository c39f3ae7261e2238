package inspect

import (
	"strings"

	"github.com/plugfork/plugfork/internal/pkgpath"
)

// IsolatedRoot is the first element of every private import path of a
// plugin built by plugfork plugin build --isolate:
// <IsolatedRoot>/<id>/<module path>. It names no server.
const IsolatedRoot = "plugfork.isolated"

// Isolated is what an isolated plugin's build information says of its
// private copies.
type Isolated struct {
	ID     string         `json:"id"`     // its own packages' private id
	Module string         `json:"module"` // its own module, upstream
	Copies []IsolatedCopy `json:"copies"` // the other modules it links privately, by private path
}

// IsolatedCopy is a module an isolated plugin links under a private path.
type IsolatedCopy struct {
	Module  string `json:"module"`            // the upstream module
	Version string `json:"version,omitempty"` // its version; "" when the build information cannot say
	Path    string `json:"path"`              // the private module path
}

// isolation returns what the build information of b says of its private
// copies; nil for a binary not built isolated.
func isolation(b *Binary) *Isolated {
	id, mod, ok := privatePath(b.Main.Path)
	if !ok {
		return nil
	}
	iso := &Isolated{ID: id, Module: mod}
	for _, m := range b.Modules {
		if _, up, ok := privatePath(m.Path); ok {
			v := m.Version
			if strings.HasSuffix(v, "-00010101000000-000000000000") {
				v = "" // a placeholder: the copy's own version was not valid for its path
			}
			iso.Copies = append(iso.Copies, IsolatedCopy{Module: up, Version: v, Path: m.Path})
		}
	}
	return iso
}

// privatePath splits an isolated plugin's private module path into its id
// and the upstream module path.
func privatePath(p string) (id, upstream string, ok bool) {
	if !pkgpath.Within(p, IsolatedRoot) {
		return "", "", false
	}
	rest := strings.TrimPrefix(p, IsolatedRoot+"/")
	id, upstream, ok = strings.Cut(rest, "/")
	return id, upstream, ok && id != "" && upstream != ""
}

// Summary says, in one line, which modules the isolated plugin links
// privately.
func (iso *Isolated) Summary() string {
	var mods []string
	for _, c := range iso.Copies {
		mods = append(mods, strings.TrimSpace(c.Module+" "+c.Version))
	}
	s := "isolated build of " + iso.Module
	if len(mods) > 0 {
		s += "; private copies: " + strings.Join(mods, ", ")
	}
	return s
}
