package pluginbuild

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/mod/modfile"
)

// writeWiring writes the view into the plugin module, for -w: the aligned
// go.mod and go.sum, and a go.work that uses the plugin (as ".") and the
// host, so that a plain go build -buildmode=plugin in the plugin module
// builds what plugfork built. It returns the files it wrote, by name.
func (b *builder) writeWiring() ([]string, error) {
	work, err := os.ReadFile(b.view.work)
	if err != nil {
		return nil, err
	}
	wf, err := modfile.ParseWork("go.work", work, nil)
	if err != nil {
		return nil, err
	}
	for _, u := range wf.Use {
		if u.Path == b.plugin.root {
			wf.DropUse(u.Path)
			if err := wf.AddUse(".", ""); err != nil {
				return nil, err
			}
		}
	}
	for _, path := range b.view.workReplaced {
		for _, r := range slices.Clone(wf.Replace) {
			if r.Old.Path == path {
				wf.DropReplace(path, r.Old.Version)
			}
		}
	}
	wf.Cleanup()
	files := map[string]string{"go.mod": b.view.gomod, "go.sum": b.view.gosum}
	var wrote []string
	for _, name := range []string{"go.mod", "go.sum", "go.work"} {
		var data []byte
		if name == "go.work" {
			data = modfile.Format(wf.Syntax)
		} else if data, err = os.ReadFile(files[name]); err != nil {
			return nil, err
		}
		dst := filepath.Join(b.plugin.root, name)
		if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, data) {
			continue
		}
		if err := writeAtomic(dst, data); err != nil {
			return nil, err
		}
		wrote = append(wrote, name)
	}
	return wrote, nil
}

// writeAtomic replaces the file name with data: a reader sees the old file
// or the new one.
func writeAtomic(name string, data []byte) error {
	tmp := name + ".plugfork-tmp"
	if err := os.WriteFile(tmp, data, 0o666); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}
