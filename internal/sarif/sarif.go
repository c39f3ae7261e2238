// Package sarif writes SARIF 2.1.0 logs, the format code-scanning UIs read,
// as a small typed model of the parts plugfork uses.
package sarif

import (
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Version and Schema name the SARIF version written.
const (
	Version = "2.1.0"
	Schema  = "https://json.schemastore.org/sarif-2.1.0.json"
)

// SrcRoot is the base the locations' URIs are relative to: the host
// repository's root.
const SrcRoot = "%SRCROOT%"

// Log is a SARIF log with one run.
type Log struct {
	Version string `json:"version"`
	Schema  string `json:"$schema"`
	Runs    []Run  `json:"runs"`
}

// Run is one tool's results.
type Run struct {
	Tool    Tool     `json:"tool"`
	Results []Result `json:"results"`
}

// Tool is the tool that made the results.
type Tool struct {
	Driver Driver `json:"driver"`
}

// Driver names the tool and its rules.
type Driver struct {
	Name           string `json:"name"`
	InformationURI string `json:"informationUri,omitempty"`
	Rules          []Rule `json:"rules"`
}

// Rule is a kind of result.
type Rule struct {
	ID               string   `json:"id"`
	ShortDescription *Message `json:"shortDescription,omitempty"`
	HelpURI          string   `json:"helpUri,omitempty"`
}

// Message is a text.
type Message struct {
	Text string `json:"text"`
}

// Level is a result's severity.
type Level string

// The levels plugfork uses.
const (
	LevelError   Level = "error"
	LevelWarning Level = "warning"
	LevelNote    Level = "note"
)

// Result is one finding.
type Result struct {
	RuleID    string     `json:"ruleId"`
	Level     Level      `json:"level"`
	Message   Message    `json:"message"`
	Locations []Location `json:"locations,omitempty"`
}

// Location is where a result is.
type Location struct {
	PhysicalLocation PhysicalLocation `json:"physicalLocation"`
}

// PhysicalLocation is a file and a region of it.
type PhysicalLocation struct {
	ArtifactLocation ArtifactLocation `json:"artifactLocation"`
	Region           *Region          `json:"region,omitempty"`
}

// ArtifactLocation is a file relative to SrcRoot.
type ArtifactLocation struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId"`
}

// Region is a position in a file.
type Region struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

// New returns a log of one run of the named tool.
func New(name, uri string) *Log {
	return &Log{Version: Version, Schema: Schema, Runs: []Run{{
		Tool:    Tool{Driver: Driver{Name: name, InformationURI: uri, Rules: []Rule{}}},
		Results: []Result{},
	}}}
}

// Rule adds a rule once (by ID).
func (l *Log) Rule(r Rule) {
	d := &l.Runs[0].Tool.Driver
	if !slices.ContainsFunc(d.Rules, func(o Rule) bool { return o.ID == r.ID }) {
		d.Rules = append(d.Rules, r)
	}
}

// Add adds a result.
func (l *Log) Add(r Result) { l.Runs[0].Results = append(l.Runs[0].Results, r) }

// Write writes the log as indented JSON, rules sorted by ID.
func (l *Log) Write(w io.Writer) error {
	slices.SortFunc(l.Runs[0].Tool.Driver.Rules, func(a, b Rule) int { return strings.Compare(a.ID, b.ID) })
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(l)
}

// At returns the location of a position written file:line:col or
// file:line (or a file alone), relative to the repository root.
func At(pos string) Location {
	file, region := pos, (*Region)(nil)
	if i := strings.LastIndexByte(file, ':'); i > 0 {
		if n, err := strconv.Atoi(file[i+1:]); err == nil {
			file, region = file[:i], &Region{StartLine: n}
			if j := strings.LastIndexByte(file, ':'); j > 0 {
				if m, err := strconv.Atoi(file[j+1:]); err == nil {
					file, region = file[:j], &Region{StartLine: m, StartColumn: n}
				}
			}
		}
	}
	return Location{PhysicalLocation: PhysicalLocation{ArtifactLocation: ArtifactLocation{URI: file, URIBaseID: SrcRoot}, Region: region}}
}
