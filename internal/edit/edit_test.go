package edit

import (
	"reflect"
	"strings"
	"testing"
)

func TestBuffer(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		edits   []Edit // applied in this order
		want    string
		wantErr string
	}{
		{name: "none", src: "hello", want: "hello"},
		{name: "replace", src: "hello world", edits: []Edit{{6, 11, "gopher"}}, want: "hello gopher"},
		{name: "unordered", src: "abcdef", edits: []Edit{{4, 5, "E"}, {0, 1, "A"}, {2, 3, "C"}}, want: "AbCdEf"},
		{name: "insert and delete", src: "abc", edits: []Edit{{1, 1, "X"}, {2, 3, ""}}, want: "aXb"},
		{name: "insert before replace at same offset", src: "abc", edits: []Edit{{1, 2, "B"}, {1, 1, "X"}}, want: "aXBc"},
		{name: "adjacent", src: "abcd", edits: []Edit{{1, 2, "B"}, {2, 3, "C"}}, want: "aBCd"},
		{name: "whole", src: "abc", edits: []Edit{{0, 3, ""}}, want: ""},
		{name: "overlap", src: "abcdef", edits: []Edit{{1, 4, "x"}, {3, 5, "y"}}, wantErr: `overlapping edits: [1,4)->"x" and [3,5)->"y"`},
		{name: "out of range", src: "abc", edits: []Edit{{2, 4, "x"}}, wantErr: "invalid edit [2,4) of a 3-byte source"},
		{name: "negative", src: "abc", edits: []Edit{{-1, 1, "x"}}, wantErr: "invalid edit [-1,1)"},
		{name: "reversed", src: "abc", edits: []Edit{{2, 1, "x"}}, wantErr: "invalid edit [2,1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := []byte(tt.src)
			b := NewBuffer(src)
			for _, e := range tt.edits {
				b.Replace(e.Start, e.End, e.New)
			}
			got, err := b.Bytes()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Bytes() error = %v, want %q", err, tt.wantErr)
				}
				if got != nil {
					t.Errorf("Bytes() = %q with an error, want nil", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Bytes() error = %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("Bytes() = %q, want %q", got, tt.want)
			}
			if string(src) != tt.src {
				t.Errorf("source modified: %q", src)
			}
			edits := b.Edits()
			for i := 1; i < len(edits); i++ {
				if edits[i-1].Start > edits[i].Start {
					t.Errorf("Edits() not sorted: %v", edits)
				}
			}
			again, err := Apply(src, edits)
			if err != nil || string(again) != tt.want {
				t.Errorf("Apply(src, Edits()) = %q, %v; want %q", again, err, tt.want)
			}
		})
	}
}

func TestBytesNoEditsReturnsSource(t *testing.T) {
	src := []byte("same")
	got, err := NewBuffer(src).Bytes()
	if err != nil || &got[0] != &src[0] {
		t.Errorf("Bytes() with no edits = %p, %v; want the source slice %p", got, err, src)
	}
}

func TestEditsIsACopy(t *testing.T) {
	b := NewBuffer([]byte("abc"))
	b.Replace(0, 1, "A")
	e := b.Edits()
	e[0].New = "Z"
	if got := b.Edits(); !reflect.DeepEqual(got, []Edit{{0, 1, "A"}}) {
		t.Errorf("Edits() = %v after modifying a previous result", got)
	}
	if got := (Edit{1, 2, "x"}).String(); got != `[1,2)->"x"` {
		t.Errorf("String() = %s", got)
	}
}
