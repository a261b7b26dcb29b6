package csvfile

import (
	"encoding/csv"
	"io"
)

// Writer writes a CSV file: RFC 4180 quoting, "\n" line ends, UTF-8 without a byte-order
// mark (the reader accepts both). Fields that hold a delimiter, quote or newline are quoted.
type Writer struct {
	cw *csv.Writer
}

// NewWriter returns a writer of w with the given delimiter (',' when zero).
func NewWriter(w io.Writer, delimiter rune) *Writer {
	cw := csv.NewWriter(w)
	if delimiter != 0 {
		cw.Comma = delimiter
	}
	return &Writer{cw: cw}
}

// Write writes one record (the header or a row). Errors are sticky and reported by Flush.
func (w *Writer) Write(fields []string) error { return w.cw.Write(fields) }

// Flush writes buffered data out and returns the first error of any Write or Flush.
func (w *Writer) Flush() error {
	w.cw.Flush()
	return w.cw.Error()
}
