package chschema

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Options select the schema mode. The zero value is the single-node schema: the migration
// files run as they are.
//
// With Cluster set, every statement is rewritten for a ClickHouse cluster (remote_servers
// entry Cluster, replicas coordinated by ZooKeeper or ClickHouse Keeper) by ClusterStatements:
//
//   - each table T of the files becomes a local table T_local, created ON CLUSTER with the
//     Replicated form of its engine (ReplacingMergeTree → ReplicatedReplacingMergeTree), at the
//     ZooKeeper path <ZooKeeperPath>/{shard}/<database>/T_local/<token> with replica name
//     {replica} (the server's macros), and a Distributed table T over the T_local tables,
//     sharded by ShardKeys[T]: queries and the projector keep using the names they use on a
//     single node;
//   - schema_migrations (the ledger) is one replicated table on every node of every shard
//     (path without {shard}, replica name {shard}-{replica}), so that an analytics instance
//     connected to any node reads the same ledger;
//   - an ALTER applies to T_local ON CLUSTER, and a column change re-creates the Distributed
//     T from T_local (a Distributed table holds no data; 18.16 refuses ALTER ... ON CLUSTER on
//     a Distributed table of a cluster with internal_replication).
//
// <token> is random per Migrate run: the rebuild creates its staging tables in
// <database>_rebuild and renames them into <database>, and a path keeps the name it was
// created with, so a path naming only the database and table would be taken by the live
// tables at the next rebuild. Replicas added later copy the path from SHOW CREATE TABLE.
type Options struct {
	// Cluster is the cluster's name in the servers' remote_servers (letters, digits and
	// underscores); empty for a single node.
	Cluster string
	// ZooKeeperPath prefixes the replicated tables' ZooKeeper paths; default
	// DefaultZooKeeperPath.
	ZooKeeperPath string
}

// DefaultZooKeeperPath is where the replicated tables live in ZooKeeper unless
// Options.ZooKeeperPath says otherwise.
const DefaultZooKeeperPath = "/clickhouse/tables"

// ShardKeys are the Distributed tables' sharding keys in cluster mode: tenant and the id of
// the aggregate the row belongs to (for members, responses and costs the campaign), hashed.
// Every key is a function of the columns of the table's ORDER BY key or of the aggregate the
// row's events come from, so every version of one row lands on one shard and FINAL and
// argMax(col, seq) stay correct (they collapse versions within a shard only).
var ShardKeys = map[string]string{
	"events":            "cityHash64(tenant, aggregate_id)",
	"leads":             "cityHash64(tenant, lead_id)",
	"lead_transitions":  "cityHash64(tenant, lead_id)",
	"conversions":       "cityHash64(tenant, lead_id)",
	"opportunities":     "cityHash64(tenant, opportunity_id)",
	"stage_transitions": "cityHash64(tenant, opportunity_id)",
	"campaigns":         "cityHash64(tenant, campaign_id)",
	"members":           "cityHash64(tenant, campaign_id)",
	"responses":         "cityHash64(tenant, campaign_id)",
	"costs":             "cityHash64(tenant, campaign_id)",
	"contacts":          "cityHash64(tenant, contact_id)",
	// The snapshots are not taken in cluster mode (package chsnapshot); their tables exist so
	// that every metric query runs unchanged.
	"leads_snapshot":         "cityHash64(tenant, lead_id)",
	"opportunities_snapshot": "cityHash64(tenant, opportunity_id)",
	"snapshots":              "cityHash64(name)",
}

// LedgerTable is the migration ledger; in cluster mode it stays a single replicated table.
const LedgerTable = "schema_migrations"

// LocalSuffix names a table's local (replicated) part in cluster mode.
const LocalSuffix = "_local"

// Clustered reports whether o selects the cluster mode.
func (o Options) Clustered() bool { return o.Cluster != "" }

// OnCluster is " ON CLUSTER <name>" in cluster mode and "" on a single node, for DDL that
// names its databases itself (CREATE/DROP DATABASE, the rebuild's RENAME).
func (o Options) OnCluster() string {
	if !o.Clustered() {
		return ""
	}
	return " ON CLUSTER " + o.Cluster
}

// Validate checks the names that go into DDL unquoted.
func (o Options) Validate() error {
	if o.Cluster != "" && !identRE.MatchString(o.Cluster) {
		return fmt.Errorf("chschema: cluster name %q must match %s", o.Cluster, identRE)
	}
	if o.ZooKeeperPath != "" && !zkPathRE.MatchString(o.ZooKeeperPath) {
		return fmt.Errorf("chschema: ZooKeeper path %q must match %s", o.ZooKeeperPath, zkPathRE)
	}
	return nil
}

var zkPathRE = regexp.MustCompile(`^(/[A-Za-z0-9_.{}-]+)+$`)

// SwapTables are the tables a rebuild renames from its staging database into the live one:
// Tables() on a single node, their local tables in cluster mode (the Distributed tables of
// the live database stay and reach the swapped-in local tables by name).
func (o Options) SwapTables() ([]string, error) {
	tables, err := Tables()
	if err != nil || !o.Clustered() {
		return tables, err
	}
	out := make([]string, len(tables))
	for i, t := range tables {
		out[i] = t + LocalSuffix
	}
	return out, nil
}

var (
	clusterCreateRE = regexp.MustCompile(`(?is)^\s*CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+([A-Za-z_][A-Za-z0-9_]*)\s*(\(.*\))\s*ENGINE\s*=\s*([A-Za-z]*MergeTree)(?:\(([^()]*)\))?(.*)$`)
	clusterAlterRE  = regexp.MustCompile(`(?is)^\s*ALTER\s+TABLE\s+([A-Za-z_][A-Za-z0-9_]*)\s+(.*)$`)
	columnChangeRE  = regexp.MustCompile(`(?i)\b(ADD|DROP|MODIFY|RENAME)\s+COLUMN\b`)
)

// ClusterStatements rewrites one statement of a migration file for cluster mode (see Options)
// in database; token makes the ZooKeeper paths of this run unique. It understands the forms
// the files use — CREATE TABLE IF NOT EXISTS t (...) ENGINE = *MergeTree[(args)] ... and
// ALTER TABLE t ... — and refuses anything else, so that a new kind of statement gets a
// cluster form before it ships.
func (o Options) ClusterStatements(database, token, stmt string) ([]string, error) {
	if !identRE.MatchString(database) {
		return nil, fmt.Errorf("chschema: database name %q must match %s", database, identRE)
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	zk := o.ZooKeeperPath
	if zk == "" {
		zk = DefaultZooKeeperPath
	}
	on := o.OnCluster()
	if m := clusterCreateRE.FindStringSubmatch(stmt); m != nil {
		table, columns, engine, args, rest := m[1], m[2], m[3], strings.TrimSpace(m[4]), m[5]
		path, replica := zk+"/{shard}/"+database+"/"+table+LocalSuffix+"/"+token, "{replica}"
		local := table + LocalSuffix
		if table == LedgerTable {
			path, replica, local = zk+"/all/"+database+"/"+table+"/"+token, "{shard}-{replica}", table
		}
		engineArgs := "'" + path + "', '" + replica + "'"
		if args != "" {
			engineArgs += ", " + args
		}
		out := []string{fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s%s\n%s\nENGINE = Replicated%s(%s)%s",
			database, local, on, columns, engine, engineArgs, rest)}
		if table == LedgerTable {
			return out, nil
		}
		dist, err := o.distributed(database, table, columns)
		if err != nil {
			return nil, err
		}
		return append(out, dist), nil
	}
	if m := clusterAlterRE.FindStringSubmatch(stmt); m != nil {
		table, rest := m[1], m[2]
		if table == LedgerTable {
			return []string{fmt.Sprintf("ALTER TABLE %s.%s%s %s", database, table, on, rest)}, nil
		}
		out := []string{fmt.Sprintf("ALTER TABLE %s.%s%s%s %s", database, table, LocalSuffix, on, rest)}
		if columnChangeRE.MatchString(rest) {
			// The Distributed table takes the local table's new columns: dropped and created
			// again AS the local table (no data lives in it; queries fail for the moment in
			// between, and the projector retries).
			dist, err := o.distributed(database, table, "")
			if err != nil {
				return nil, err
			}
			out = append(out, fmt.Sprintf("DROP TABLE IF EXISTS %s.%s%s", database, table, on), dist)
		}
		return out, nil
	}
	return nil, fmt.Errorf("chschema: no cluster form for the statement %q (the rewriter knows CREATE TABLE IF NOT EXISTS ... ENGINE = *MergeTree and ALTER TABLE)", firstLine(stmt))
}

// distributed is the CREATE of table's Distributed table over its local tables: with the
// given column list, or AS the local table when columns is empty.
func (o Options) distributed(database, table, columns string) (string, error) {
	key, ok := ShardKeys[table]
	if !ok {
		return "", fmt.Errorf("chschema: table %s has no sharding key in chschema.ShardKeys", table)
	}
	structure := "\n" + columns + "\n"
	if columns == "" {
		structure = " AS " + database + "." + table + LocalSuffix + " "
	}
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s%s%sENGINE = Distributed(%s, %s, %s%s, %s)",
		database, table, o.OnCluster(), structure, o.Cluster, database, table, LocalSuffix, key), nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

// newToken returns the random part of this run's ZooKeeper paths.
func newToken() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// currentDatabase asks the server for conn's current database: the cluster form names it in
// every statement, because ON CLUSTER DDL runs on the other nodes in their default database.
func currentDatabase(ctx context.Context, conn driver.Conn) (string, error) {
	var db string
	if err := conn.QueryRow(ctx, "SELECT currentDatabase()").Scan(&db); err != nil {
		return "", fmt.Errorf("chschema: current database: %w", err)
	}
	return db, nil
}

// tableExists reports whether conn's current database holds table on the connected node.
func tableExists(ctx context.Context, conn driver.Conn, table string) (bool, error) {
	var n uint64
	err := conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = ?", table).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("chschema: look for %s: %w", table, err)
	}
	return n > 0, nil
}
