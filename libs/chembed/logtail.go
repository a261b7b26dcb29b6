package chembed

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

// logMark remembers where a log file ended when the server was started, so a failure report
// shows what this run wrote and not what an earlier run on the same Dir left behind.
type logMark struct {
	path   string
	offset int64
}

func markLog(path string) logMark {
	m := logMark{path: path}
	if fi, err := os.Stat(path); err == nil {
		m.offset = fi.Size()
	}
	return m
}

// stackFrame matches the numbered frames ClickHouse prints after an exception; they push the
// message itself out of a short tail.
var stackFrame = regexp.MustCompile(`^\s*\d+\. `)

const (
	tailLines = 12
	tailBytes = 64 << 10
)

// tail returns up to tailLines lines written since the mark, without stack frames.
func (m logMark) tail() string {
	f, err := os.Open(m.path)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	start := m.offset
	if fi.Size() < start { // rotated since the mark
		start = 0
	}
	if fi.Size()-start > tailBytes {
		start = fi.Size() - tailBytes
	}
	b, err := io.ReadAll(io.NewSectionReader(f, start, fi.Size()-start))
	if err != nil {
		return ""
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) == "" || stackFrame.MatchString(l) {
			continue
		}
		lines = append(lines, l)
	}
	if len(lines) > tailLines {
		lines = lines[len(lines)-tailLines:]
	}
	return strings.Join(lines, "\n")
}

// diagnostics describes what the server logged since it was started, for error messages.
type diagnostics struct {
	errorLog, console logMark
}

func (d diagnostics) String() string {
	var b strings.Builder
	for _, m := range []logMark{d.errorLog, d.console} {
		if t := m.tail(); t != "" {
			fmt.Fprintf(&b, "\n--- %s (tail) ---\n%s", m.path, t)
		}
	}
	if b.Len() == 0 {
		return fmt.Sprintf(" (nothing in %s or %s)", d.errorLog.path, d.console.path)
	}
	return b.String()
}
