// Package testkit starts the real infrastructure evcrm's tests run against: an in-process
// nats-server with JetStream (single node or a 3-node cluster), a ClickHouse server process,
// and evcrm's own services, as child processes (BuildBinary, StartProcess) or in process
// through a main package's run function (CheckDaemon).
package testkit

import (
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/evcrm/evcrm/libs/natsembed"
)

// NATS is an in-process JetStream server that lives for one test.
type NATS struct {
	*natsembed.Server
	// StoreDir is the JetStream store directory (kept across Restart).
	StoreDir string
}

// StartNATS starts a single JetStream server on a free loopback port with its store in
// t.TempDir(), and shuts it down when the test ends.
func StartNATS(t testing.TB) *NATS {
	t.Helper()
	dir := t.TempDir()
	srv, err := natsembed.Start(natsembed.Config{Port: -1, StoreDir: dir})
	if err != nil {
		t.Fatalf("testkit: start nats: %v", err)
	}
	n := &NATS{Server: srv, StoreDir: dir}
	t.Cleanup(func() { n.Shutdown() })
	return n
}

// StartNATSWith starts a single JetStream server like StartNATS with cfg's other settings (for
// example SyncAlways: fsync every write before it is acknowledged, the `sync_interval: always`
// of a nats-server config file). cfg.Port and cfg.StoreDir default to a free port and
// t.TempDir().
func StartNATSWith(t testing.TB, cfg natsembed.Config) *NATS {
	t.Helper()
	if cfg.Port == 0 {
		cfg.Port = -1
	}
	if cfg.StoreDir == "" {
		cfg.StoreDir = t.TempDir()
	}
	srv, err := natsembed.Start(cfg)
	if err != nil {
		t.Fatalf("testkit: start nats: %v", err)
	}
	n := &NATS{Server: srv, StoreDir: cfg.StoreDir}
	t.Cleanup(func() { n.Shutdown() })
	return n
}

// Restart restarts the server on the same port and store directory; it fails the test if the
// server does not come back.
func (n *NATS) Restart(t testing.TB) {
	t.Helper()
	if err := n.Server.Restart(); err != nil {
		t.Fatalf("testkit: restart nats: %v", err)
	}
}

// Connect opens a client connection that reconnects forever (tests restart servers under it)
// and closes it when the test ends.
func (n *NATS) Connect(t testing.TB, opts ...nats.Option) *nats.Conn {
	t.Helper()
	return connect(t, n.ClientURL(), opts...)
}

// JetStream returns a JetStream context on a new connection.
func (n *NATS) JetStream(t testing.TB) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(n.Connect(t))
	if err != nil {
		t.Fatalf("testkit: jetstream: %v", err)
	}
	return js
}

func connect(t testing.TB, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	base := []nats.Option{
		nats.MaxReconnects(-1),
		nats.ReconnectWait(50 * time.Millisecond),
		nats.Name(t.Name()),
	}
	nc, err := nats.Connect(url, append(base, opts...)...)
	if err != nil {
		t.Fatalf("testkit: connect %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// Cluster is a set of in-process JetStream servers joined by routes on loopback.
type Cluster struct {
	Nodes []*NATS
}

// StartCluster starts size servers (3 for R3 streams) in one cluster and waits until JetStream
// has a meta leader.
func StartCluster(t testing.TB, size int) *Cluster {
	t.Helper()
	if size < 1 {
		t.Fatalf("testkit: cluster size %d", size)
	}
	root := t.TempDir()
	// A clustered JetStream node will not start without routes, so every node is told every
	// node's route address up front; the ports are picked before the servers start.
	ports := make([]int, size)
	routes := make([]string, size)
	for i := range ports {
		ports[i] = freePort(t)
		routes[i] = fmt.Sprintf("nats-route://127.0.0.1:%d", ports[i])
	}
	c := &Cluster{}
	for i := range size {
		dir := filepath.Join(root, fmt.Sprintf("n%d", i))
		srv, err := natsembed.Start(natsembed.Config{
			Name: fmt.Sprintf("n%d", i), Port: -1, StoreDir: dir,
			Cluster: &natsembed.ClusterConfig{Name: "evcrm-test", Port: ports[i], Routes: routes},
		})
		if err != nil {
			t.Fatalf("testkit: start cluster node %d: %v", i, err)
		}
		n := &NATS{Server: srv, StoreDir: dir}
		t.Cleanup(func() { n.Shutdown() })
		c.Nodes = append(c.Nodes, n)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if leader := c.metaLeader(); leader != "" {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("testkit: cluster of %d has no JetStream meta leader after 30s", size)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testkit: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (c *Cluster) metaLeader() string {
	for _, n := range c.Nodes {
		if n.Underlying().JetStreamIsLeader() {
			return n.Name()
		}
	}
	return ""
}

// URLs is a comma-separated list of every node's client URL, for nats.Connect.
func (c *Cluster) URLs() string {
	s := ""
	for i, n := range c.Nodes {
		if i > 0 {
			s += ","
		}
		s += n.ClientURL()
	}
	return s
}

// Connect opens a client connection to the whole cluster.
func (c *Cluster) Connect(t testing.TB, opts ...nats.Option) *nats.Conn {
	t.Helper()
	return connect(t, c.URLs(), opts...)
}
