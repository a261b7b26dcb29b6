package service_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

// The leads binary is built once per test binary and run as a child process on the test's
// NATS, so campaign tests talk to the real leads service over gRPC (suppression checks,
// segments, rule actions).
var leadsBin struct {
	once sync.Once
	path string
	err  error
}

func leadsBinary(t testing.TB) string {
	t.Helper()
	leadsBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "evcrm-leads-bin-")
		if err != nil {
			leadsBin.err = err
			return
		}
		leadsBin.path = filepath.Join(dir, "leads")
		out, err := exec.Command("go", "build", "-o", leadsBin.path, "github.com/evcrm/evcrm/services/leads/cmd/leads").CombinedOutput()
		if err != nil {
			leadsBin.err = fmt.Errorf("go build leads: %w\n%s", err, out)
		}
	})
	require.NoError(t, leadsBin.err)
	return leadsBin.path
}

// TestMain removes the leads binary after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if leadsBin.path != "" {
		_ = os.RemoveAll(filepath.Dir(leadsBin.path))
	}
	os.Exit(code)
}

// leadsProc is the real leads service as a child process.
type leadsProc struct {
	t        testing.TB
	bin      string
	natsURL  string
	addr     string
	dataDir  string
	mu       sync.Mutex
	cmd      *exec.Cmd
	waitDone chan struct{}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// startLeadsProcess runs the leads service on n with development authentication; pass its
// addr as harnessOptions.LeadsAddr.
func startLeadsProcess(t testing.TB, n *testkit.NATS) *leadsProc {
	t.Helper()
	p := &leadsProc{t: t, bin: leadsBinary(t), natsURL: n.ClientURL(), addr: freeAddr(t), dataDir: t.TempDir()}
	p.start()
	t.Cleanup(p.kill)
	return p
}

// start runs the binary on p's address and waits until it listens.
func (p *leadsProc) start() {
	t := p.t
	t.Helper()
	cmd := exec.Command(p.bin, "-nats-url", p.natsURL, "-grpc-addr", p.addr, "-metrics-addr", "",
		"-dev-auth", "-data-dir", p.dataDir, "-log-level", "warn", "-pipeline-addr", "")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.mu.Lock()
	p.cmd, p.waitDone = cmd, done
	p.mu.Unlock()
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", p.addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 60*time.Second, 20*time.Millisecond, "leads did not start listening")
}

// kill SIGKILLs the process and waits until it is gone.
func (p *leadsProc) kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.waitDone
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// conn is a client connection to the leads process.
func (p *leadsProc) conn(t testing.TB) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+p.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// leads is a LeadsService client of the process.
func (p *leadsProc) leads(t testing.TB) leadsv1.LeadsServiceClient {
	return leadsv1.NewLeadsServiceClient(p.conn(t))
}

// contacts is a ContactsService client of the process.
func (p *leadsProc) contacts(t testing.TB) leadsv1.ContactsServiceClient {
	return leadsv1.NewContactsServiceClient(p.conn(t))
}
