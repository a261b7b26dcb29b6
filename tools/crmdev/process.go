package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// child is one service running as a child process. The launcher runs the services as processes
// rather than in its own process: each service's main is the production main, with its own
// flags, signal handling and ordered shutdown, and the services' internal packages cannot be
// imported from this module anyway. A crash stays one service's crash, and its logs carry its
// name.
type child struct {
	name string
	cmd  *exec.Cmd
	log  *lineWriter

	done    chan struct{} // closed once the process has exited and been reaped
	exitErr error         // how it exited; read only after done is closed

	mu       sync.Mutex
	stopping bool // set before the launcher signals it: an exit after that is expected
}

// startChild starts bin with args and env, its stdout and stderr going to log line by line.
//
// The child gets its own process group, so the terminal's Ctrl-C reaches only the launcher,
// which then stops the services in order; and a parent-death signal, so a launcher that is
// killed outright does not leave services behind. Linux sends that signal when the thread that
// forked the child exits, so the goroutine that starts the child stays locked to its thread
// until the child is gone (golang/go#27505), as chembed does for ClickHouse.
func startChild(name, bin string, args, env []string, log *lineWriter) (*child, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout = w
	cmd.Stderr = w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	c := &child{name: name, cmd: cmd, log: log, done: make(chan struct{})}

	copied := make(chan struct{})
	go func() {
		defer close(copied)
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				_, _ = c.log.Write(buf[:n])
			}
			if err != nil {
				break
			}
		}
		r.Close()
		c.log.Close()
	}()

	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		err := cmd.Wait()
		<-copied // the last lines are on the console before anyone hears of the exit
		c.exitErr = err
		close(c.done)
	}()
	err = <-started
	w.Close() // the child holds its own copy; the reader sees EOF once the child is gone
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return c, nil
}

// expected reports whether the launcher asked the child to stop.
func (c *child) expected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopping
}

// exitReason says how the child ended ("leads exited with status 1").
func (c *child) exitReason() string {
	how := "exited with status 0"
	if c.exitErr != nil {
		how = c.exitErr.Error()
		var ee *exec.ExitError
		if errors.As(c.exitErr, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				how = "was killed by " + unix.SignalName(ws.Signal())
			} else {
				how = fmt.Sprintf("exited with status %d", ee.ExitCode())
			}
		}
	}
	return c.name + " " + how
}

// lastLines are the child's last log lines, indented, for a failure report.
func (c *child) lastLines() string {
	tail := c.log.Tail()
	if len(tail) == 0 {
		return ""
	}
	return "its last log lines:\n    " + strings.Join(tail, "\n    ")
}

// exited reports whether the child has exited.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the child's process group, waits up to timeout and then sends SIGKILL.
// It returns whether the child had to be killed.
func (c *child) stop(timeout time.Duration) (killed bool) {
	c.mu.Lock()
	c.stopping = true
	c.mu.Unlock()
	select {
	case <-c.done:
		return false
	default:
	}
	_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGTERM)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-c.done:
		return false
	case <-t.C:
		c.kill()
		return true
	}
}

// kill ends the child at once.
func (c *child) kill() {
	c.mu.Lock()
	c.stopping = true
	c.mu.Unlock()
	_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	<-c.done
}
