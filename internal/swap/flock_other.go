//go:build !unix

package swap

// LockHost does nothing where there is no flock (Go plugins need unix).
func LockHost(root string) (unlock func(), err error) { return func() {}, nil }
