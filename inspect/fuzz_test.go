package inspect

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
)

// synthPackages are the packages of the synthetic binaries.
var synthPackages = []Package{
	{Path: "runtime", Fingerprint: "0102030405060708"},
	{Path: "example.com/dep", Fingerprint: "1112131415161718"},
	{Path: "example.com/plugin", Fingerprint: "2122232425262728"},
}

// synthELF returns a small ELF64 file laid out as the Go linker lays out a
// host (the go:link.pkghashbytes.* dynamic symbols) or a plugin
// (go:link.pkghashes reached through dynamic relocations, the plugin path
// in .go.module), with build information: a seed for FuzzRead that is
// small enough to mutate well.
func synthELF(plugin bool) []byte {
	le := binary.LittleEndian
	type section struct {
		name        string
		typ         elf.SectionType
		flags       elf.SectionFlag
		data        []byte
		link, entsz uint32
	}
	// Addresses equal file offsets: sections follow the 64-byte header,
	// each at a fixed base so that their contents can refer to each other.
	const (
		rodata  = 0x100
		relro   = 0x200
		module  = 0x300
		binfo   = 0x380
		dynstrA = 0x500
	)
	var ro, rel, mod, dynstr, dynsym, rela bytes.Buffer
	word := func(b *bytes.Buffer, v uint64) { b.Write(le.AppendUint64(nil, v)) }
	dynstr.WriteByte(0)
	dynsym.Write(make([]byte, 24))
	addSym := func(name string, value uint64) uint32 {
		var s [24]byte
		le.PutUint32(s[0:], uint32(dynstr.Len()))
		s[4] = byte(elf.STB_GLOBAL)<<4 | byte(elf.STT_OBJECT)
		le.PutUint16(s[6:], 2) // .rodata or .data.rel.ro: any defined section
		le.PutUint64(s[8:], value)
		le.PutUint64(s[16:], 16)
		dynstr.WriteString(name)
		dynstr.WriteByte(0)
		dynsym.Write(s[:])
		return uint32(dynsym.Len()/24 - 1)
	}
	addRela := func(off uint64, sym uint32, typ elf.R_X86_64, addend uint64) {
		word(&rela, off)
		word(&rela, uint64(sym)<<32|uint64(typ))
		word(&rela, addend)
	}
	str := func(s string) uint64 { a := uint64(rodata + ro.Len()); ro.WriteString(s); return a }
	for _, p := range synthPackages {
		h := parseFingerprint(p.Fingerprint)
		hashAddr := str(string(h))
		if !plugin {
			addSym("go:link.pkghashbytes."+p.Path, hashAddr)
			continue
		}
		// The plugin's own definition of go:link.pkghash.<pkg>.
		def := uint64(relro + 0x80 + rel.Len()/40*16)
		sym := addSym("go:link.pkghash."+p.Path, def)
		entry := uint64(relro + rel.Len())
		name := str(p.Path)
		addRela(entry, 0, elf.R_X86_64_RELATIVE, name)
		word(&rel, 0)
		word(&rel, uint64(len(p.Path)))
		addRela(entry+16, 0, elf.R_X86_64_RELATIVE, hashAddr)
		word(&rel, 0)
		word(&rel, 8)
		addRela(entry+32, sym, elf.R_X86_64_64, 0)
		word(&rel, 0)
	}
	var modSections []section
	if plugin {
		path := str("example.com/plugin")
		word(&mod, 0)
		word(&mod, 0)
		addRela(module+16, 0, elf.R_X86_64_RELATIVE, path)
		word(&mod, 0)
		word(&mod, uint64(len("example.com/plugin")))
		word(&mod, relro)
		word(&mod, uint64(len(synthPackages)))
		word(&mod, uint64(len(synthPackages)))
		modSections = append(modSections, section{".go.module", elf.SHT_PROGBITS, elf.SHF_ALLOC | elf.SHF_WRITE, mod.Bytes(), 0, 0})
	}
	modinfo := "path\texample.com/plugin\nmod\texample.com/plugin\t(devel)\t\ndep\texample.com/dep\tv1.0.0\th1:x=\nbuild\t-trimpath=true\n"
	if plugin {
		modinfo += "build\t-buildmode=plugin\n"
	}
	modinfo = "0123456789abcdef" + modinfo + "0123456789abcdef"
	bi := []byte("\xff Go buildinf:\x08\x02")
	bi = append(bi, make([]byte, 16)...)
	bi = binary.AppendUvarint(bi, uint64(len("go1.26.8")))
	bi = append(bi, "go1.26.8"...)
	bi = binary.AppendUvarint(bi, uint64(len(modinfo)))
	bi = append(bi, modinfo...)

	sections := []section{
		{".rodata", elf.SHT_PROGBITS, elf.SHF_ALLOC, ro.Bytes(), 0, 0},
		{".data.rel.ro", elf.SHT_PROGBITS, elf.SHF_ALLOC | elf.SHF_WRITE, rel.Bytes(), 0, 0},
	}
	sections = append(sections, modSections...)
	sections = append(sections,
		section{".go.buildinfo", elf.SHT_PROGBITS, elf.SHF_ALLOC | elf.SHF_WRITE, bi, 0, 0},
		section{".dynstr", elf.SHT_STRTAB, elf.SHF_ALLOC, dynstr.Bytes(), 0, 0},
		section{".dynsym", elf.SHT_DYNSYM, elf.SHF_ALLOC, dynsym.Bytes(), 0, 24}, // link fixed below
		section{".rela.dyn", elf.SHT_RELA, elf.SHF_ALLOC, rela.Bytes(), 0, 24},
	)
	addrs := map[string]uint64{".rodata": rodata, ".data.rel.ro": relro, ".go.module": module, ".go.buildinfo": binfo, ".dynstr": dynstrA}
	next := uint64(0x600)
	var shstr bytes.Buffer
	shstr.WriteByte(0)
	out := make([]byte, 64+56)
	type shdr struct {
		name            uint32
		s               section
		addr, off, size uint64
	}
	var hdrs []shdr
	for _, s := range sections {
		a, ok := addrs[s.name]
		if !ok {
			a = next
			next += 0x100 + uint64(len(s.data))&^0xff
		}
		if uint64(len(out)) < a {
			out = append(out, make([]byte, a-uint64(len(out)))...)
		}
		out = append(out, s.data...)
		hdrs = append(hdrs, shdr{uint32(shstr.Len()), s, a, a, uint64(len(s.data))})
		shstr.WriteString(s.name)
		shstr.WriteByte(0)
	}
	shstrName := uint32(shstr.Len())
	shstr.WriteString(".shstrtab\x00")
	shstrOff := uint64(len(out))
	out = append(out, shstr.Bytes()...)
	for len(out)%8 != 0 {
		out = append(out, 0)
	}
	shoff := uint64(len(out))
	idx := func(name string) uint32 {
		return uint32(slices.IndexFunc(hdrs, func(h shdr) bool { return h.s.name == name }) + 1)
	}
	out = append(out, make([]byte, 64)...) // the null section
	for _, h := range hdrs {
		var b [64]byte
		le.PutUint32(b[0:], h.name)
		le.PutUint32(b[4:], uint32(h.s.typ))
		le.PutUint64(b[8:], uint64(h.s.flags))
		le.PutUint64(b[16:], h.addr)
		le.PutUint64(b[24:], h.off)
		le.PutUint64(b[32:], h.size)
		switch h.s.typ {
		case elf.SHT_DYNSYM:
			le.PutUint32(b[40:], idx(".dynstr"))
			le.PutUint32(b[44:], 1)
		case elf.SHT_RELA:
			le.PutUint32(b[40:], idx(".dynsym"))
		}
		le.PutUint64(b[48:], 8)
		le.PutUint64(b[56:], uint64(h.s.entsz))
		out = append(out, b[:]...)
	}
	var sh [64]byte
	le.PutUint32(sh[0:], shstrName)
	le.PutUint32(sh[4:], uint32(elf.SHT_STRTAB))
	le.PutUint64(sh[24:], shstrOff)
	le.PutUint64(sh[32:], uint64(shstr.Len()))
	le.PutUint64(sh[48:], 1)
	out = append(out, sh[:]...)

	h := out[:64]
	copy(h, elf.ELFMAG)
	h[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	typ := elf.ET_EXEC
	if plugin {
		typ = elf.ET_DYN
	}
	le.PutUint16(h[16:], uint16(typ))
	le.PutUint16(h[18:], uint16(elf.EM_X86_64))
	le.PutUint32(h[20:], uint32(elf.EV_CURRENT))
	le.PutUint64(h[32:], 64) // one PT_LOAD program header, mapping the whole file
	ph := out[64 : 64+56]
	le.PutUint32(ph[0:], uint32(elf.PT_LOAD))
	le.PutUint32(ph[4:], uint32(elf.PF_R|elf.PF_W))
	le.PutUint64(ph[32:], uint64(len(out)))
	le.PutUint64(ph[40:], uint64(len(out)))
	le.PutUint64(h[40:], shoff)
	le.PutUint16(h[54:], 56)
	le.PutUint16(h[56:], 1)
	le.PutUint16(h[52:], 64)
	le.PutUint16(h[58:], 64)
	le.PutUint16(h[60:], uint16(len(hdrs)+2))
	le.PutUint16(h[62:], uint16(len(hdrs)+1))
	return out
}

func parseFingerprint(s string) []byte {
	b := make([]byte, len(s)/2)
	for i := range b {
		b[i] = hexVal(s[2*i])<<4 | hexVal(s[2*i+1])
	}
	return b
}

func hexVal(c byte) byte {
	if c >= 'a' {
		return c - 'a' + 10
	}
	return c - '0'
}

// TestReadSynthetic checks the fuzz seeds: both read as what they mimic.
func TestReadSynthetic(t *testing.T) {
	for _, plugin := range []bool{false, true} {
		b, err := Read(bytes.NewReader(synthELF(plugin)))
		if err != nil {
			t.Fatalf("plugin=%v: %v", plugin, err)
		}
		want := slices.Clone(synthPackages)
		if !plugin {
			slices.SortFunc(want, func(p, q Package) int { return strings.Compare(p.Path, q.Path) })
		}
		if !slices.Equal(b.Packages, want) {
			t.Errorf("plugin=%v: packages %v, want %v", plugin, b.Packages, want)
		}
		if plugin && b.PluginPath != "example.com/plugin" {
			t.Errorf("plugin path %q", b.PluginPath)
		}
		if b.GoVersion != "go1.26.8" || b.Setting("-trimpath") != "true" {
			t.Errorf("build info: %s %v", b.GoVersion, b.Settings)
		}
	}
}

// FuzzRead feeds corrupt binaries to the readers: they return errors, never
// panic, and never allocate more than the input justifies.
func FuzzRead(f *testing.F) {
	f.Add(synthELF(false))
	f.Add(synthELF(true))
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Read(bytes.NewReader(data))
		if err == nil && b == nil || err != nil && b != nil {
			t.Fatalf("Read = %v, %v", b, err)
		}
		if err != nil {
			return
		}
		// Judge the binary against itself: no panic either.
		if b.Kind == KindHost {
			CheckBinaries(b)
		} else {
			CheckBinaries(&Binary{Kind: KindHost, GOOS: b.GOOS, GOARCH: b.GOARCH, GoVersion: b.GoVersion, Packages: b.Packages[:len(b.Packages)/2]}, b, b)
		}
	})
}
