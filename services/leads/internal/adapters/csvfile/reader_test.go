package csvfile_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/services/leads/internal/adapters/csvfile"
)

type row struct {
	Line   int
	Fields []string
	Bad    bool
}

func readAll(t *testing.T, r io.Reader, o csvfile.Options) ([]string, []row, error) {
	t.Helper()
	x, err := csvfile.NewReader(r, o)
	if err != nil {
		return nil, nil, err
	}
	var rows []row
	for {
		rec, err := x.Read()
		if errors.Is(err, io.EOF) {
			return x.Header(), rows, nil
		}
		if err != nil {
			return x.Header(), rows, err
		}
		rows = append(rows, row{Line: rec.Line, Fields: rec.Fields, Bad: rec.FieldCountErr != nil})
	}
}

func TestReaderReadsRealWorldFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		opts   csvfile.Options
		header []string
		rows   []row
	}{
		{"plain", "a,b\n1,2\n3,4\n", csvfile.Options{}, []string{"a", "b"},
			[]row{{2, []string{"1", "2"}, false}, {3, []string{"3", "4"}, false}}},
		{"bom and CRLF", "\xEF\xBB\xBFName , E-mail\r\nAda,ada@x.io\r\n", csvfile.Options{}, []string{"Name", "E-mail"},
			[]row{{2, []string{"Ada", "ada@x.io"}, false}}},
		{"quoted newline and comma keep the first line", "a,b\n\"x,\ny\",2\n3,4\n", csvfile.Options{}, []string{"a", "b"},
			[]row{{2, []string{"x,\ny", "2"}, false}, {4, []string{"3", "4"}, false}}},
		{"blank lines are skipped but counted", "a,b\n\n1,2\n\n\n3,4", csvfile.Options{}, []string{"a", "b"},
			[]row{{3, []string{"1", "2"}, false}, {6, []string{"3", "4"}, false}}},
		{"wrong field count is a bad row", "a,b\n1\n1,2,3\n5,6\n", csvfile.Options{}, []string{"a", "b"},
			[]row{{2, []string{"1"}, true}, {3, []string{"1", "2", "3"}, true}, {4, []string{"5", "6"}, false}}},
		{"semicolon", "a;b\n\"1;5\";2\n", csvfile.Options{Delimiter: ';'}, []string{"a", "b"},
			[]row{{2, []string{"1;5", "2"}, false}}},
		{"unicode", "name\nZoë Ångström 日本\n", csvfile.Options{}, []string{"name"},
			[]row{{2, []string{"Zoë Ångström 日本"}, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// One byte at a time too: runes and lines split across reads.
			for _, r := range []io.Reader{strings.NewReader(tt.in), iotest.OneByteReader(strings.NewReader(tt.in))} {
				header, rows, err := readAll(t, r, tt.opts)
				require.NoError(t, err)
				assert.Equal(t, tt.header, header)
				assert.Equal(t, tt.rows, rows)
			}
		})
	}
}

func TestReaderRejectsMalformedFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		line     int
		reason   string
	}{
		{"empty", "", 0, "empty"},
		{"only a bom", "\xEF\xBB\xBF", 0, "empty"},
		{"blank header", ",,\n1,2,3\n", 1, "names no column"},
		{"duplicate header", "Email,email\n", 1, "twice"},
		{"latin-1", "name\nZo\xEB\n", 2, "not valid UTF-8"},
		{"utf-16", "\xFF\xFEn\x00a\x00m\x00e\x00\n\x00", 1, "not valid UTF-8"},
		{"binary nul", "name\nab\x00cd\n", 2, "NUL byte"},
		{"bare quote", "a,b\n1,x\"y\n", 2, "quote"},
		{"unclosed quote", "a,b\n1,\"xy\n2,3\n", 2, "not closed"},
		{"truncated rune at the end", "name\nab\xC3", 2, "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := readAll(t, strings.NewReader(tt.in), csvfile.Options{})
			require.ErrorIs(t, err, csvfile.ErrMalformed)
			var me *csvfile.MalformedError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, tt.line, me.Line, "%v", err)
			assert.Contains(t, me.Reason, tt.reason)
		})
	}
}

func TestReaderRejectsBadDelimiter(t *testing.T) {
	t.Parallel()
	_, err := csvfile.NewReader(strings.NewReader("a\n"), csvfile.Options{Delimiter: '"'})
	require.Error(t, err)
}

func TestBlankRecord(t *testing.T) {
	t.Parallel()
	assert.True(t, csvfile.Record{Fields: []string{"", " "}}.Blank())
	assert.False(t, csvfile.Record{Fields: []string{"", "x"}}.Blank())
}

func TestWriterRoundTrips(t *testing.T) {
	t.Parallel()
	rows := [][]string{{"name", "note"}, {"Ada, Countess", "line1\nline2 \"quoted\""}, {"", "ü"}}
	var buf bytes.Buffer
	w := csvfile.NewWriter(&buf, 0)
	for _, r := range rows {
		require.NoError(t, w.Write(r))
	}
	require.NoError(t, w.Flush())
	header, got, err := readAll(t, &buf, csvfile.Options{})
	require.NoError(t, err)
	assert.Equal(t, rows[0], header)
	assert.Equal(t, []row{{2, rows[1], false}, {4, rows[2], false}}, got)
}
