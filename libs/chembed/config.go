package chembed

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"time"
)

// Config describes one ClickHouse server. Only Dir is required.
type Config struct {
	// Dir holds everything the server writes: the generated config.xml and users.xml, data/,
	// tmp/, user_files/, format_schemas/ and log/. It may be a temporary directory (tests) or a
	// persistent one (make run): starting again on the same Dir keeps the data. Files in
	// Dir/config.d/ and Dir/users.d/ are merged into the generated configuration by ClickHouse
	// itself, which is the place for local overrides.
	Dir string
	// Host is the address the server listens on. Defaults to 127.0.0.1.
	Host string
	// TCPPort is the native-protocol port. 0 picks a free port.
	TCPPort int
	// HTTPPort is the HTTP interface port. 0 picks a free port.
	HTTPPort int
	// Binary is the server executable, either a path or a name looked up in PATH (and in
	// /usr/sbin and /usr/bin, where Debian installs it but which a non-root PATH may lack). A
	// binary named "clickhouse" is the single multi-tool binary and is run with its "server"
	// subcommand. Empty looks up clickhouse-server, then clickhouse.
	Binary string
	// ReadyTimeout bounds the wait for the server to answer on both ports. Defaults to 30s;
	// raise it for a persistent Dir with many tables, whose metadata loads before the server
	// listens.
	ReadyTimeout time.Duration
	// StopTimeout is how long Stop waits after SIGTERM before it kills the process group.
	// Defaults to 15s.
	StopTimeout time.Duration
	// LogLevel is the server's logger level (trace, debug, information, warning, error).
	// Defaults to information.
	LogLevel string
	// Users are declared next to the built-in "default" user (no password, local connections
	// only, full access).
	Users []User
	// Cluster, when set, makes the server one node of a replicated cluster (ReplicatedMergeTree
	// tables, Distributed tables, ON CLUSTER DDL): the generated config.xml then has an
	// interserver HTTP port (replicas fetch parts there), remote_servers, zookeeper, macros
	// and distributed_ddl. Nil: a single node, and the config.xml of earlier versions.
	Cluster *Cluster
}

// Cluster is a server's part in a cluster. Every node of one cluster gets the same Name,
// Shards and ZooKeeper, and its own Shard and Replica.
type Cluster struct {
	// Name is the cluster's name in remote_servers (what ON CLUSTER and Distributed name).
	Name string
	// Shards lists each shard's replicas as native-protocol addresses (host:port). Shards
	// replicate internally (internal_replication): a Distributed table writes one replica of
	// a shard, ReplicatedMergeTree copies the rows to the others.
	Shards [][]string
	// ZooKeeper lists the coordination servers (host:port).
	ZooKeeper []string
	// Shard and Replica are this server's {shard} and {replica} macros.
	Shard, Replica string
	// InterserverPort is the interserver HTTP port. 0 picks a free port.
	InterserverPort int
	// SessionTimeout is the ZooKeeper session timeout. Defaults to 10s: a replica that died
	// is seen as inactive after it.
	SessionTimeout time.Duration
}

// User is an extra ClickHouse user declared in the generated users.xml.
type User struct {
	// Name of the user: letters, digits and underscores, not starting with a digit, and not
	// "default".
	Name string
	// Password in plain text; users.xml stores only its SHA-256. Empty means no password.
	Password string
	// Readonly is ClickHouse's readonly setting for the user's profile: 0 full access, 1 read
	// only and no setting changes, 2 read only but settings may be changed per query (what BI
	// tools need to set max_execution_time).
	Readonly int
	// Networks the user may connect from, as IP addresses or CIDR ranges. Defaults to the
	// loopback addresses.
	Networks []string
}

const (
	defaultHost         = "127.0.0.1"
	defaultReadyTimeout = 30 * time.Second
	defaultStopTimeout  = 15 * time.Second
	defaultLogLevel     = "information"
)

var (
	userNameRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	logLevels   = map[string]bool{"trace": true, "debug": true, "information": true, "warning": true, "error": true}
	loopbackIPs = []string{"::1", "127.0.0.1"}
)

// resolved returns cfg with defaults filled in and Dir made absolute, or the first problem.
func (cfg Config) resolved() (Config, error) {
	if cfg.Dir == "" {
		return cfg, errors.New("chembed: Config.Dir is required")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return cfg, fmt.Errorf("chembed: Config.Dir: %w", err)
	}
	cfg.Dir = dir
	if cfg.Host == "" {
		cfg.Host = defaultHost
	}
	if cfg.TCPPort < 0 || cfg.TCPPort > 65535 || cfg.HTTPPort < 0 || cfg.HTTPPort > 65535 {
		return cfg, fmt.Errorf("chembed: ports out of range: tcp %d, http %d", cfg.TCPPort, cfg.HTTPPort)
	}
	if cfg.TCPPort != 0 && cfg.TCPPort == cfg.HTTPPort {
		return cfg, fmt.Errorf("chembed: TCPPort and HTTPPort are both %d", cfg.TCPPort)
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = defaultReadyTimeout
	}
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = defaultStopTimeout
	}
	if cfg.LogLevel == "" {
		cfg.LogLevel = defaultLogLevel
	}
	if !logLevels[cfg.LogLevel] {
		return cfg, fmt.Errorf("chembed: unknown LogLevel %q", cfg.LogLevel)
	}
	seen := map[string]bool{"default": true}
	users := make([]User, 0, len(cfg.Users))
	for _, u := range cfg.Users {
		if !userNameRE.MatchString(u.Name) {
			return cfg, fmt.Errorf("chembed: user name %q: use letters, digits and underscores", u.Name)
		}
		if seen[u.Name] {
			return cfg, fmt.Errorf("chembed: user %q declared twice (or redeclares the built-in default user)", u.Name)
		}
		seen[u.Name] = true
		if u.Readonly < 0 || u.Readonly > 2 {
			return cfg, fmt.Errorf("chembed: user %q: Readonly must be 0, 1 or 2, not %d", u.Name, u.Readonly)
		}
		if len(u.Networks) == 0 {
			u.Networks = loopbackIPs
		}
		for _, n := range u.Networks {
			if net.ParseIP(n) == nil {
				if _, _, err := net.ParseCIDR(n); err != nil {
					return cfg, fmt.Errorf("chembed: user %q: network %q is neither an IP address nor a CIDR range", u.Name, n)
				}
			}
		}
		users = append(users, u)
	}
	cfg.Users = users
	if c := cfg.Cluster; c != nil {
		cc := *c
		if !userNameRE.MatchString(cc.Name) {
			return cfg, fmt.Errorf("chembed: cluster name %q: use letters, digits and underscores", cc.Name)
		}
		if len(cc.Shards) == 0 || len(cc.ZooKeeper) == 0 {
			return cfg, errors.New("chembed: a Cluster needs Shards and ZooKeeper")
		}
		for _, addrs := range [][]string{cc.ZooKeeper, slices.Concat(cc.Shards...)} {
			for _, a := range addrs {
				if _, _, err := net.SplitHostPort(a); err != nil {
					return cfg, fmt.Errorf("chembed: cluster address %q: %w", a, err)
				}
			}
		}
		if cc.Shard == "" || cc.Replica == "" {
			return cfg, errors.New("chembed: a Cluster needs this server's Shard and Replica macros")
		}
		if cc.InterserverPort < 0 || cc.InterserverPort > 65535 {
			return cfg, fmt.Errorf("chembed: interserver port out of range: %d", cc.InterserverPort)
		}
		if cc.SessionTimeout <= 0 {
			cc.SessionTimeout = 10 * time.Second
		}
		cc.Shards = slices.Clone(cc.Shards)
		cfg.Cluster = &cc
	}
	return cfg, nil
}

// Layout of Dir. The server is pointed at these paths by the generated config.xml.
const (
	configFile      = "config.xml"
	usersFile       = "users.xml"
	dataDir         = "data"
	tmpDir          = "tmp"
	userFilesDir    = "user_files"
	formatSchemaDir = "format_schemas"
	logDir          = "log"
	serverLogFile   = "clickhouse-server.log"
	errorLogFile    = "clickhouse-server.err.log"
	// consoleLogFile receives the process's stdout and stderr: ClickHouse writes there whatever
	// happens before its logger is configured, such as a config it cannot parse.
	consoleLogFile = "console.log"
)
