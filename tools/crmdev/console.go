package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
)

// console is the launcher's output: its own messages and every service's log lines, each line
// prefixed with who wrote it and written whole, so lines from concurrent writers never mix.
type console struct {
	mu sync.Mutex
	w  io.Writer
}

// prefixWidth aligns the prefixes ("analytics" is the longest name).
const prefixWidth = 9

func (c *console) line(who, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.w, "%-*s | %s\n", prefixWidth, who, text)
}

// Printf writes a message of the launcher itself, one prefixed line per line of text.
func (c *console) Printf(format string, args ...any) {
	for l := range strings.SplitSeq(strings.TrimRight(fmt.Sprintf(format, args...), "\n"), "\n") {
		c.line("crmdev", l)
	}
}

// Raw writes text as it is (the banner, which is meant to be copied from).
func (c *console) Raw(text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	io.WriteString(c.w, text)
}

// Writer returns a writer whose lines appear prefixed with who. It remembers the last few
// lines so a failure report can quote them. Close flushes a last unterminated line.
func (c *console) Writer(who string) *lineWriter {
	return &lineWriter{c: c, who: who}
}

// tailLines is how many of a writer's last lines it keeps.
const tailLines = 5

// lineWriter splits what it is given into lines for the console.
type lineWriter struct {
	c   *console
	who string
	// render, when set, rewrites each line before it is shown (humanLog).
	render func(string) string

	mu   sync.Mutex
	buf  []byte
	tail []string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.emit(string(bytes.TrimRight(w.buf[:i], "\r")))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

func (w *lineWriter) emit(l string) {
	if w.render != nil {
		l = w.render(l)
	}
	w.c.line(w.who, l)
	w.tail = append(w.tail, l)
	if len(w.tail) > tailLines {
		w.tail = w.tail[1:]
	}
}

// Close writes out a last line that had no newline.
func (w *lineWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit(string(w.buf))
		w.buf = nil
	}
	return nil
}

// Tail returns the last lines written.
func (w *lineWriter) Tail() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.tail...)
}
