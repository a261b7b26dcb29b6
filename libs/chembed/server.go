// Package chembed runs a ClickHouse server as a supervised child process: the server tests and
// `make run` use, Debian's ClickHouse 18.16 (`apt-get install clickhouse-server`). It writes a
// config.xml and users.xml for the server into a directory of the caller's choosing, starts
// the server on free (or given) loopback ports in its own process group, waits until both the
// HTTP and the native interface answer, and stops it with SIGTERM (SIGKILL after a timeout).
//
// Clients use the native protocol through clickhouse-go/v2 (Server.Open, Server.Options). On
// 18.16 that works with these limits, all verified against the server:
//   - settings sent by the client (Options.Settings, clickhouse.WithSettings) must be int or
//     bool values; clickhouse-go refuses anything else before sending, because 18.16 (protocol
//     revision 54412) predates settings serialized as strings;
//   - server-side query parameters ({name:Type} with clickhouse.WithParameters) are not sent
//     at all (the query fails with a syntax error); bind arguments client-side with ? or @name;
//   - Exec of an INSERT with inline rows (VALUES, FORMAT) hangs until the read timeout: the
//     server waits for the rows as data blocks. Insert with PrepareBatch (or INSERT ... SELECT);
//     connections from Server.Open reject such an INSERT with ErrInsertValues at once;
//   - AsyncInsert and WithoutProfileEvents fail with "Unknown setting";
//   - a context deadline longer than a second makes clickhouse-go send max_execution_time,
//     which a readonly=2 user may set and which 18.16 silently ignores for a readonly=1 user.
package chembed

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// maxPortAttempts bounds how often Start picks new free ports when the server could not bind
// the ones it picked (another process took one between the pick and the bind).
const maxPortAttempts = 4

// Server is a running (or stopped) ClickHouse server process.
type Server struct {
	cfg Config // resolved, both ports set
	bin command

	lifecycle sync.Mutex // serializes Stop and Restart
	mu        sync.Mutex // guards proc
	proc      *process
}

// Start writes the configuration into cfg.Dir, starts the server and returns once it answers
// on both ports. If the server exits or is not ready within cfg.ReadyTimeout (or ctx ends
// first), Start kills it and returns an error that quotes the tail of the server's error log.
// A missing binary is reported as ErrBinaryNotFound.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	cfg, err := cfg.resolved()
	if err != nil {
		return nil, err
	}
	bin, err := findBinary(cfg.Binary)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		s := &Server{cfg: cfg, bin: bin}
		if err := s.pickPorts(); err != nil {
			return nil, err
		}
		err := s.start(ctx)
		if err == nil {
			return s, nil
		}
		if attempt < maxPortAttempts && pickedPortTaken(err, cfg) && ctx.Err() == nil {
			continue
		}
		return nil, err
	}
}

// pickFreePort is a variable so tests can hand out a busy port.
var pickFreePort = func(host string) (int, io.Closer, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, nil, err
	}
	return l.Addr().(*net.TCPAddr).Port, l, nil
}

// pickPorts fills the ports left at 0 with ports that were free a moment ago. Both listeners
// stay open until both ports are chosen, so the two cannot coincide.
func (s *Server) pickPorts() error {
	ports := []*int{&s.cfg.TCPPort, &s.cfg.HTTPPort}
	if s.cfg.Cluster != nil {
		c := *s.cfg.Cluster // the caller's resolved copy stays as it was
		s.cfg.Cluster = &c
		ports = append(ports, &c.InterserverPort)
	}
	for _, p := range ports {
		if *p != 0 {
			continue
		}
		port, l, err := pickFreePort(s.cfg.Host)
		if err != nil {
			return fmt.Errorf("chembed: pick a free port on %s: %w", s.cfg.Host, err)
		}
		defer l.Close()
		*p = port
	}
	return nil
}

func (s *Server) start(ctx context.Context) error {
	if err := writeConfig(s.cfg); err != nil {
		return err
	}
	logs := filepath.Join(s.cfg.Dir, logDir)
	diag := diagnostics{
		errorLog: markLog(filepath.Join(logs, errorLogFile)),
		console:  markLog(filepath.Join(logs, consoleLogFile)),
	}
	console, err := os.OpenFile(diag.console.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("chembed: %w", err)
	}
	args := append(slices.Clone(s.bin.args), "--config-file="+filepath.Join(s.cfg.Dir, configFile))
	// Not exec.CommandContext: ctx bounds the start, not the server's life.
	cmd := exec.Command(s.bin.path, args...)
	cmd.Dir = s.cfg.Dir
	cmd.Stdout = console
	cmd.Stderr = console
	cmd.SysProcAttr = sysProcAttr()
	p, err := launch(cmd)
	console.Close() // the child has its own descriptor
	if err != nil {
		return fmt.Errorf("chembed: start %s: %w", s.bin.path, err)
	}
	if err := s.waitReady(ctx, p, diag); err != nil {
		p.kill()
		return err
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	return nil
}

// process is one run of the server binary.
type process struct {
	cmd     *exec.Cmd
	done    chan struct{} // closed once the process has exited and been reaped
	exitErr error         // how it exited; read only after done is closed

	stopOnce sync.Once
	stopErr  error
}

// launch starts cmd on a goroutine locked to its OS thread, and keeps it there until the child
// exits: Linux delivers the parent-death signal when the thread that forked the child exits,
// and the Go runtime may otherwise retire that thread while the server runs (golang/go#27505).
func launch(cmd *exec.Cmd) (*process, error) {
	p := &process{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.exitErr = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// stop sends SIGTERM to the process group, waits up to timeout, then sends SIGKILL. It is safe
// to call more than once; later calls return the first result.
func (p *process) stop(timeout time.Duration) error {
	p.stopOnce.Do(func() {
		select {
		case <-p.done:
			if p.exitErr != nil {
				p.stopErr = fmt.Errorf("chembed: clickhouse-server had already exited: %w", p.exitErr)
			}
			return
		default:
		}
		_ = signalGroup(p.cmd.Process, syscall.SIGTERM)
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case <-p.done:
		case <-t.C:
			_ = signalGroup(p.cmd.Process, syscall.SIGKILL)
			<-p.done
			p.stopErr = fmt.Errorf("chembed: clickhouse-server did not stop within %s of SIGTERM; killed it", timeout)
		}
	})
	return p.stopErr
}

// kill ends a process that never became ready; nothing of it is worth a graceful shutdown.
func (p *process) kill() {
	p.stopOnce.Do(func() {
		_ = signalGroup(p.cmd.Process, syscall.SIGKILL)
		<-p.done
	})
}

// readyClient checks the HTTP interface without keeping connections open, which would hold up
// the server's shutdown.
var readyClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

func (s *Server) waitReady(ctx context.Context, p *process, diag diagnostics) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ReadyTimeout)
	defer cancel()
	// A server that failed to bind one port may already listen on the other without answering
	// there; abandon the check as soon as it exits.
	checkCtx, cancelCheck := context.WithCancel(ctx)
	defer cancelCheck()
	go func() {
		select {
		case <-p.done:
			cancelCheck()
		case <-checkCtx.Done():
		}
	}()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		select {
		case <-p.done:
			return fmt.Errorf("chembed: clickhouse-server (%s) exited before it was ready: %v%s",
				s.cfg.Dir, p.exitErr, diag)
		case <-ctx.Done():
			return fmt.Errorf("chembed: clickhouse-server (%s) not ready on %s and %s: %w (last check: %v)%s",
				s.cfg.Dir, s.Addr(), s.HTTPAddr(), ctx.Err(), last, diag)
		case <-tick.C:
		}
		if last = s.check(checkCtx); last == nil {
			return nil
		}
	}
}

// check asks the HTTP interface for /ping, then opens a native-protocol connection.
func (s *Server) check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.HTTPAddr()+"/ping", nil)
	if err != nil {
		return err
	}
	resp, err := readyClient.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64))
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "Ok." {
		return fmt.Errorf("GET /ping: %s %q", resp.Status, body)
	}
	opts := s.Options()
	opts.DialTimeout = time.Second
	opts.MaxOpenConns = 1
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.Ping(ctx); err != nil {
		return fmt.Errorf("native ping: %w", err)
	}
	return nil
}

var addrInUseRE = regexp.MustCompile(`Address already in use: \S*:(\d+)`)

// pickedPortTaken reports whether err quotes a failed bind on a port that Start picked (as
// opposed to one the caller configured, where picking again would not help).
func pickedPortTaken(err error, cfg Config) bool {
	m := addrInUseRE.FindStringSubmatch(err.Error())
	if m == nil {
		return false
	}
	port, _ := strconv.Atoi(m[1])
	return port != cfg.TCPPort && port != cfg.HTTPPort
}

// Stop shuts the server down: SIGTERM to its process group, SIGKILL if it has not exited after
// Config.StopTimeout, and waits for it. It returns an error if the server had to be killed or
// had already exited with an error. Stopping a stopped server does nothing.
func (s *Server) Stop() error {
	s.lifecycle.Lock()
	defer s.lifecycle.Unlock()
	return s.stop()
}

func (s *Server) stop() error {
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	if p == nil {
		return nil
	}
	return p.stop(s.cfg.StopTimeout)
}

// Restart stops the server (if it runs) and starts it again on the same Dir and ports, so
// addresses handed out earlier stay valid. It returns an error if the server does not come
// back; Restart can then be called again.
func (s *Server) Restart(ctx context.Context) error {
	s.lifecycle.Lock()
	defer s.lifecycle.Unlock()
	// A server that crashed is exactly what a restart is for: its exit error is not news.
	_ = s.stop()
	s.mu.Lock()
	s.proc = nil
	s.mu.Unlock()
	return s.start(ctx)
}

// Kill ends the server the hard way, SIGKILL to its process group (a crash, a power cut of
// the node), and waits for it to exit. Restart brings it back on the same Dir and ports.
// Killing a stopped server does nothing.
func (s *Server) Kill() {
	s.lifecycle.Lock()
	defer s.lifecycle.Unlock()
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	if p != nil {
		p.kill()
	}
}

// Done returns a channel that is closed when the server process exits, whether through Stop
// or on its own; a supervisor selects on it. After Restart, call Done again for the new
// process. After a failed Restart it returns a closed channel.
func (s *Server) Done() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return s.proc.done
}

// Err returns nil while the server runs; once Done is closed it reports how the process ended
// (after Stop, nil for a clean shutdown).
func (s *Server) Err() error {
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	if p == nil {
		return nil
	}
	select {
	case <-p.done:
		return p.exitErr
	default:
		return nil
	}
}

// Pid returns the server's process id (also its process group id), or 0 if it is not running.
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	select {
	case <-s.proc.done:
		return 0
	default:
		return s.proc.cmd.Process.Pid
	}
}

// Dir returns the absolute path of the server's directory.
func (s *Server) Dir() string { return s.cfg.Dir }

// Addr returns the native-protocol address, host:port. A server listening on all interfaces
// is reached through loopback.
func (s *Server) Addr() string {
	return net.JoinHostPort(dialHost(s.cfg.Host), strconv.Itoa(s.cfg.TCPPort))
}

// HTTPAddr returns the HTTP interface address, host:port.
func (s *Server) HTTPAddr() string {
	return net.JoinHostPort(dialHost(s.cfg.Host), strconv.Itoa(s.cfg.HTTPPort))
}

func dialHost(host string) string {
	switch ip := net.ParseIP(host); {
	case ip == nil || !ip.IsUnspecified():
		return host
	case ip.To4() != nil:
		return "127.0.0.1"
	default:
		return "::1"
	}
}

// Options returns a fresh set of clickhouse-go options for the native protocol as the default
// user on the default database, with LZ4 compression. Change the copy to connect as another
// user or to another database, then pass it to clickhouse.Open. Any Settings added must be int
// or bool values (see the package documentation).
func (s *Server) Options() *clickhouse.Options {
	return &clickhouse.Options{
		Protocol:    clickhouse.Native,
		Addr:        []string{s.Addr()},
		Auth:        clickhouse.Auth{Database: "default", Username: "default"},
		DialTimeout: 5 * time.Second,
		Compression: &clickhouse.Compression{Method: clickhouse.CompressionLZ4},
	}
}

// Open connects to the server with Options (the default user) and pings it. The caller
// closes the connection. Exec on the connection fails fast with ErrInsertValues where 18.16
// would hang.
func (s *Server) Open(ctx context.Context) (driver.Conn, error) {
	return s.OpenWith(ctx, s.Options())
}

// OpenWith is Open with options of the caller's (start from Options to keep the address and
// protocol), e.g. another user or database.
func (s *Server) OpenWith(ctx context.Context, opts *clickhouse.Options) (driver.Conn, error) {
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("chembed: open %s: %w", strings.Join(opts.Addr, ","), err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("chembed: ping %s as %q: %w", strings.Join(opts.Addr, ","), opts.Auth.Username, err)
	}
	return guardedConn{conn}, nil
}
