// Package natsembed runs nats-server with JetStream inside the current process. The launcher
// (make run) and the test kit use it; production deployments run nats-server as its own process
// and point the services at it instead.
package natsembed

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Config describes one embedded server.
type Config struct {
	// Name of the server; must be unique inside a cluster. Defaults to "evcrm".
	Name string
	// Host to listen on for clients. Defaults to 127.0.0.1.
	Host string
	// Port for clients; -1 picks a free port, 0 means the NATS default (4222).
	Port int
	// StoreDir holds the JetStream file store. Required.
	StoreDir string
	// SyncInterval is how often the file store is fsynced. Zero keeps the server default (2 min);
	// see SyncAlways for single-node production use.
	SyncInterval time.Duration
	// SyncAlways fsyncs every write before it is acknowledged.
	SyncAlways bool
	// Cluster, when set, joins the server to a route cluster.
	Cluster *ClusterConfig
	// ReadyTimeout bounds the wait for the server to accept connections. Defaults to 10s.
	ReadyTimeout time.Duration
	// Users, when set, are the only ones who may connect, each with its password and
	// permissions (natsperm.ServerUsers builds them; a nil Permissions is full access). Empty
	// keeps the server open to anyone, as the tests want it.
	Users []*server.User
}

// ClusterConfig is the route part of a clustered server.
type ClusterConfig struct {
	// Name of the cluster, the same on every node.
	Name string
	// Host and Port to listen on for routes; Port -1 picks a free port.
	Host string
	Port int
	// Routes are the route URLs of the other nodes (nats-route://host:port).
	Routes []string
}

// Server is a running embedded nats-server.
type Server struct {
	srv  *server.Server
	opts *server.Options
}

// Start starts a server with JetStream enabled and waits until it accepts connections.
func Start(cfg Config) (*Server, error) {
	if cfg.StoreDir == "" {
		return nil, errors.New("natsembed: StoreDir is required")
	}
	opts := &server.Options{
		ServerName:   cfg.Name,
		Host:         cfg.Host,
		Port:         cfg.Port,
		JetStream:    true,
		StoreDir:     cfg.StoreDir,
		SyncInterval: cfg.SyncInterval,
		SyncAlways:   cfg.SyncAlways,
		NoSigs:       true,
		NoLog:        true,
		Users:        cfg.Users,
	}
	if opts.ServerName == "" {
		opts.ServerName = "evcrm"
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if c := cfg.Cluster; c != nil {
		opts.Cluster = server.ClusterOpts{Name: c.Name, Host: c.Host, Port: c.Port}
		if opts.Cluster.Host == "" {
			opts.Cluster.Host = opts.Host
		}
		for _, r := range c.Routes {
			u, err := url.Parse(r)
			if err != nil {
				return nil, fmt.Errorf("natsembed: route %q: %w", r, err)
			}
			opts.Routes = append(opts.Routes, u)
		}
	}
	return startOpts(opts, cfg.ReadyTimeout)
}

func startOpts(opts *server.Options, ready time.Duration) (*Server, error) {
	if ready <= 0 {
		ready = 10 * time.Second
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("natsembed: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(ready) {
		srv.Shutdown()
		return nil, fmt.Errorf("natsembed: server on %s:%d not ready after %s", opts.Host, opts.Port, ready)
	}
	// Pin the ports picked at start (-1 means any) while the listeners exist: a restart after
	// a Shutdown, when they are gone, must come back on the same addresses so that clients
	// and routes reconnect to it. On a copy: the running server reads opts concurrently.
	pinned := opts.Clone()
	if tcp, ok := srv.Addr().(*net.TCPAddr); ok {
		pinned.Port = tcp.Port
	}
	if addr := srv.ClusterAddr(); addr != nil {
		pinned.Cluster.Port = addr.Port
	}
	return &Server{srv: srv, opts: pinned}, nil
}

// ClientURL is the nats:// URL clients connect to.
func (s *Server) ClientURL() string { return s.srv.ClientURL() }

// Name is the server name.
func (s *Server) Name() string { return s.opts.ServerName }

// Underlying gives access to the nats-server instance (for health checks and introspection).
func (s *Server) Underlying() *server.Server { return s.srv }

// Shutdown stops the server and waits until it is down. It may be called more than once; a
// stopped server can be started again with Restart (a node of a cluster that was killed and
// comes back).
func (s *Server) Shutdown() {
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
}

// Running reports whether the server is up (not shut down).
func (s *Server) Running() bool { return s.srv.Running() }

// Restart stops the server if it is running and starts a new one with the same options on the
// same ports and store directory, the way a process restart would.
func (s *Server) Restart() error {
	opts := s.opts.Clone()
	s.Shutdown()
	n, err := startOpts(opts, 0)
	if err != nil {
		return err
	}
	*s = *n
	return nil
}

// StreamState is one server's own replica of a stream: what is in its local store, whether or
// not it is the leader.
type StreamState struct {
	Msgs     uint64
	FirstSeq uint64
	LastSeq  uint64
}

// LocalStreamState reports the local replica of stream in the global account ($G), for checks
// that a node which was down caught up. ok is false when this server holds no replica.
func (s *Server) LocalStreamState(stream string) (st StreamState, ok bool, err error) {
	jsz, err := s.srv.Jsz(&server.JSzOptions{Accounts: true, Streams: true})
	if err != nil {
		return st, false, fmt.Errorf("natsembed: jsz: %w", err)
	}
	for _, a := range jsz.AccountDetails {
		for _, d := range a.Streams {
			if d.Name == stream {
				return StreamState{Msgs: d.State.Msgs, FirstSeq: d.State.FirstSeq, LastSeq: d.State.LastSeq}, true, nil
			}
		}
	}
	return st, false, nil
}
