package testkit

import (
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// processStartTimeout bounds how long StartProcess and Restart wait for the gRPC port: a cold
// service on a loaded CI machine replays its streams before it listens.
const processStartTimeout = 60 * time.Second

// Process is a service daemon (a libs/platform/daemon binary, see BuildBinary) running as a
// child process on loopback. A test uses it to talk to another service for real and to kill it
// like a crashed server (Kill sends SIGKILL: no graceful stop) and start it again on the same
// address and data directory (Restart). Kill may be called from any goroutine.
type Process struct {
	bin  string
	args []string
	addr string

	mu   sync.Mutex
	cmd  *exec.Cmd     // nil while the process is not running
	done chan struct{} // closed when cmd has exited
}

// StartProcess runs the daemon bin on n with gRPC on a free loopback port, no metrics listener,
// development authentication (see As), a data directory in t.TempDir() and warnings only, then
// the flags of extra (the service's own, which may override those). It returns once the gRPC
// port accepts connections, and kills the process when the test ends.
func StartProcess(t testing.TB, bin string, n *NATS, extra ...string) *Process {
	t.Helper()
	addr := FreeAddr(t)
	p := &Process{bin: bin, addr: addr,
		args: append(daemonArgs(n.ClientURL(), addr, "", t.TempDir()), extra...)}
	t.Cleanup(p.Kill) // first, so a start that fails half-way leaves no process behind
	p.start(t)
	return p
}

// Addr is the process's gRPC address (host:port); it stays the same across Restart.
func (p *Process) Addr() string { return p.addr }

// Conn returns a new client connection to the process, closed when the test ends. It
// reconnects on its own after Restart.
func (p *Process) Conn(t testing.TB) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+p.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// Kill sends SIGKILL to the process and returns once it is gone; it does nothing when the
// process is not running.
func (p *Process) Kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// Restart kills the process if it runs and starts it again with the same flags, address and
// data directory, returning once the gRPC port accepts connections.
func (p *Process) Restart(t testing.TB) {
	t.Helper()
	p.Kill()
	p.start(t)
}

func (p *Process) start(t testing.TB) {
	t.Helper()
	cmd := exec.Command(p.bin, p.args...)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	waitListening(t, p.addr, processStartTimeout, func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	})
}

// waitListening waits until addr accepts TCP connections, failing the test after timeout or as
// soon as exited reports that the server is gone.
func waitListening(t testing.TB, addr string, timeout time.Duration, exited func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if exited() {
			t.Fatalf("testkit: the server for %s exited before it listened", addr)
		}
		c, err := net.Dial("tcp", addr)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testkit: nothing listens on %s after %s: %v", addr, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// FreeAddr returns a loopback address (127.0.0.1:port) on which nothing listened a moment ago,
// for a server that takes its address from a flag.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// daemonArgs are the flags of libs/platform/daemon that run a service for a test: on natsURL,
// gRPC on grpcAddr, metrics and health on metricsAddr ("" for none), the REST gateway off (a
// service's preset port would collide between tests; pass -http-addr to turn it on),
// development authentication, data in dataDir, warnings only.
func daemonArgs(natsURL, grpcAddr, metricsAddr, dataDir string) []string {
	return []string{"-nats-url", natsURL, "-grpc-addr", grpcAddr, "-metrics-addr", metricsAddr, "-http-addr", "",
		"-dev-auth", "-data-dir", dataDir, "-log-level", "warn"}
}
