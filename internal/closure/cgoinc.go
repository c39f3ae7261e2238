package closure

import "go/token"

// CgoIncludes returns the paths the cgo preamble of a Go file refers to,
// relative to its package's directory: what Files follows for a package's
// CgoInc, for a package not loaded by Build.
func CgoIncludes(filename string, src []byte) ([]string, error) {
	info, err := readGoFile(token.NewFileSet(), filename, src)
	if err != nil {
		return nil, err
	}
	return info.CgoIncludes, nil
}
