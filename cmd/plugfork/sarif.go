package main

import (
	"cmp"
	"fmt"
	"io"
	"path"

	"github.com/plugfork/plugfork/fork"
	"github.com/plugfork/plugfork/internal/sarif"
)

const plugforkURI = "https://github.com/plugfork/plugfork"

// outputFormat resolves --format and the --json shorthand to one of text,
// json and sarif.
func outputFormat(format string, asJSON bool) (string, error) {
	switch {
	case asJSON && format != "" && format != "json":
		return "", usageError{fmt.Errorf("--json and --format %s disagree", format)}
	case asJSON || format == "json":
		return "json", nil
	case format == "" || format == "text" || format == "sarif":
		return cmp.Or(format, "text"), nil
	}
	return "", usageError{fmt.Errorf("--format %s: want text, json or sarif", format)}
}

// writeCheckSARIF writes check's findings as SARIF: one rule per kind, one
// result per finding, located in the host repository; its findings are
// errors, its notes (what check reports without failing) notes.
func writeCheckSARIF(w io.Writer, res *fork.CheckResult) error {
	log := sarif.New("plugfork check", plugforkURI)
	add := func(f fork.CheckFinding, level sarif.Level) {
		log.Rule(sarif.Rule{ID: string(f.Kind)})
		text := f.Message
		if f.Fix != "" {
			text += " (fix: " + f.Fix + ")"
		}
		r := sarif.Result{RuleID: string(f.Kind), Level: level, Message: sarif.Message{Text: text}}
		switch {
		case f.Pos != "":
			r.Locations = []sarif.Location{sarif.At(f.Pos)}
		case len(f.Files) > 0:
			for _, name := range f.Files {
				r.Locations = append(r.Locations, sarif.At(path.Join(f.Path, name)))
			}
		case f.Path != "" && f.Kind != fork.KindLinked:
			r.Locations = []sarif.Location{sarif.At(f.Path)}
		default:
			r.Locations = []sarif.Location{sarif.At(fork.LockFile)}
		}
		log.Add(r)
	}
	for _, f := range res.Findings {
		add(f, sarif.LevelError)
	}
	for _, f := range res.Notes {
		add(f, sarif.LevelNote)
	}
	return log.Write(w)
}

// writeVulnSARIF writes vuln's advisories as SARIF: one rule per advisory;
// a called one is an error at each of the host's call sites, an imported
// or required one a note at go.mod.
func writeVulnSARIF(w io.Writer, res *fork.VulnResult) error {
	log := sarif.New("plugfork vuln", plugforkURI)
	for _, v := range res.Vulns {
		log.Rule(sarif.Rule{ID: v.ID, ShortDescription: &sarif.Message{Text: v.Summary}, HelpURI: v.URL})
		where := v.Module + "@" + v.Version
		if v.ForkPath != "" {
			where += " (forked as " + v.ForkPath + " in " + v.ForkDir + ")"
		}
		fixed := "no fix"
		if v.Fixed != "" {
			fixed = "fixed in " + v.Fixed
		}
		if v.Level != fork.LevelCalled || len(v.Traces) == 0 {
			log.Add(sarif.Result{RuleID: v.ID, Level: sarif.LevelNote,
				Message:   sarif.Message{Text: fmt.Sprintf("%s: %s; the host %s it but calls no vulnerable symbol (%s)", v.ID, where, map[fork.VulnLevel]string{fork.LevelImported: "imports", fork.LevelRequired: "requires"}[v.Level], fixed)},
				Locations: []sarif.Location{sarif.At("go.mod")}})
			continue
		}
		for _, t := range v.Traces {
			loc := "go.mod"
			if t.Site != "" {
				loc = t.Site
			}
			log.Add(sarif.Result{RuleID: v.ID, Level: sarif.LevelError,
				Message:   sarif.Message{Text: fmt.Sprintf("%s: calls %s of %s (%s)", v.ID, t.Frames[0].Symbol(), where, fixed)},
				Locations: []sarif.Location{sarif.At(loc)}})
		}
	}
	return log.Write(w)
}
