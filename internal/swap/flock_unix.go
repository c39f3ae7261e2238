//go:build unix

package swap

import (
	"fmt"
	"os"
	"syscall"
)

// LockHost takes an exclusive lock on the host's root directory for the
// whole run, so that two plugfork runs in one host take turns instead of
// sharing a stage; the second then finds the first's result. The lock
// goes with the process, however it ends.
func LockHost(root string) (unlock func(), err error) {
	d, err := os.Open(root)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(d.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("locking %s: %w", root, err)
	}
	return func() { d.Close() }, nil
}
