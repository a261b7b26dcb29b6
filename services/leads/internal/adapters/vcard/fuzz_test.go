package vcard_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/evcrm/evcrm/services/leads/internal/adapters/vcard"
)

// FuzzParse feeds arbitrary bytes to the parser: it must not panic, and every card's BEGIN
// line must lie within the file, in increasing order.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.vcf")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("BEGIN:VCARD\nTEL;WORK;QUOTED-PRINTABLE:=\n=\nEND:VCARD\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cards, err := vcard.Parse(bytes.NewReader(data))
		if err != nil {
			return
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		last := 0
		for _, c := range cards {
			if c.Line <= last || c.Line > lines {
				t.Fatalf("card at line %d after %d in %d lines", c.Line, last, lines)
			}
			last = c.Line
			_ = c.PreferredEmail()
			_, _ = c.PreferredAddress()
		}
	})
}
