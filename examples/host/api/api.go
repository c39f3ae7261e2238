// Package api is the demo host's plugin SDK: the helpers the host offers the
// business plugins written against it. It lives in the host module and uses
// github.com/pkg/errors, so once the host is forked it imports the fork: a
// plugin that imports it must see the host's forks, which plugfork plugin
// build gives it.
package api

import (
	"fmt"
	"strings"

	"github.com/pkg/errors"
)

// Order parses an order id of the form order-N and returns N.
func Order(id string) (string, error) {
	n, ok := strings.CutPrefix(strings.TrimSpace(id), "order-")
	if !ok || n == "" {
		return "", errors.Errorf("api: want an order id of the form order-N, got %q", id)
	}
	return n, nil
}

// Invoice is the invoice line every plugin writes the same way.
func Invoice(order string, items int, total string) string {
	return fmt.Sprintf("invoice for order %s: %d items, %s", order, items, total)
}
