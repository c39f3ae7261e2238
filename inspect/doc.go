// Package inspect reads Go plugin hosts and plugins (ELF binaries, stripped
// ones too) and predicts, before anything runs, what plugin.Open does with
// each plugin, why, and how to fix it.
//
// # What it reads
//
// The linker gives every linked package an 8-byte export fingerprint. A host
// that can load plugins exports them as the dynamic symbols named
// "go:link.pkghashbytes.<pkg>" (which survive -ldflags=-s -w). A plugin
// holds the table "go:link.pkghashes" of {package, link-time fingerprint,
// pointer to the runtime fingerprint}; the pointers are dynamic relocations
// against "go:link.pkghash.<pkg>", which inspect follows, so the table is
// read without .symtab. The plugin path comes from the plugin's module data (.go.module).
// Go version, build settings and modules come from debug/buildinfo.
//
// # How plugin.Open judges
//
// plugin.Open dlopens with RTLD_NOW|RTLD_GLOBAL, so a plugin's reference to
// "go:link.pkghash.<pkg>" binds to the first definition in the process: the
// host, then plugins opened earlier (loaded or failed), then the plugin
// itself. It then fails with "plugin already loaded" when a loaded plugin
// has the same plugin path, or reports the first package, in table order,
// whose fingerprints differ. A file that failed fails again ("(previous
// failure)"); a file opened twice is returned again. Check models all of
// this and lists every differing package, not only the first, grouped into
// causes (Cause*), each with a fix.
//
// # Init-time panics
//
// A plugin that loads can still take the host down: plugin.Open runs the
// init functions of the plugin's packages that the process has not
// initialized yet, and a package that registers a fixed name in a registry
// the process shares (database/sql, http.DefaultServeMux, flag.CommandLine,
// expvar, gob, a shared protobuf runtime's files) panics when a copy of it
// registered the name first: the host's fork of the same library, say.
// CheckWith follows the registrations in load order, from the table of
// well-known libraries (package hazard) and the Hazards of the host's
// plugfork.lock (ReadLock), and predicts that panic (OutcomePanics, with the
// text); -X renames and the protobuf runtime's conflictPolicy, set in the
// builds' -ldflags, are taken into account. Plugins after one that panics
// are not reached: the panic ends the host, unless the host recovers it.
//
// Without a lock, a copy of a library in the table is known by its path
// (P/github.com/lib/pq) or by the binary's buildinfo (its module replaced
// by the library's, or by a directory whose path ends in the library's).
//
// # JSON (schema "plugfork/inspect/v1")
//
// A Report marshals as:
//
//	{
//	  "schema": "plugfork/inspect/v1",
//	  "host": Binary,
//	  "plugins": [            // in load order
//	    {
//	      "plugin": Binary,
//	      "loads": false,      // outcome is "loads"
//	      "outcome": "fails",  // Outcome: loads, fails, panics or not-reached
//	      "panic": {"text": "sql: Register called twice for driver postgres", "package": "github.com/lib/pq",
//	                "registry": "database/sql", "name": "postgres", "against": "host",
//	                "first": "gitlab.example.com/workflow/github.com/lib/pq"},  // panics only
//	      "error": "plugin.Open(\"p\"): plugin was built with a different version of package example.com/dep",
//	      "note": "",         // for a file opened twice
//	      "mismatches": [{"package": "example.com/dep", "against": "host", "want": "<hex>", "have": "<hex>"}],
//	      "causes": [{
//	        "kind": "module-version",   // CauseKind: module-version, module-source, trimpath,
//	                                    // toolchain, build-settings, unknown-build, same-plugin-path,
//	                                    // already-loaded, previous-failure, go-version,
//	                                    // platform, init-panic
//	        "against": "host",          // or the path of an earlier plugin
//	        "module": "example.com/dep", "want": "v1.0.0", "have": "v1.1.0",
//	        "settings": [{"key": "-trimpath", "value": "true"}],  // build-settings: the against side's values
//	        "summary": "example.com/dep: host v1.0.0, plugin v1.1.0",
//	        "packages": ["example.com/dep"],
//	        "fix": "in the plugin's go.mod: require example.com/dep v1.0.0 (go get example.com/dep@v1.0.0), or plugfork fork the host"
//	      }]
//	    }
//	  ]
//	}
//
// where a Binary is {"path", "kind" (Kind: "host" or "plugin"), "goos", "goarch",
// "go_version", "plugin_path", "stripped", "main" and "modules" (Module:
// "path", "version", "sum", "replace"), "settings" ([{"key", "value"}] as go
// version -m prints them), "packages" ([{"path", "fingerprint"}], hosts
// sorted by path, plugins in table order)}. Empty fields are omitted.
// Fields may be added within v1; a change of meaning changes the schema.
package inspect
