package testkit

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/evcrm/evcrm/libs/chembed"
)

// ClickHouseClusterName is the cluster name (remote_servers) of StartClickHouseCluster.
const ClickHouseClusterName = "evcrm"

// ClickHouseCluster is a ClickHouse cluster for tests: shards × replicas clickhouse-server
// processes (Debian's 18.16, libs/chembed) on loopback, replicating through a ZooKeeper of
// the test's own (StartZooKeeper). Node(s, r) has the macros {shard} = s+1 (two digits) and
// {replica} = r+1 ("r1", "r2", ...).
type ClickHouseCluster struct {
	ZooKeeper *ZooKeeper
	nodes     [][]*chembed.Server
}

// StartClickHouseCluster starts the ZooKeeper and the servers, all killed when the test
// ends. Without ZooKeeper or ClickHouse the test is skipped, unless
// CI is set (see StartZooKeeper and StartClickHouse).
func StartClickHouseCluster(t testing.TB, shards, replicas int) *ClickHouseCluster {
	t.Helper()
	if shards < 1 || replicas < 1 {
		t.Fatalf("testkit: a cluster needs at least one shard and one replica, not %d × %d", shards, replicas)
	}
	c := &ClickHouseCluster{ZooKeeper: StartZooKeeper(t)}
	// The servers list each other in remote_servers, so their native ports are chosen first.
	layout := make([][]string, shards)
	for s := range layout {
		for range replicas {
			layout[s] = append(layout[s], FreeAddr(t))
		}
	}
	c.nodes = make([][]*chembed.Server, shards)
	for s := range layout {
		for r, addr := range layout[s] {
			cfg := clickhouseConfig(t.TempDir())
			if err := writeClusterProfile(cfg.Dir); err != nil {
				t.Fatal(err)
			}
			_, port, _ := net.SplitHostPort(addr)
			cfg.TCPPort, _ = strconv.Atoi(port)
			cfg.Cluster = &chembed.Cluster{Name: ClickHouseClusterName, Shards: layout,
				ZooKeeper: []string{c.ZooKeeper.Addr()}, Shard: fmt.Sprintf("%02d", s+1), Replica: fmt.Sprintf("r%d", r+1),
				SessionTimeout: 6 * time.Second}
			// A replica that was killed replays its ZooKeeper queue and checks its parts
			// before it answers; allow for a loaded machine.
			cfg.ReadyTimeout = 60 * time.Second
			srv, err := chembed.Start(t.Context(), cfg)
			if err != nil {
				clickhouseUnavailable(t, err)
			}
			// Killed, not stopped: the data is thrown away, and 18.16 takes seconds to shut
			// replicated tables down.
			t.Cleanup(srv.Kill)
			c.nodes[s] = append(c.nodes[s], srv)
		}
	}
	return c
}

// Node is replica r (0-based) of shard s (0-based).
func (c *ClickHouseCluster) Node(s, r int) *chembed.Server { return c.nodes[s][r] }

// Nodes are every server, shard by shard.
func (c *ClickHouseCluster) Nodes() []*chembed.Server {
	var out []*chembed.Server
	for _, shard := range c.nodes {
		out = append(out, shard...)
	}
	return out
}

// ConnDatabase opens a connection to one node as the default user, in database, closed when
// the test ends.
func (c *ClickHouseCluster) ConnDatabase(t testing.TB, node *chembed.Server, database string) driver.Conn {
	t.Helper()
	opts := node.Options()
	opts.Auth.Database = database
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	conn, err := node.OpenWith(ctx, opts)
	if err != nil {
		t.Fatalf("testkit: connect to clickhouse %s: %v", node.Addr(), err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// clusterProfile is what deploy/clickhouse/users.d/evcrm.xml sets for a cluster, here on the
// test servers' default profile: an IN or JOIN subquery over a Distributed table inside a
// query over a Distributed table runs once on the initiator and is shipped to the shards
// (GLOBAL), which is right whatever the tables' sharding keys; 18.16's default refuses such
// queries on more than one shard ("Double-distributed IN/JOIN subqueries is denied").
const clusterProfile = `<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <distributed_product_mode>global</distributed_product_mode>
        </default>
    </profiles>
</yandex>
`

// clusterMergeTree removes merged-away parts after a second instead of eight minutes: every
// small insert of a test is a part of a dozen files per replica, and tens of thousands of
// files made removing the test's directories take longer than the test.
const clusterMergeTree = `<?xml version="1.0"?>
<yandex>
    <merge_tree>
        <old_parts_lifetime>1</old_parts_lifetime>
    </merge_tree>
</yandex>
`

func writeClusterProfile(dir string) error {
	for _, f := range []struct{ dir, body string }{{"users.d", clusterProfile}, {"config.d", clusterMergeTree}} {
		if err := os.MkdirAll(filepath.Join(dir, f.dir), 0o750); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, f.dir, "evcrm-cluster.xml"), []byte(f.body), 0o600); err != nil {
			return err
		}
	}
	return nil
}
