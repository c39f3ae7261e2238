// Package sbom writes a forked host's software bill of materials in which
// each fork names the upstream module it was made from, so that scanners
// that know only upstream modules still see them.
package sbom

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/plugfork/plugfork/internal/hostmodel"
	"golang.org/x/mod/module"
)

// Module is one module version with its h1: hash ("" when unknown).
type Module struct {
	Path    string
	Version string
	Sum     string
}

// Fork is a forked module: the fork as the host requires it (its module
// path, the version go.mod gives it and the h1: hash of the forked tree)
// and the upstream module it was made from.
type Fork struct {
	Module
	Dir      string // slash-separated, relative to the host root
	Upstream Module
}

// Bill is what a bill of materials of a host says: the host module, the
// modules it requires that are not forks, and its forks.
type Bill struct {
	Host    string
	Modules []Module // sorted by path
	Forks   []Fork   // sorted by upstream path
}

// Read reads the bill of materials of the host module containing dir from
// its go.mod, go.sum and plugfork.lock: no go command, no network. A host
// without a lock has no forks.
func Read(dir string) (*Bill, error) {
	h, err := hostmodel.Find(dir)
	if err != nil {
		return nil, err
	}
	sums, err := readSums(filepath.Join(h.Root, "go.sum"))
	if err != nil {
		return nil, err
	}
	f := h.File
	// What builds in place of a module: a replacement module version.
	replaced := map[module.Version]module.Version{}
	for _, r := range f.Replace {
		if r.New.Version != "" {
			replaced[r.Old] = r.New
		}
	}
	b := &Bill{Host: h.Path}
	for _, r := range f.Require {
		if fk := h.ForkModule(r.Mod.Path); fk != nil {
			b.Forks = append(b.Forks, Fork{
				Module:   Module{Path: fk.ForkPath, Version: r.Mod.Version, Sum: fk.TreeHash},
				Dir:      fk.ForkDir,
				Upstream: Module{Path: fk.Path, Version: fk.Version, Sum: fk.Sum},
			})
			continue
		}
		m := r.Mod
		if n, ok := replaced[m]; ok {
			m = n
		} else if n, ok := replaced[module.Version{Path: m.Path}]; ok {
			m = n
		}
		b.Modules = append(b.Modules, Module{Path: m.Path, Version: m.Version, Sum: sums[m]})
	}
	slices.SortFunc(b.Modules, func(a, b Module) int { return strings.Compare(a.Path+" "+a.Version, b.Path+" "+b.Version) })
	b.Modules = slices.Compact(b.Modules)
	slices.SortFunc(b.Forks, func(a, b Fork) int { return strings.Compare(a.Upstream.Path, b.Upstream.Path) })
	return b, nil
}

// readSums returns the h1: hashes of module trees in a go.sum (not of
// go.mod files); none when there is no go.sum.
func readSums(name string) (map[module.Version]string, error) {
	data, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	sums := map[module.Version]string{}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || strings.HasSuffix(f[1], "/go.mod") {
			continue
		}
		sums[module.Version{Path: f[0], Version: f[1]}] = f[2]
	}
	return sums, nil
}

// Format is a bill of materials format.
type Format string

// The formats plugfork writes.
const (
	CycloneDX Format = "cyclonedx" // CycloneDX 1.6 JSON
	SPDX      Format = "spdx"      // SPDX 2.3 JSON
)

// Options are what a bill's writer needs beyond the bill.
type Options struct {
	// Created is the SPDX document's creation time (RFC 3339), which
	// SPDX requires; "" is the Unix epoch, so the same host gives the same
	// bytes. CycloneDX's timestamp is optional and left out.
	Created string
}

// Write writes the bill in the format.
func (b *Bill) Write(w io.Writer, format Format, opts Options) error {
	var buf bytes.Buffer
	var err error
	switch format {
	case CycloneDX:
		err = b.cycloneDX(&buf)
	case SPDX:
		err = b.spdx(&buf, opts)
	default:
		return fmt.Errorf("unknown format %q (want %s or %s)", format, CycloneDX, SPDX)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// purl is the package URL of a Go module version.
func purl(m Module) string {
	return "pkg:golang/" + m.Path + "@" + strings.ReplaceAll(m.Version, "+", "%2B")
}

// sha256Hex returns the SHA-256 of an h1: hash in hex, the form both
// formats take; "" for any other hash.
func sha256Hex(sum string) string {
	b64, ok := strings.CutPrefix(sum, "h1:")
	if !ok {
		return ""
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != sha256.Size {
		return ""
	}
	return hex.EncodeToString(raw)
}

// contentID returns a stable identifier of data: the same bill, the same
// identifier.
func contentID(data []byte) [16]byte {
	h := sha256.Sum256(data)
	var id [16]byte
	copy(id[:], h[:])
	id[6] = id[6]&0x0f | 0x50 // version 5: name-based, SHA
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	return id
}

func uuid(id [16]byte) string {
	h := hex.EncodeToString(id[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
