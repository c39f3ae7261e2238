// Package built is what plugfork knows of a built host binary beyond its
// source: inspect reads it from the binary, fork's check judges the host's
// forks against it. Neither imports the other; both import this.
package built

// Host is a built host binary.
type Host struct {
	Name     string            // the binary, as the user named it
	Ldflags  string            // the -ldflags it was built with
	Trimpath bool              // built with -trimpath, as the lock's fingerprints are taken
	Platform string            // GOOS/GOARCH it was built for
	Packages map[string]string // every linked package's fingerprint, by import path
}

// Links reports whether the host links the package path.
func (h *Host) Links(path string) bool {
	_, ok := h.Packages[path]
	return ok
}
