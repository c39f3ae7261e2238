// Command host is the demo plugin host for plugfork: it loads each plugin
// given on the command line with plugin.Open, looks up its Handle symbol,
// calls it with an order id and prints the result. Plugins may use its SDK,
// package api. It links
// github.com/pkg/errors v0.8.1, so a plugin built against another version
// of that module fails to load until the host is forked with plugfork.
//
// Usage:
//
//	host [-order ID] PLUGIN.so...
//
// It exits 1 if a plugin fails to load or to handle the order, 2 for usage.
package main

import (
	"flag"
	"fmt"
	"os"
	"plugin"

	"example.com/plugfork-demo/host/api"
	"github.com/pkg/errors"
)

// handleFunc is the signature of the Handle symbol every plugin exports.
type handleFunc = func(order string) (string, error)

func main() {
	order := flag.String("order", "order-42", "order id passed to each plugin's Handle")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: host [-order ID] PLUGIN.so...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if _, err := api.Order(*order); err != nil {
		fmt.Fprintf(os.Stderr, "host: %v\n", err)
		os.Exit(2)
	}
	status := 0
	for _, path := range flag.Args() {
		out, err := run(path, *order)
		if err != nil {
			fmt.Fprintf(os.Stderr, "host: %v\n", err)
			status = 1
			continue
		}
		fmt.Printf("%s: %s\n", path, out)
	}
	os.Exit(status)
}

// run loads the plugin at path and calls its Handle with order.
func run(path, order string) (string, error) {
	p, err := plugin.Open(path)
	if err != nil {
		return "", errors.Wrap(err, "loading plugin")
	}
	sym, err := p.Lookup("Handle")
	if err != nil {
		return "", errors.Wrapf(err, "%s", path)
	}
	handle, ok := sym.(handleFunc)
	if !ok {
		return "", errors.Errorf("%s: Handle is %T, want %T", path, sym, handle)
	}
	out, err := handle(order)
	return out, errors.Wrapf(err, "%s: Handle(%q)", path, order)
}
