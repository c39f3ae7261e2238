package inspect

import (
	"cmp"
	"debug/buildinfo"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/plugfork/plugfork/internal/built"
)

// Kind says what a binary is.
type Kind string

// Kinds of Binary.
const (
	KindHost   Kind = "host"   // an executable that can load plugins
	KindPlugin Kind = "plugin" // a -buildmode=plugin shared object
)

// Binary is what inspect reads from one Go ELF binary.
type Binary struct {
	Path       string    `json:"path"`
	Kind       Kind      `json:"kind"`                  // KindHost or KindPlugin
	GOOS       string    `json:"goos"`                  // from the ELF header
	GOARCH     string    `json:"goarch"`                // from the ELF header
	GoVersion  string    `json:"go_version"`            // the toolchain that built it ("go1.26.8")
	PluginPath string    `json:"plugin_path,omitempty"` // plugins: the path plugin.Open knows them by
	Stripped   bool      `json:"stripped"`              // no .symtab
	Main       Module    `json:"main"`                  // the main module
	Modules    []Module  `json:"modules,omitempty"`     // the other modules, sorted by path
	Settings   []Setting `json:"settings,omitempty"`    // build settings, as go version -m prints them
	Packages   []Package `json:"packages"`              // linked packages: hosts sorted by path, plugins in table order
	// Isolated is what an isolated plugin's build information says of
	// its private copies; nil for other binaries.
	Isolated *Isolated `json:"isolated,omitempty"`

	file    string // the real path of the file read, to tell files apart
	hostErr error  // why a program cannot load plugins
}

// Module is a module linked into a binary.
type Module struct {
	Path    string  `json:"path"`
	Version string  `json:"version,omitempty"`
	Sum     string  `json:"sum,omitempty"`
	Replace *Module `json:"replace,omitempty"`
}

// Setting is one build setting (key "-trimpath", value "true").
type Setting struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Package is a linked package and its 8-byte export fingerprint, in hex.
type Package struct {
	Path        string `json:"path"`
	Fingerprint string `json:"fingerprint"`
}

// Setting returns the value of the build setting key, "" when unset.
func (b *Binary) Setting(key string) string {
	for _, s := range b.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}

// Fingerprint returns the fingerprint of the linked package path.
func (b *Binary) Fingerprint(path string) (string, bool) {
	for _, p := range b.Packages {
		if p.Path == path {
			return p.Fingerprint, true
		}
	}
	return "", false
}

// ModuleOf returns the module that provides package path: the module with
// the longest path that is path or a whole-segment prefix of it. Standard
// library packages have none.
func (b *Binary) ModuleOf(path string) (Module, bool) {
	var best Module
	found := false
	for _, m := range append([]Module{b.Main}, b.Modules...) {
		if m.Path == "" || len(m.Path) <= len(best.Path) {
			continue
		}
		if path == m.Path || strings.HasPrefix(path, m.Path+"/") {
			best, found = m, true
		}
	}
	return best, found
}

// An Error is a binary inspect cannot judge: not ELF, not Go, truncated,
// corrupt, a host that cannot load plugins, a plugin that is not one.
type Error struct {
	Path string
	Err  error
}

func (e *Error) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ReadFile reads the Go binary at path.
func ReadFile(path string) (*Binary, error) { return ReadFileIn("", path) }

// ReadFileIn reads the Go binary name, a path relative to dir unless it is
// absolute (dir "" is the working directory). The binary and the errors, all
// *Error, name it as given.
func ReadFileIn(dir, name string) (*Binary, error) {
	path := name
	if dir != "" && !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &Error{Path: name, Err: err}
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, &Error{Path: name, Err: errors.New("is a directory, not a built Go program: name the binary file")}
	}
	b, err := Read(f)
	if err != nil {
		var ie *Error
		if errors.As(err, &ie) {
			ie.Path = name
			return nil, ie
		}
		return nil, &Error{Path: name, Err: err}
	}
	b.Path = name
	b.file = realPath(path)
	return b, nil
}

// HostError says why b cannot be the host that loads plugins: it is a
// plugin, or a program that cannot load them (built with CGO_ENABLED=0, or
// not linking package plugin). It is nil for a host that can.
func (b *Binary) HostError() error {
	switch {
	case b.Kind != KindHost:
		return &Error{Path: b.Path, Err: errors.New("not a host: it is a plugin (built with -buildmode=plugin)")}
	case b.hostErr != nil:
		return &Error{Path: b.Path, Err: b.hostErr}
	}
	return nil
}

// Built returns what fork's check judges of a host binary.
func (b *Binary) Built() *built.Host {
	h := &built.Host{
		Name:     b.Path,
		Ldflags:  b.Setting("-ldflags"),
		Trimpath: b.Setting("-trimpath") == "true",
		Platform: b.GOOS + "/" + b.GOARCH,
		Packages: make(map[string]string, len(b.Packages)),
	}
	for _, p := range b.Packages {
		h.Packages[p.Path] = p.Fingerprint
	}
	return h
}

// Read reads a Go binary, a host or a plugin, from r. Its errors are *Error.
// A program that cannot load plugins reads as a host without packages:
// Check says why it cannot load them.
func Read(r io.ReaderAt) (b *Binary, err error) {
	defer func() {
		if err != nil {
			b = nil
			if _, ok := err.(*Error); !ok {
				err = &Error{Path: "binary", Err: err}
			}
		}
	}()
	var magic [4]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil || string(magic[:]) != elf.ELFMAG {
		return nil, errors.New("not an ELF file")
	}
	f, err := elf.NewFile(r)
	if err != nil {
		var fe *elf.FormatError
		if errors.As(err, &fe) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("corrupt ELF file: %w", err)
		}
		return nil, err
	}
	x, err := newImage(f)
	if err != nil {
		return nil, err
	}
	b = &Binary{GOOS: goos(f), GOARCH: goarch(f)}
	bi, err := buildinfo.Read(r)
	if err != nil {
		return nil, fmt.Errorf("not a Go binary (no Go build information): %w", err)
	}
	b.setBuildInfo(bi)
	b.Stripped = f.Section(".symtab") == nil

	if b.Setting("-buildmode") == "plugin" {
		b.Kind = KindPlugin
		if f.Type != elf.ET_DYN {
			return nil, errors.New("corrupt plugin: built with -buildmode=plugin but not a shared object")
		}
		if err := x.readPluginTable(b); err != nil {
			return nil, err
		}
		return b, nil
	}
	switch mode := b.Setting("-buildmode"); mode {
	case "", "exe", "pie":
	default:
		return nil, fmt.Errorf("built with -buildmode=%s: neither a program that can load plugins nor a plugin", mode)
	}
	b.Kind = KindHost
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return nil, fmt.Errorf("not an executable (ELF type %v)", f.Type)
	}
	if err := x.readHostHashes(b); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *Binary) setBuildInfo(bi *buildinfo.BuildInfo) {
	b.GoVersion = bi.GoVersion
	b.Main = module(&bi.Main)
	for _, d := range bi.Deps {
		b.Modules = append(b.Modules, module(d))
	}
	slices.SortFunc(b.Modules, func(x, y Module) int { return cmp.Compare(x.Path, y.Path) })
	for _, s := range bi.Settings {
		b.Settings = append(b.Settings, Setting{s.Key, s.Value})
	}
	b.Isolated = isolation(b)
}

func module(m *debug.Module) Module {
	mod := Module{Path: m.Path, Version: m.Version, Sum: m.Sum}
	if m.Replace != nil {
		r := module(m.Replace)
		mod.Replace = &r
	}
	return mod
}

func goos(f *elf.File) string {
	switch f.OSABI {
	case elf.ELFOSABI_FREEBSD:
		return "freebsd"
	case elf.ELFOSABI_OPENBSD:
		return "openbsd"
	case elf.ELFOSABI_NETBSD:
		return "netbsd"
	}
	return "linux"
}

func goarch(f *elf.File) string {
	switch f.Machine {
	case elf.EM_X86_64:
		return "amd64"
	case elf.EM_386:
		return "386"
	case elf.EM_AARCH64:
		return "arm64"
	case elf.EM_ARM:
		return "arm"
	case elf.EM_PPC64:
		if f.Data == elf.ELFDATA2LSB {
			return "ppc64le"
		}
		return "ppc64"
	case elf.EM_RISCV:
		return "riscv64"
	case elf.EM_S390:
		return "s390x"
	case elf.EM_LOONGARCH:
		return "loong64"
	case elf.EM_MIPS:
		return "mips"
	}
	return f.Machine.String()
}

// image reads the memory image of an ELF file: the file's bytes at virtual
// addresses, with the words that the dynamic linker fills in.
type image struct {
	f       *elf.File
	ptrSize int
	order   binary.ByteOrder
	dynsyms []elf.Symbol // nil until loaded
	relocs  []reloc      // dynamic relocations with an addend, by offset; nil until loaded
}

// reloc is a dynamic relocation of one pointer-sized word.
type reloc struct {
	off    uint64
	sym    uint32 // index into dynsyms + 1; 0 for a relative relocation
	addend int64
}

func newImage(f *elf.File) (*image, error) {
	x := &image{f: f, order: f.ByteOrder}
	switch f.Class {
	case elf.ELFCLASS64:
		x.ptrSize = 8
	case elf.ELFCLASS32:
		x.ptrSize = 4
	default:
		return nil, fmt.Errorf("corrupt ELF header: class %v", f.Class)
	}
	if x.order == nil {
		return nil, errors.New("corrupt ELF header: unknown byte order")
	}
	return x, nil
}

// maxString bounds the strings read from a binary (package paths).
const maxString = 4096

// read returns the n bytes at virtual address addr.
func (x *image) read(addr uint64, n int) ([]byte, error) {
	for _, s := range x.f.Sections {
		if s.Flags&elf.SHF_ALLOC == 0 || s.Type == elf.SHT_NOBITS || addr < s.Addr || addr-s.Addr >= s.Size {
			continue
		}
		if s.Size-(addr-s.Addr) < uint64(n) {
			break
		}
		buf := make([]byte, n)
		if _, err := s.ReadAt(buf, int64(addr-s.Addr)); err != nil {
			return nil, fmt.Errorf("truncated file: reading %d bytes at %#x: %w", n, addr, err)
		}
		return buf, nil
	}
	return nil, fmt.Errorf("corrupt binary: no data at address %#x", addr)
}

// word returns the pointer-sized word at addr as the program sees it after
// dynamic relocation (relative relocations only; symbol relocations are
// reported by symbolAt).
func (x *image) word(addr uint64) (uint64, error) {
	if r, ok := x.relocAt(addr); ok && r.sym == 0 {
		return uint64(r.addend), nil
	}
	b, err := x.read(addr, x.ptrSize)
	if err != nil {
		return 0, err
	}
	if x.ptrSize == 8 {
		return x.order.Uint64(b), nil
	}
	return uint64(x.order.Uint32(b)), nil
}

// goString reads the Go string header {ptr, len} at addr and its bytes.
func (x *image) goString(addr uint64) (string, error) {
	p, err := x.word(addr)
	if err != nil {
		return "", err
	}
	n, err := x.word(addr + uint64(x.ptrSize))
	if err != nil {
		return "", err
	}
	if n > maxString {
		return "", fmt.Errorf("corrupt binary: string of %d bytes at %#x", n, addr)
	}
	b, err := x.read(p, int(n))
	return string(b), err
}

func (x *image) loadDynsyms() error {
	if x.dynsyms != nil {
		return nil
	}
	syms, err := x.f.DynamicSymbols()
	if err != nil {
		if errors.Is(err, elf.ErrNoSymbols) {
			x.dynsyms = []elf.Symbol{}
			return nil
		}
		return fmt.Errorf("reading dynamic symbols: %w", err)
	}
	x.dynsyms = syms
	return nil
}

// relativeType and absType are the relocation types, per machine, of a
// word set to load address + addend and to a symbol's address + addend.
var relativeType = map[elf.Machine][2]uint32{
	elf.EM_X86_64:    {uint32(elf.R_X86_64_RELATIVE), uint32(elf.R_X86_64_64)},
	elf.EM_AARCH64:   {uint32(elf.R_AARCH64_RELATIVE), uint32(elf.R_AARCH64_ABS64)},
	elf.EM_PPC64:     {uint32(elf.R_PPC64_RELATIVE), uint32(elf.R_PPC64_ADDR64)},
	elf.EM_RISCV:     {uint32(elf.R_RISCV_RELATIVE), uint32(elf.R_RISCV_64)},
	elf.EM_S390:      {uint32(elf.R_390_RELATIVE), uint32(elf.R_390_64)},
	elf.EM_LOONGARCH: {uint32(elf.R_LARCH_RELATIVE), uint32(elf.R_LARCH_64)},
}

// loadRelocs reads the dynamic relocations (SHT_RELA sections) of the
// words the Go linker's tables use.
func (x *image) loadRelocs() error {
	if x.relocs != nil {
		return nil
	}
	x.relocs = []reloc{}
	types, ok := relativeType[x.f.Machine]
	if !ok || x.ptrSize != 8 {
		return nil
	}
	for _, s := range x.f.Sections {
		if s.Type != elf.SHT_RELA || s.Flags&elf.SHF_ALLOC == 0 {
			continue
		}
		data, err := s.Data()
		if err != nil {
			return fmt.Errorf("reading %s: %w", s.Name, err)
		}
		for ; len(data) >= 24; data = data[24:] {
			off := x.order.Uint64(data)
			info := x.order.Uint64(data[8:])
			addend := int64(x.order.Uint64(data[16:]))
			switch uint32(info) {
			case types[0]:
				x.relocs = append(x.relocs, reloc{off: off, addend: addend})
			case types[1]:
				if sym := uint32(info >> 32); sym != 0 {
					x.relocs = append(x.relocs, reloc{off: off, sym: sym, addend: addend})
				}
			}
		}
	}
	slices.SortFunc(x.relocs, func(a, b reloc) int { return cmp.Compare(a.off, b.off) })
	return nil
}

func (x *image) relocAt(addr uint64) (reloc, bool) {
	i, ok := slices.BinarySearchFunc(x.relocs, addr, func(r reloc, a uint64) int { return cmp.Compare(r.off, a) })
	if !ok {
		return reloc{}, false
	}
	return x.relocs[i], true
}

const (
	pkghashPrefix      = "go:link.pkghash."
	pkghashbytesPrefix = "go:link.pkghashbytes."
	fingerprintSize    = 8
)

// readHostHashes reads the fingerprints a host exports to its plugins.
func (x *image) readHostHashes(b *Binary) error {
	if err := x.loadDynsyms(); err != nil {
		return err
	}
	for _, s := range x.dynsyms {
		pkg, ok := strings.CutPrefix(s.Name, pkghashbytesPrefix)
		if !ok || s.Section == elf.SHN_UNDEF {
			continue
		}
		h, err := x.read(s.Value, fingerprintSize)
		if err != nil {
			return fmt.Errorf("reading the fingerprint of %s: %w", pkg, err)
		}
		b.Packages = append(b.Packages, Package{Path: pkg, Fingerprint: hex.EncodeToString(h)})
	}
	if len(b.Packages) == 0 {
		if b.Setting("CGO_ENABLED") == "0" {
			b.hostErr = errors.New("this host cannot load plugins: built with CGO_ENABLED=0 (plugin.Open returns \"plugin: not implemented\"); build it with CGO_ENABLED=1")
		} else {
			b.hostErr = errors.New("this host cannot load plugins: it does not link package plugin (no go:link.pkghash symbols)")
		}
		return nil
	}
	slices.SortFunc(b.Packages, func(p, q Package) int { return cmp.Compare(p.Path, q.Path) })
	b.Packages = slices.CompactFunc(b.Packages, func(p, q Package) bool { return p.Path == q.Path })
	return nil
}

// readPluginTable reads a plugin's path and its table of link-time
// fingerprints, go:link.pkghashes: entries of {name string, linktimehash
// string, runtimehash *string} (cmd/link/internal/ld/symtab.go), where
// runtimehash points at the go:link.pkghash.<pkg> symbol, which the dynamic
// linker binds to the first definition in global scope.
func (x *image) readPluginTable(b *Binary) error {
	if err := x.loadDynsyms(); err != nil {
		return err
	}
	if err := x.loadRelocs(); err != nil {
		return err
	}
	// The table's runtimehash words are exactly the symbol relocations
	// against go:link.pkghash.<pkg>; each entry starts 4 words before.
	esize := uint64(5 * x.ptrSize)
	var start, end uint64
	for _, r := range x.relocs {
		if r.sym == 0 || int(r.sym) > len(x.dynsyms) {
			continue
		}
		pkg, ok := strings.CutPrefix(x.dynsyms[r.sym-1].Name, pkghashPrefix)
		if !ok {
			continue
		}
		entry := r.off - 4*uint64(x.ptrSize)
		if len(b.Packages) > 0 && entry != end {
			return fmt.Errorf("corrupt plugin: go:link.pkghashes entry for %s at %#x, want %#x", pkg, entry, end)
		}
		if len(b.Packages) == 0 {
			start = entry
		}
		end = entry + esize
		name, err := x.goString(entry)
		if err != nil {
			return fmt.Errorf("reading go:link.pkghashes: %w", err)
		}
		if name != pkg {
			return fmt.Errorf("corrupt plugin: go:link.pkghashes entry %q refers to the fingerprint of %q", name, pkg)
		}
		h, err := x.goString(entry + 2*uint64(x.ptrSize))
		if err != nil {
			return fmt.Errorf("reading go:link.pkghashes: %w", err)
		}
		if len(h) != fingerprintSize {
			return fmt.Errorf("corrupt plugin: fingerprint of %s has %d bytes", pkg, len(h))
		}
		b.Packages = append(b.Packages, Package{Path: pkg, Fingerprint: hex.EncodeToString([]byte(h))})
	}
	if len(b.Packages) == 0 {
		if _, ok := relativeType[x.f.Machine]; !ok || x.ptrSize != 8 {
			return fmt.Errorf("reading plugins for %s is not supported", goarch(x.f))
		}
		return errors.New("not a loadable plugin: no table of package fingerprints (go:link.pkghashes)")
	}
	path, err := x.pluginPath(start, uint64(len(b.Packages)))
	if err != nil {
		return err
	}
	b.PluginPath = path
	return nil
}

// pluginPath reads the plugin path from the plugin's moduledata (section
// .go.module), where the pluginpath string immediately precedes the pkghashes
// slice {table, n, n}.
func (x *image) pluginPath(table, n uint64) (string, error) {
	s := x.f.Section(".go.module")
	if s == nil || s.Type == elf.SHT_NOBITS {
		return "", errors.New("corrupt plugin: no .go.module section")
	}
	if s.Size > 1<<16 {
		return "", fmt.Errorf("corrupt plugin: .go.module section of %d bytes", s.Size)
	}
	w := uint64(x.ptrSize)
	for off := 2 * w; off+3*w <= s.Size; off += w {
		addr := s.Addr + off
		if p, err := x.word(addr); err != nil || p != table {
			continue
		}
		l, err1 := x.word(addr + w)
		c, err2 := x.word(addr + 2*w)
		if err1 != nil || err2 != nil || l != n || c != n {
			continue
		}
		path, err := x.goString(addr - 2*w)
		if err != nil {
			return "", fmt.Errorf("reading the plugin path: %w", err)
		}
		if path == "" {
			return "", errors.New("corrupt plugin: empty plugin path")
		}
		return path, nil
	}
	return "", errors.New("corrupt plugin: no pkghashes slice in its module data")
}
