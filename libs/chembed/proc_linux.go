package chembed

import "syscall"

// sysProcAttr puts the server in its own process group, so a terminal's Ctrl-C reaches only
// the parent (which then stops the server in order), and asks the kernel to SIGTERM the server
// when the parent dies without stopping it (a test binary that exits or panics, a killed
// launcher). The parent-death signal is tied to the OS thread that started the child, which is
// why start keeps that thread locked for the child's lifetime.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
