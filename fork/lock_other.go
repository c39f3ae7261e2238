//go:build !unix

package fork

// lockHost does nothing where there is no flock (Go plugins need unix).
func lockHost(root string) (unlock func(), err error) { return func() {}, nil }
