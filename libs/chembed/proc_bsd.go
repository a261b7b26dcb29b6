//go:build unix && !linux

package chembed

import "syscall"

// sysProcAttr puts the server in its own process group, so a terminal's Ctrl-C reaches only
// the parent, which then stops the server in order. There is no parent-death signal here: a
// parent that dies without Stop leaves the server running.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
