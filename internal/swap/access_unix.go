//go:build unix

package swap

import "syscall"

// writable reports whether this process may create and remove entries in
// the directory dir (for root, only a read-only file system says no).
func writable(dir string) bool {
	const wOK = 2 // W_OK
	return syscall.Access(dir, wOK) == nil
}
