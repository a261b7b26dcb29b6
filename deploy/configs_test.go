package deploy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"sigs.k8s.io/yaml"
)

func TestNATSClusterConfig(t *testing.T) {
	for k, v := range composeEnv {
		if strings.HasPrefix(k, "EVCRM_NATS_") {
			t.Setenv(k, v) // nats-server resolves $VARIABLES from its environment
		}
	}
	names := map[string]bool{}
	for _, n := range []string{"nats-1", "nats-2", "nats-3"} {
		opts, err := server.ProcessConfigFile(filepath.Join(repoRoot(t), "deploy", "nats", n+".conf"))
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		names[opts.ServerName] = true
		if !opts.JetStream || opts.StoreDir != "/data/jetstream" {
			t.Errorf("%s: JetStream %v, store %q", n, opts.JetStream, opts.StoreDir)
		}
		if !opts.SyncAlways {
			t.Errorf("%s: sync_interval is not always (one host is one failure domain)", n)
		}
		if opts.Cluster.Name != "evcrm" || opts.Cluster.Port != 6222 || len(opts.Routes) != 3 {
			t.Errorf("%s: cluster %q port %d, %d routes", n, opts.Cluster.Name, opts.Cluster.Port, len(opts.Routes))
		}
		if opts.HTTPPort != 8222 || opts.Port != 4222 {
			t.Errorf("%s: client port %d, monitoring %d", n, opts.Port, opts.HTTPPort)
		}
		users := map[string]string{}
		for _, u := range opts.Users {
			users[u.Username] = u.Password
			checkNATSPermissions(t, n, u)
		}
		for _, s := range services {
			if users[s] != composeEnv["EVCRM_NATS_"+strings.ToUpper(s)+"_PASSWORD"] {
				t.Errorf("%s: user %s has password %q, not the one from the environment", n, s, users[s])
			}
		}
	}
	if len(names) != 3 {
		t.Errorf("server names %v: the three nodes must differ", names)
	}
}

// checkNATSPermissions holds every user of the NATS configuration to least privilege: an allow
// list on both directions (libs/natsperm generates them and checks they match its table), no
// stream deletion or purge, no subscription beyond the inbox, and event subjects only of the
// user's own streams.
func checkNATSPermissions(t *testing.T, node string, u *server.User) {
	t.Helper()
	p := u.Permissions
	if p == nil || p.Publish == nil || p.Subscribe == nil || len(p.Publish.Allow) == 0 || len(p.Subscribe.Allow) == 0 {
		t.Errorf("%s: user %s may publish or subscribe to everything", node, u.Username)
		return
	}
	own := map[string][]string{"leads": {"lead", "contact"}, "pipeline": {"opportunity"}, "campaign": {"campaign", "rule"}, "analytics": nil}
	for _, s := range p.Publish.Allow {
		if s == ">" || strings.Contains(s, "STREAM.DELETE") || strings.Contains(s, "STREAM.PURGE") || s == "crm.>" {
			t.Errorf("%s: user %s may publish to %s", node, u.Username, s)
		}
		if typ, ok := strings.CutPrefix(s, "crm.*."); ok {
			typ = strings.TrimSuffix(typ, ".>")
			owner := ""
			for svc, types := range own {
				for _, ty := range types {
					if ty == typ {
						owner = svc
					}
				}
			}
			if owner != "" && owner != u.Username {
				t.Errorf("%s: user %s may publish %s events of the %s service", node, u.Username, typ, owner)
			}
		}
	}
	if strings.Join(p.Subscribe.Allow, ",") != "_INBOX.>" {
		t.Errorf("%s: user %s subscribes to %v", node, u.Username, p.Subscribe.Allow)
	}
	if _, ok := own[u.Username]; ok && len(own[u.Username]) > 0 {
		for _, ty := range own[u.Username] {
			if !slices.Contains(p.Publish.Allow, "crm.*."+ty+".>") {
				t.Errorf("%s: user %s may not publish its %s events", node, u.Username, ty)
			}
		}
	}
}

// usersFile is the part of a ClickHouse users file the checks read.
type usersFile struct {
	XMLName  xml.Name `xml:"yandex"`
	Profiles struct {
		Analyst struct {
			Readonly int `xml:"readonly"`
		} `xml:"evcrm_analyst"`
	} `xml:"profiles"`
	Users struct {
		Default   chUser `xml:"default"`
		Projector chUser `xml:"evcrm_projector"`
		Analyst   chUser `xml:"evcrm_analyst"`
	} `xml:"users"`
}

type chUser struct {
	SHA256    string   `xml:"password_sha256_hex"`
	Databases []string `xml:"allow_databases>database"`
	Profile   string   `xml:"profile"`
	Networks  []string `xml:"networks>ip"`
	// Password is the plain-password element; `default` must remove the package's blank one.
	Password *struct {
		Remove string `xml:"remove,attr"`
	} `xml:"password"`
}

func TestClickHouseUsersRendered(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(repoRoot(t), "deploy", "clickhouse")
	out := filepath.Join(t.TempDir(), "evcrm.xml")
	cmd := exec.Command("sh", filepath.Join(dir, "render-users.sh"), filepath.Join(dir, "users.d", "evcrm.xml"), out)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "CLICKHOUSE_DEFAULT_PASSWORD=pw-default",
		"EVCRM_PROJECTOR_PASSWORD=pw/&projector", "EVCRM_ANALYST_PASSWORD=pw-analyst"}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("render-users.sh: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var f usersFile
	if err := xml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	for who, c := range map[string]struct{ got, pw string }{
		"default":         {f.Users.Default.SHA256, "pw-default"},
		"evcrm_projector": {f.Users.Projector.SHA256, "pw/&projector"},
		"evcrm_analyst":   {f.Users.Analyst.SHA256, "pw-analyst"},
	} {
		if c.got != sum(c.pw) {
			t.Errorf("%s: hash %q, want sha256 of its password", who, c.got)
		}
	}
	if f.Profiles.Analyst.Readonly != 2 || strings.Join(f.Users.Analyst.Databases, ",") != "evcrm" || f.Users.Analyst.Profile != "evcrm_analyst" {
		t.Errorf("analyst: readonly %d, databases %v, profile %q", f.Profiles.Analyst.Readonly, f.Users.Analyst.Databases, f.Users.Analyst.Profile)
	}
	// The projector writes the analytics databases and nothing else.
	if strings.Join(f.Users.Projector.Databases, ",") != "evcrm,evcrm_rebuild,evcrm_old" || f.Users.Projector.Profile != "evcrm_projector" {
		t.Errorf("projector: databases %v, profile %q", f.Users.Projector.Databases, f.Users.Projector.Profile)
	}
	// default: the blank password removed, loopback only.
	if d := f.Users.Default; d.Password == nil || d.Password.Remove != "remove" || strings.Join(d.Networks, ",") != "::1,127.0.0.1" {
		t.Errorf("default user: password element %+v, networks %v", d.Password, d.Networks)
	}
	if !regexp.MustCompile(`<readonly remove="remove"/>`).Match(b) {
		t.Error("Debian's passwordless readonly user is not removed")
	}

	// A missing password stops the rendering: no user without a password.
	cmd = exec.Command("sh", filepath.Join(dir, "render-users.sh"), filepath.Join(dir, "users.d", "evcrm.xml"), out+".2")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "CLICKHOUSE_DEFAULT_PASSWORD=x", "EVCRM_PROJECTOR_PASSWORD=y"}
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "EVCRM_ANALYST_PASSWORD") {
		t.Errorf("render without EVCRM_ANALYST_PASSWORD: %v %s", err, b)
	}
}

// documentedTables are the tables docs/analytics.md describes ("### `name`" headings).
func documentedTables(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "analytics.md"))
	if err != nil {
		t.Fatal(err)
	}
	tables := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^### `([a-z_]+)`").FindAllSubmatch(b, -1) {
		tables[string(m[1])] = true
	}
	if len(tables) < 10 {
		t.Fatalf("found %d documented tables in docs/analytics.md", len(tables))
	}
	return tables
}

func TestGrafanaProvisioning(t *testing.T) {
	t.Parallel()
	root := filepath.Join(repoRoot(t), "deploy", "grafana")
	var ds struct {
		Datasources []struct {
			UID, Type string
			JSONData  map[string]any `json:"jsonData"`
		} `json:"datasources"`
	}
	b, err := os.ReadFile(filepath.Join(root, "provisioning", "datasources", "clickhouse.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &ds); err != nil {
		t.Fatal(err)
	}
	if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "grafana-clickhouse-datasource" ||
		ds.Datasources[0].JSONData["username"] != "evcrm_analyst" || ds.Datasources[0].JSONData["defaultDatabase"] != "evcrm" {
		t.Fatalf("data source %+v", ds.Datasources)
	}
	uid := ds.Datasources[0].UID

	tables := documentedTables(t)
	fromRE := regexp.MustCompile(`(?i)\b(?:FROM|JOIN)\s+([a-z_]+)`)
	files, _ := filepath.Glob(filepath.Join(root, "dashboards", "*.json"))
	if len(files) == 0 {
		t.Fatal("no dashboards")
	}
	covered := map[string]bool{}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			UID    string
			Panels []struct {
				Title   string
				Targets []struct {
					RawSQL     string `json:"rawSql"`
					Datasource struct{ UID string }
				}
			}
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, p := range d.Panels {
			if len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no query", file, p.Title)
			}
			for _, q := range p.Targets {
				if q.Datasource.UID != uid {
					t.Errorf("%s: panel %q uses data source %q, not %q", file, p.Title, q.Datasource.UID, uid)
				}
				if !strings.Contains(q.RawSQL, "tenant = '${tenant}'") {
					t.Errorf("%s: panel %q does not filter on the tenant", file, p.Title)
				}
				for _, m := range fromRE.FindAllStringSubmatch(q.RawSQL, -1) {
					if !tables[m[1]] {
						t.Errorf("%s: panel %q reads %q, which docs/analytics.md does not document", file, p.Title, m[1])
					}
					covered[m[1]] = true
				}
			}
		}
	}
	// Funnel, velocity, forecast and campaign performance.
	for _, tbl := range []string{"leads", "lead_transitions", "opportunities", "stage_transitions", "campaigns", "members"} {
		if !covered[tbl] {
			t.Errorf("no panel reads %s", tbl)
		}
	}
}

func TestHelmAndOperatorManifests(t *testing.T) {
	t.Parallel()
	root := filepath.Join(repoRoot(t), "deploy", "k8s")
	var values struct {
		Config struct {
			Cluster struct {
				Enabled  bool
				Replicas int
			}
			JetStream struct {
				Enabled   bool
				FileStore struct {
					Enabled bool
					PVC     struct {
						Enabled bool
						Size    string
					}
				} `json:"fileStore"`
			} `json:"jetstream"`
			Merge struct {
				JetStream     map[string]any `json:"jetstream"`
				Authorization struct {
					Users []struct {
						User, Password string
						Permissions    struct {
							Publish, Subscribe struct{ Allow []string }
						}
					}
				}
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(root, "nats", "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &values); err != nil {
		t.Fatal(err)
	}
	c := values.Config
	if !c.Cluster.Enabled || c.Cluster.Replicas != 3 || !c.JetStream.Enabled || !c.JetStream.FileStore.Enabled ||
		!c.JetStream.FileStore.PVC.Enabled || c.JetStream.FileStore.PVC.Size == "" || c.Merge.JetStream["sync_interval"] == nil {
		t.Errorf("NATS values: %+v", c)
	}
	// The same users as auth.conf (libs/natsperm checks the lists match its table); passwords
	// must be the chart's unquoted variable references, not literal "$NAME" strings.
	helmUsers := map[string]bool{}
	for _, u := range c.Merge.Authorization.Users {
		helmUsers[u.User] = true
		if u.Password != "<< $EVCRM_NATS_"+strings.ToUpper(u.User)+"_PASSWORD >>" {
			t.Errorf("NATS values: user %s password %q", u.User, u.Password)
		}
		if len(u.Permissions.Publish.Allow) == 0 || strings.Join(u.Permissions.Subscribe.Allow, ",") != "_INBOX.>" {
			t.Errorf("NATS values: user %s permissions %+v", u.User, u.Permissions)
		}
	}
	for _, svc := range services {
		if !helmUsers[svc] {
			t.Errorf("NATS values: no user %s", svc)
		}
	}

	b, err = os.ReadFile(filepath.Join(root, "clickhouse", "chi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(b), "\n---\n")
	var chi struct {
		APIVersion, Kind string
		Spec             struct {
			Configuration struct {
				Zookeeper struct{ Nodes []struct{ Host string } }
				Clusters  []struct {
					Name   string
					Layout struct{ ShardsCount, ReplicasCount int } `json:"layout"`
					Secret struct{ Auto string }
				}
				Users    map[string]any
				Profiles map[string]any
			}
		}
	}
	// The operator's types are not in k8s.io/api; check the fields the deployment relies on.
	if err := yaml.Unmarshal([]byte(docs[0]), &chi); err != nil {
		t.Fatal(err)
	}
	if chi.APIVersion != "clickhouse.altinity.com/v1" || chi.Kind != "ClickHouseInstallation" || len(chi.Spec.Configuration.Clusters) != 1 ||
		chi.Spec.Configuration.Clusters[0].Layout.ShardsCount < 1 || chi.Spec.Configuration.Clusters[0].Layout.ReplicasCount < 2 ||
		len(chi.Spec.Configuration.Zookeeper.Nodes) == 0 {
		t.Errorf("ClickHouseInstallation: %+v", chi)
	}
	// Least privilege: default gets a password (distributed queries use the interserver secret
	// instead of it), the analyst is readonly 2, the projector reaches the analytics databases.
	cfg := chi.Spec.Configuration
	if len(cfg.Clusters) == 1 && cfg.Clusters[0].Secret.Auto != "true" {
		t.Error("ClickHouseInstallation: no interserver secret (secret.auto)")
	}
	// The analytics Deployments name this cluster in EVCRM_CLICKHOUSE_CLUSTER (k8s_test.go),
	// and the metric queries' joins over Distributed tables need GLOBAL on several shards.
	if len(cfg.Clusters) == 1 && cfg.Clusters[0].Name != chiCluster {
		t.Errorf("ClickHouseInstallation: cluster %q, want %q (EVCRM_CLICKHOUSE_CLUSTER)", cfg.Clusters[0].Name, chiCluster)
	}
	for _, p := range []string{"evcrm_analyst", "evcrm_projector"} {
		if fmt.Sprint(cfg.Profiles[p+"/distributed_product_mode"]) != "global" {
			t.Errorf("ClickHouseInstallation: profile %s lacks distributed_product_mode global", p)
		}
	}
	if cfg.Users["default/k8s_secret_password_sha256_hex"] == nil {
		t.Error("ClickHouseInstallation: default user without a password")
	}
	if fmt.Sprint(cfg.Profiles["evcrm_analyst/readonly"]) != "2" || fmt.Sprint(cfg.Users["evcrm_analyst/allow_databases/database"]) != "evcrm" ||
		fmt.Sprint(cfg.Users["evcrm_projector/allow_databases/database"]) != "[evcrm evcrm_rebuild evcrm_old]" {
		t.Errorf("ClickHouseInstallation users %v, profiles %v", cfg.Users, cfg.Profiles)
	}
}
