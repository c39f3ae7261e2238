package inspect_test

import (
	"fmt"
	"log"
	"testing"

	"github.com/plugfork/plugfork/inspect"
)

// A host checks plugins before plugin.Open: here a host that links
// example.com/dep v1.0.0 and a plugin built against v1.1.0. (A host checks
// itself with inspect.CheckExecutable.)
func ExampleCheck() {
	host, plugin := exampleBinaries()

	rep, err := inspect.Check(host, plugin)
	if err != nil {
		log.Fatal(err) // a file inspect cannot judge
	}
	for _, v := range rep.Plugins {
		if v.Loads() {
			fmt.Println("loads")
			continue
		}
		for _, c := range v.Causes {
			fmt.Printf("%s: %s\n", c.Kind, c.Summary)
			fmt.Printf("packages: %v\n", c.Packages)
			fmt.Printf("fix: %s\n", c.Fix)
		}
	}
	// Output:
	// module-version: example.com/dep: host v1.0.0, plugin v1.1.0
	// packages: [example.com/dep]
	// fix: in the plugin's go.mod: require example.com/dep v1.0.0 (go get example.com/dep@v1.0.0), or plugfork fork the host
}

// exampleBinaries builds the example's host and plugin (once per test run).
func exampleBinaries() (host, plugin string) {
	return binary(exampleTB{}, "host"), binary(exampleTB{}, "plugin11")
}

// exampleTB lets an example use the test's builders: a failure panics.
type exampleTB struct{ testing.TB }

func (exampleTB) Helper()                           {}
func (exampleTB) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }
func (exampleTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
