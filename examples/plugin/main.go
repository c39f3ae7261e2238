// Command plugin is a business plugin for the demo host in ../host, built with
// go build -buildmode=plugin. It needs github.com/pkg/errors v0.9.1 (errors.Is
// arrived in v0.9.0) while the host is pinned to v0.8.1: the version skew that
// makes plugin.Open refuse it until the host is forked with plugfork.
package main

import (
	"fmt"
	"strings"

	"github.com/pkg/errors"
)

// errEmpty is returned for an order id with nothing in it.
var errEmpty = errors.New("empty order id")

// Handle is the symbol the host looks up and calls: it validates an order id
// and returns the invoice line for it.
func Handle(order string) (string, error) {
	id, err := parse(order)
	if errors.Is(err, errEmpty) {
		return "", errors.Wrap(err, "invoice: nothing to bill")
	}
	if err != nil {
		return "", errors.Wrapf(err, "invoice: order %q", order)
	}
	return fmt.Sprintf("invoice for order %s: 3 items, 42.00 EUR", id), nil
}

func parse(order string) (string, error) {
	id, ok := strings.CutPrefix(strings.TrimSpace(order), "order-")
	if !ok {
		return "", errors.Errorf("want the form order-N, got %q", order)
	}
	if id == "" {
		return "", errEmpty
	}
	return id, nil
}
