package sbom

import (
	"bytes"
	"io"
	"strings"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"
)

// epoch is the creation time of a document when none is given: SPDX
// requires one, and a clock would make every run's bytes differ.
const epoch = "1970-01-01T00:00:00Z"

// spdx writes the bill as SPDX 2.3 JSON: the host DEPENDS_ON each module
// and fork, each fork is DESCENDANT_OF its upstream module (made from it,
// after it), and the upstream module is a package of its own, so that
// scanners that read only packages still see it. The namespace is derived
// from the content.
func (b *Bill) spdx(w io.Writer, opts Options) error {
	created := opts.Created
	if created == "" {
		created = epoch
	}
	hostID := spdxID(Module{Path: b.Host})
	doc := &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      b.Host,
		DocumentNamespace: "", // below, from the content
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{CreatorType: "Tool", Creator: "plugfork"}},
			Created:  created,
		},
		Packages: []*spdx.Package{{
			PackageName:             b.Host,
			PackageSPDXIdentifier:   hostID,
			PackageDownloadLocation: "NOASSERTION",
			PrimaryPackagePurpose:   "APPLICATION",
			PackageExternalReferences: []*spdx.PackageExternalReference{
				{Category: "PACKAGE-MANAGER", RefType: "purl", Locator: "pkg:golang/" + b.Host},
			},
		}},
		Relationships: []*spdx.Relationship{{
			RefA:         common.MakeDocElementID("", "DOCUMENT"),
			RefB:         common.MakeDocElementID("", string(hostID)),
			Relationship: common.TypeRelationshipDescribe,
		}},
	}
	dependsOn := func(m Module) {
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA:         common.MakeDocElementID("", string(hostID)),
			RefB:         common.MakeDocElementID("", string(spdxID(m))),
			Relationship: common.TypeRelationshipDependsOn,
		})
	}
	for _, m := range b.Modules {
		doc.Packages = append(doc.Packages, spdxPackage(m))
		dependsOn(m)
	}
	for _, f := range b.Forks {
		fp := spdxPackage(f.Module)
		fp.PackageComment = "A fork made by plugfork of " + f.Upstream.Path + "@" + f.Upstream.Version + ", in " + f.Dir + ": the upstream source with its import paths moved under a private prefix."
		up := spdxPackage(f.Upstream)
		up.PackageComment = "Built into the host as its fork " + f.Path + " (" + f.Dir + ")."
		doc.Packages = append(doc.Packages, fp, up)
		dependsOn(f.Module)
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA:         common.MakeDocElementID("", string(spdxID(f.Module))),
			RefB:         common.MakeDocElementID("", string(spdxID(f.Upstream))),
			Relationship: common.TypeRelationshipDescendantOf,
		})
	}
	var unnamed bytes.Buffer
	if err := spdxjson.Write(doc, &unnamed); err != nil {
		return err
	}
	doc.DocumentNamespace = "https://spdx.org/spdxdocs/" + b.Host + "-" + uuid(contentID(unnamed.Bytes()))
	return spdxjson.Write(doc, w, spdxjson.Indent("  "), spdxjson.EscapeHTML(false))
}

func spdxPackage(m Module) *spdx.Package {
	p := &spdx.Package{
		PackageName:             m.Path,
		PackageSPDXIdentifier:   spdxID(m),
		PackageVersion:          m.Version,
		PackageDownloadLocation: "NOASSERTION",
		PrimaryPackagePurpose:   "LIBRARY",
		PackageExternalReferences: []*spdx.PackageExternalReference{
			{Category: "PACKAGE-MANAGER", RefType: "purl", Locator: purl(m)},
		},
	}
	if h := sha256Hex(m.Sum); h != "" {
		p.PackageChecksums = []common.Checksum{{Algorithm: common.SHA256, Value: h}}
	}
	return p
}

// spdxID is the SPDX identifier of a module version (without the
// SPDXRef- prefix the library adds): letters, digits, dots and dashes.
func spdxID(m Module) common.ElementID {
	id := "Package-" + m.Path
	if m.Version != "" {
		id += "-" + m.Version
	}
	return common.ElementID(strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '-'
	}, id))
}
