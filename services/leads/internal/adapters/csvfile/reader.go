// Package csvfile reads and writes the CSV files of imports and exports: RFC 4180 with a header
// row, UTF-8 with or without a byte-order mark, any single-character delimiter. The reader
// streams (one record in memory at a time) and tells every record's file line, so an import
// report can point a person at the row in their spreadsheet.
package csvfile

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// ErrMalformed is wrapped by every error that makes the whole file unreadable (as opposed to
// one bad row): not UTF-8, binary, no header, broken quoting.
var ErrMalformed = errors.New("malformed CSV file")

// MalformedError says why and where a file is not readable CSV.
type MalformedError struct {
	// Line is the 1-based file line of the problem; 0 when it is about the file as a whole.
	Line   int
	Reason string
}

func (e *MalformedError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("malformed CSV file: line %d: %s", e.Line, e.Reason)
	}
	return "malformed CSV file: " + e.Reason
}

// Unwrap makes errors.Is(err, ErrMalformed) hold.
func (e *MalformedError) Unwrap() error { return ErrMalformed }

// Record is one data row.
type Record struct {
	// Line is the 1-based file line the record starts on (the header is line 1 unless blank
	// lines precede it); a quoted field with newlines makes a record span several lines.
	Line int
	// Fields are the values in header order. When the row has a different number of fields
	// than the header, Fields holds what the row has and FieldCountErr is set.
	Fields []string
	// FieldCountErr is set for a row whose field count differs from the header's: a bad row,
	// not a bad file.
	FieldCountErr error
}

// Blank reports whether every field is empty (a spreadsheet's ",,,," row).
func (r Record) Blank() bool {
	for _, f := range r.Fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// Options configure a Reader.
type Options struct {
	// Delimiter is the field separator; ',' when zero. It may not be '"', '\r', '\n' or
	// the Unicode replacement character.
	Delimiter rune
}

// Reader reads a CSV file record by record.
type Reader struct {
	cr     *csv.Reader
	header []string
	err    error
}

// bom is the UTF-8 byte-order mark that Excel writes at the start of "CSV UTF-8" files.
var bom = []byte{0xEF, 0xBB, 0xBF}

// NewReader reads the header row of r. It fails with a *MalformedError when the file is empty,
// starts with something other than a header, or the header is not valid UTF-8 text.
func NewReader(r io.Reader, o Options) (*Reader, error) {
	if o.Delimiter == 0 {
		o.Delimiter = ','
	}
	if !validDelimiter(o.Delimiter) {
		return nil, fmt.Errorf("csvfile: invalid delimiter %q", o.Delimiter)
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if head, _ := br.Peek(len(bom)); bytes.Equal(head, bom) {
		_, _ = br.Discard(len(bom))
	}
	cr := csv.NewReader(&textCheck{r: br})
	cr.Comma = o.Delimiter
	cr.LazyQuotes = false
	cr.ReuseRecord = false
	cr.FieldsPerRecord = 0 // set from the header
	x := &Reader{cr: cr}
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &MalformedError{Reason: "the file is empty: expected a header row"}
	}
	if err != nil {
		return nil, x.wrap(err)
	}
	names := make(map[string]bool, len(header))
	for i, h := range header {
		h = strings.TrimSpace(h)
		header[i] = h
		if h == "" {
			continue
		}
		key := strings.ToLower(h)
		if names[key] {
			return nil, &MalformedError{Line: 1, Reason: fmt.Sprintf("the header names column %q twice", h)}
		}
		names[key] = true
	}
	if len(names) == 0 {
		return nil, &MalformedError{Line: 1, Reason: "the header row names no column"}
	}
	x.header = header
	return x, nil
}

func validDelimiter(r rune) bool {
	return r != '"' && r != '\r' && r != '\n' && r != utf8.RuneError && utf8.ValidRune(r)
}

// Header returns the column names (trimmed of spaces) in file order.
func (x *Reader) Header() []string { return x.header }

// Read returns the next record, or io.EOF after the last one. A row with the wrong number of
// fields is returned with FieldCountErr set and reading goes on; broken quoting, invalid UTF-8
// or a NUL byte is a *MalformedError and ends reading.
func (x *Reader) Read() (Record, error) {
	if x.err != nil {
		return Record{}, x.err
	}
	fields, err := x.cr.Read()
	if err != nil && !errors.Is(err, csv.ErrFieldCount) || len(fields) == 0 {
		if err == nil {
			err = io.ErrUnexpectedEOF // encoding/csv never returns an empty record
		}
		x.err = x.wrap(err)
		return Record{}, x.err
	}
	// FieldPos is only defined after a successful (or field-count) read.
	line, _ := x.cr.FieldPos(0)
	if errors.Is(err, csv.ErrFieldCount) {
		return Record{Line: line, Fields: fields, FieldCountErr: fmt.Errorf("the row has %d fields, the header %d", len(fields), len(x.header))}, nil
	}
	return Record{Line: line, Fields: fields}, nil
}

// wrap turns the reader's errors into MalformedErrors with the line they happened on.
func (x *Reader) wrap(err error) error {
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	var te *textError
	if errors.As(err, &te) {
		return &MalformedError{Line: te.line, Reason: te.reason}
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		var te *textError
		if errors.As(pe.Err, &te) {
			return &MalformedError{Line: te.line, Reason: te.reason}
		}
		reason := pe.Err.Error()
		switch {
		case errors.Is(pe.Err, csv.ErrBareQuote):
			reason = `a quote (") inside an unquoted field; quote the field and double the quote`
		case errors.Is(pe.Err, csv.ErrQuote):
			reason = `a quoted field is not closed, or a quote is followed by other text`
		}
		return &MalformedError{Line: pe.StartLine, Reason: reason}
	}
	return err
}

// textError is a reason the bytes are not text.
type textError struct {
	line   int
	reason string
}

func (e *textError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.reason) }

// textCheck passes bytes through while rejecting NUL bytes (binary files, UTF-16) and invalid
// UTF-8, counting lines so the error can say where. encoding/csv would otherwise accept both
// and turn a spreadsheet saved in the wrong encoding into garbled records.
type textCheck struct {
	r    *bufio.Reader
	line int
	// carry holds the bytes of a rune split across two reads.
	carry []byte
	err   error
}

func (t *textCheck) Read(p []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	if t.line == 0 {
		t.line = 1
	}
	// Keep room for a carried partial rune.
	if len(p) <= len(t.carry)+utf8.UTFMax {
		return 0, io.ErrShortBuffer
	}
	n := copy(p, t.carry)
	t.carry = t.carry[:0]
	m, err := t.r.Read(p[n : len(p)-utf8.UTFMax])
	n += m
	buf := p[:n]
	// Hold back an incomplete rune at the end unless the input ended.
	keep := 0
	if err == nil {
		keep = incompleteTail(buf)
	}
	check := buf[:len(buf)-keep]
	for i := 0; i < len(check); {
		c := check[i]
		switch {
		case c == 0:
			t.err = &textError{line: t.line, reason: "the file contains a NUL byte: it is binary or not UTF-8 (UTF-16?); save it as CSV UTF-8"}
			return 0, t.err
		case c == '\n':
			t.line++
			i++
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(check[i:])
			if r == utf8.RuneError && size <= 1 {
				t.err = &textError{line: t.line, reason: "the file is not valid UTF-8; save it as CSV UTF-8"}
				return 0, t.err
			}
			i += size
		}
	}
	t.carry = append(t.carry, buf[len(buf)-keep:]...)
	if err != nil && !errors.Is(err, io.EOF) {
		t.err = err
	}
	if errors.Is(err, io.EOF) && len(check) == 0 {
		return 0, io.EOF
	}
	if errors.Is(err, io.EOF) {
		// Return the data now and EOF on the next call.
		t.err = io.EOF
		return len(check), nil
	}
	return len(check), nil
}

// incompleteTail is the length of a truncated multi-byte rune at the end of b (0 if none).
func incompleteTail(b []byte) int {
	for i := 1; i <= utf8.UTFMax-1 && i <= len(b); i++ {
		c := b[len(b)-i]
		if c < utf8.RuneSelf {
			return 0
		}
		if utf8.RuneStart(c) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return i
			}
			return 0
		}
	}
	return 0
}
