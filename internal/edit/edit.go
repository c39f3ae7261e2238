// Package edit holds a tiny buffer of byte edits against one source text.
package edit

import (
	"fmt"
	"sort"
)

// Edit replaces Src[Start:End] with New. Start == End is an insertion.
type Edit struct {
	Start, End int
	New        string
}

// Buffer collects edits against an unchanging source and applies them at once.
type Buffer struct {
	src   []byte
	edits []Edit
	bad   []Edit // edits whose range is not inside src
}

// NewBuffer returns a Buffer of edits against src. The buffer never modifies src.
func NewBuffer(src []byte) *Buffer {
	return &Buffer{src: src}
}

// Replace records that src[start:end] becomes new. An invalid range is
// reported by Bytes.
func (b *Buffer) Replace(start, end int, new string) {
	e := Edit{Start: start, End: end, New: new}
	if start < 0 || end < start || end > len(b.src) {
		b.bad = append(b.bad, e)
		return
	}
	b.edits = append(b.edits, e)
}

// Len returns the number of valid edits recorded so far.
func (b *Buffer) Len() int { return len(b.edits) }

// Edits returns a copy of the recorded edits sorted by Start, then End;
// edits at the same position keep the order in which they were recorded.
func (b *Buffer) Edits() []Edit {
	out := make([]Edit, len(b.edits))
	copy(out, b.edits)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Start != out[j].Start {
			return out[i].Start < out[j].Start
		}
		return out[i].End < out[j].End
	})
	return out
}

// Bytes returns the source with every edit applied. It returns an error,
// and no bytes, if an edit lies outside the source or two edits overlap.
// With no edits it returns the source slice itself.
func (b *Buffer) Bytes() ([]byte, error) {
	if len(b.bad) > 0 {
		e := b.bad[0]
		return nil, fmt.Errorf("invalid edit [%d,%d) of a %d-byte source", e.Start, e.End, len(b.src))
	}
	if len(b.edits) == 0 {
		return b.src, nil
	}
	return Apply(b.src, b.Edits())
}

// Apply returns src with the edits, sorted by Start, applied. It returns an
// error if the edits are unsorted, overlap or lie outside src.
func Apply(src []byte, edits []Edit) ([]byte, error) {
	size := len(src)
	for _, e := range edits {
		size += len(e.New) - (e.End - e.Start)
	}
	out := make([]byte, 0, max(size, 0))
	offset := 0
	for i, e := range edits {
		if e.Start < 0 || e.End < e.Start || e.End > len(src) {
			return nil, fmt.Errorf("invalid edit [%d,%d) of a %d-byte source", e.Start, e.End, len(src))
		}
		if e.Start < offset {
			p := edits[i-1]
			return nil, fmt.Errorf("overlapping edits: [%d,%d)->%q and [%d,%d)->%q",
				p.Start, p.End, p.New, e.Start, e.End, e.New)
		}
		out = append(out, src[offset:e.Start]...)
		out = append(out, e.New...)
		offset = e.End
	}
	return append(out, src[offset:]...), nil
}

// String returns the edit in the form [start,end)->"new".
func (e Edit) String() string {
	return fmt.Sprintf("[%d,%d)->%q", e.Start, e.End, e.New)
}
