package sbom

import (
	"bytes"
	"io"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// cycloneDX writes the bill as CycloneDX 1.6 JSON. Each fork is a
// component whose pedigree's ancestor is its upstream module, and the
// upstream module is also a top-level component: scanners that ignore
// pedigree (Grype) still match it. The serial number is derived from the
// content and there is no timestamp, so the same host gives the same bytes.
func (b *Bill) cycloneDX(w io.Writer) error {
	bom := cdx.NewBOM()
	host := Module{Path: b.Host}
	bom.Metadata = &cdx.Metadata{
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{Type: cdx.ComponentTypeApplication, Name: "plugfork"}}},
		Component: &cdx.Component{
			BOMRef:     "pkg:golang/" + host.Path,
			Type:       cdx.ComponentTypeApplication,
			Name:       host.Path,
			PackageURL: "pkg:golang/" + host.Path,
		},
	}
	var comps []cdx.Component
	var deps []string
	for _, m := range b.Modules {
		comps = append(comps, component(m, true))
		deps = append(deps, purl(m))
	}
	for _, f := range b.Forks {
		fc := component(f.Module, true)
		fc.Pedigree = &cdx.Pedigree{
			Ancestors: &[]cdx.Component{component(f.Upstream, false)},
			Notes:     "A fork made by plugfork: the upstream module's source with its import paths moved under a private prefix; the code is the upstream version's.",
		}
		addProperties(&fc,
			cdx.Property{Name: "plugfork:upstream", Value: f.Upstream.Path + "@" + f.Upstream.Version},
			cdx.Property{Name: "plugfork:dir", Value: f.Dir})
		up := component(f.Upstream, true)
		up.Description = "Built into the host as its fork " + f.Path + " (" + f.Dir + ")."
		addProperties(&up, cdx.Property{Name: "plugfork:fork", Value: f.Path})
		comps = append(comps, fc, up)
		deps = append(deps, purl(f.Module))
	}
	if comps != nil {
		bom.Components = &comps
	}
	dep := cdx.Dependency{Ref: bom.Metadata.Component.BOMRef}
	if len(deps) > 0 {
		dep.Dependencies = &deps
	}
	bom.Dependencies = &[]cdx.Dependency{dep}

	// The serial number names the content: the BOM's bytes without it.
	var unsigned bytes.Buffer
	if err := encode(&unsigned, bom); err != nil {
		return err
	}
	bom.SerialNumber = "urn:uuid:" + uuid(contentID(unsigned.Bytes()))
	return encode(w, bom)
}

func encode(w io.Writer, bom *cdx.BOM) error {
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	enc.SetEscapeHTML(false)
	return enc.EncodeVersion(bom, cdx.SpecVersion1_6)
}

// component is a module as a library component; with ref, it carries a
// bom-ref (an ancestor in a pedigree does not: a bom-ref is unique in the
// BOM, and the upstream is also a top-level component).
func component(m Module, ref bool) cdx.Component {
	c := cdx.Component{Type: cdx.ComponentTypeLibrary, Name: m.Path, Version: m.Version, PackageURL: purl(m)}
	if ref {
		c.BOMRef = purl(m)
	}
	if h := sha256Hex(m.Sum); h != "" {
		c.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: h}}
		addProperties(&c, cdx.Property{Name: "golang:h1", Value: m.Sum})
	}
	return c
}

func addProperties(c *cdx.Component, props ...cdx.Property) {
	if c.Properties == nil {
		c.Properties = &[]cdx.Property{}
	}
	*c.Properties = append(*c.Properties, props...)
}
