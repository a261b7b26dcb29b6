//go:build unix

package chembed

import (
	"errors"
	"os"
	"syscall"
)

// signalGroup signals the server's whole process group (the server runs as its leader), so
// anything it spawned goes down with it. A group that is already gone is not an error.
func signalGroup(p *os.Process, sig syscall.Signal) error {
	if err := syscall.Kill(-p.Pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}
