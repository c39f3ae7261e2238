// Command sdkplugin is a business plugin written against the demo host's own
// SDK, package api of the host module, which it reaches by a directory
// replace. It needs github.com/pkg/errors v0.9.1 itself. Once the host is
// forked, api imports the host's fork of github.com/pkg/errors: a plain
// go build -buildmode=plugin cannot find it (replace applies only in the main
// module), and plugfork plugin build can.
package main

import (
	"example.com/plugfork-demo/host/api"
	"github.com/pkg/errors"
)

// errRefund is what a refund order (order-0) gets.
var errRefund = errors.New("refunds are handled elsewhere")

// Handle is the symbol the host looks up and calls.
func Handle(order string) (string, error) {
	n, err := api.Order(order)
	if err != nil {
		return "", err
	}
	if n == "0" {
		err = errRefund
	}
	if errors.Is(err, errRefund) {
		return "", errors.Wrap(err, "sdkplugin")
	}
	return api.Invoice(n, 2, "9.90 EUR (through the host's api)"), nil
}
