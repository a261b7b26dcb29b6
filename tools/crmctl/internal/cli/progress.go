package cli

import (
	"errors"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress is a progress bar on stderr, or nothing when stderr is not a terminal (a pipe, a
// file, a test) or --progress=false: the bar's redraws would only be noise there.
type progress struct {
	pb *progressbar.ProgressBar
}

// newBar starts a bar counting to max (-1: unknown, a spinner with the count).
func (a *app) newBar(max int64, desc string) *progress {
	f, ok := a.stderr.(*os.File)
	if !a.progress || !ok || !term.IsTerminal(int(f.Fd())) {
		return &progress{}
	}
	return &progress{pb: progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSpinnerType(14),
	)}
}

// set moves the bar to n and replaces its description.
func (p *progress) set(n int64, desc string) {
	if p.pb == nil {
		return
	}
	p.pb.Describe(desc)
	_ = p.pb.Set64(n)
}

// setMax changes the bar's total.
func (p *progress) setMax(n int64) {
	if p.pb != nil && n > 0 && n != p.pb.GetMax64() {
		p.pb.ChangeMax64(n)
	}
}

// done removes the bar so that the result prints on a clean line.
func (p *progress) done() {
	if p.pb == nil {
		return
	}
	_ = p.pb.Finish()
	_ = p.pb.Clear()
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) }
