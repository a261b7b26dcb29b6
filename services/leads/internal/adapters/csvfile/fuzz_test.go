package csvfile_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/evcrm/evcrm/services/leads/internal/adapters/csvfile"
)

// FuzzReader feeds arbitrary bytes to the reader: it must never panic, must end with io.EOF or
// an error, and every record's line must lie within the file and never go backwards.
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n", "\xEF\xBB\xBFa;b\r\n\"x;\ny\";2\r\n", "a\n\"", "a,b\n1\n1,2,3\n", "\x00", "a\n\xff",
	} {
		f.Add([]byte(s), byte(','))
	}
	f.Fuzz(func(t *testing.T, data []byte, delim byte) {
		x, err := csvfile.NewReader(bytes.NewReader(data), csvfile.Options{Delimiter: rune(delim)})
		if err != nil {
			return
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		last := 0
		for range len(data) + 2 {
			rec, err := x.Read()
			if errors.Is(err, io.EOF) || err != nil {
				return
			}
			if rec.Line <= last || rec.Line > lines {
				t.Fatalf("record line %d after %d in a file of %d lines", rec.Line, last, lines)
			}
			last = rec.Line
		}
		t.Fatal("reader did not end")
	})
}
