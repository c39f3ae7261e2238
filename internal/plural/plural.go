// Package plural writes counts for people: "1 fork", "2 forks".
package plural

import "strconv"

// Count returns n followed by one, or by many when n is not 1:
// Count(1, "file differs", "files differ") is "1 file differs".
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// S is Count for a noun whose plural adds an s: S(2, "fork") is "2 forks".
func S(n int, noun string) string { return Count(n, noun, noun+"s") }

// Pick returns one when n is 1, many otherwise: the verb that agrees with
// a count, Pick(n, "holds", "hold").
func Pick(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
