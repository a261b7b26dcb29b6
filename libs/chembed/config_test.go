package chembed

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigResolved(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{name: "defaults", cfg: Config{Dir: "x"}},
		{name: "no dir", cfg: Config{}, wantErr: "Dir is required"},
		{name: "same ports", cfg: Config{Dir: "x", TCPPort: 9000, HTTPPort: 9000}, wantErr: "both 9000"},
		{name: "port range", cfg: Config{Dir: "x", TCPPort: 70000}, wantErr: "out of range"},
		{name: "log level", cfg: Config{Dir: "x", LogLevel: "loud"}, wantErr: "LogLevel"},
		{name: "user name", cfg: Config{Dir: "x", Users: []User{{Name: "bad-name"}}}, wantErr: "bad-name"},
		{name: "default user", cfg: Config{Dir: "x", Users: []User{{Name: "default"}}}, wantErr: "declared twice"},
		{name: "duplicate user", cfg: Config{Dir: "x", Users: []User{{Name: "a"}, {Name: "a"}}}, wantErr: "declared twice"},
		{name: "readonly", cfg: Config{Dir: "x", Users: []User{{Name: "a", Readonly: 3}}}, wantErr: "Readonly"},
		{name: "network", cfg: Config{Dir: "x", Users: []User{{Name: "a", Networks: []string{"nope"}}}}, wantErr: "nope"},
		{name: "cidr", cfg: Config{Dir: "x", Users: []User{{Name: "a", Networks: []string{"10.0.0.0/8", "::1"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.cfg.resolved()
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(got.Dir, "/"), "Dir made absolute: %s", got.Dir)
			assert.Equal(t, defaultHost, got.Host)
			assert.Equal(t, defaultReadyTimeout, got.ReadyTimeout)
			for _, u := range got.Users {
				assert.NotEmpty(t, u.Networks)
			}
		})
	}
}

func TestRenderConfigIsWellFormedXML(t *testing.T) {
	t.Parallel()
	cfg, err := Config{
		Dir:     "/srv/<ch & co>",
		TCPPort: 19000, HTTPPort: 18123,
		Users: []User{
			{Name: "analyst", Password: "p<w>&'\"", Readonly: 2},
			{Name: "viewer", Readonly: 1, Networks: []string{"10.0.0.0/8"}},
		},
	}.resolved()
	require.NoError(t, err)
	config, users, err := renderConfig(cfg)
	require.NoError(t, err)

	var c struct {
		Path       string    `xml:"path"`
		TCPPort    int       `xml:"tcp_port"`
		Interserve *struct{} `xml:"interserver_http_port"`
	}
	require.NoError(t, xml.Unmarshal(config, &c), string(config))
	assert.Equal(t, "/srv/<ch & co>/data/", c.Path)
	assert.Equal(t, 19000, c.TCPPort)
	assert.Nil(t, c.Interserve, "a single node opens no interserver port")

	var u struct {
		Users struct {
			Analyst struct {
				SHA256  string   `xml:"password_sha256_hex"`
				Profile string   `xml:"profile"`
				IPs     []string `xml:"networks>ip"`
			} `xml:"analyst"`
			Viewer struct {
				IPs []string `xml:"networks>ip"`
			} `xml:"viewer"`
		} `xml:"users"`
	}
	require.NoError(t, xml.Unmarshal(users, &u), string(users))
	assert.Len(t, u.Users.Analyst.SHA256, 64)
	assert.NotContains(t, string(users), "p<w>", "the plain password is not written")
	assert.Equal(t, "evcrm_user_analyst", u.Users.Analyst.Profile)
	assert.Equal(t, []string{"::1", "127.0.0.1"}, u.Users.Analyst.IPs)
	assert.Equal(t, []string{"10.0.0.0/8"}, u.Users.Viewer.IPs)
}

func TestRenderClusterConfig(t *testing.T) {
	t.Parallel()
	cfg, err := Config{Dir: "/srv/n1", TCPPort: 19001, HTTPPort: 18124, Cluster: &Cluster{
		Name: "evcrm", Shards: [][]string{{"127.0.0.1:19001", "127.0.0.1:19002"}, {"127.0.0.1:19003"}},
		ZooKeeper: []string{"127.0.0.1:2181"}, Shard: "01", Replica: "r1", InterserverPort: 19011,
	}}.resolved()
	require.NoError(t, err)
	config, _, err := renderConfig(cfg)
	require.NoError(t, err)
	type replica struct {
		Host string `xml:"host"`
		Port int    `xml:"port"`
	}
	var c struct {
		Interserver int `xml:"interserver_http_port"`
		Shards      []struct {
			Internal bool      `xml:"internal_replication"`
			Replicas []replica `xml:"replica"`
		} `xml:"remote_servers>evcrm>shard"`
		ZooKeeper []replica `xml:"zookeeper>node"`
		Timeout   int       `xml:"zookeeper>session_timeout_ms"`
		Shard     string    `xml:"macros>shard"`
		Replica   string    `xml:"macros>replica"`
	}
	require.NoError(t, xml.Unmarshal(config, &c), string(config))
	assert.Equal(t, 19011, c.Interserver)
	require.Len(t, c.Shards, 2)
	assert.True(t, c.Shards[0].Internal)
	assert.Equal(t, []replica{{"127.0.0.1", 19001}, {"127.0.0.1", 19002}}, c.Shards[0].Replicas)
	assert.Equal(t, []replica{{"127.0.0.1", 2181}}, c.ZooKeeper)
	assert.Equal(t, 10000, c.Timeout)
	assert.Equal(t, "01", c.Shard)
	assert.Equal(t, "r1", c.Replica)

	for name, bad := range map[string]Cluster{
		"name":    {Name: "bad-name", Shards: [][]string{{"a:1"}}, ZooKeeper: []string{"z:1"}, Shard: "1", Replica: "1"},
		"address": {Name: "c", Shards: [][]string{{"nohost"}}, ZooKeeper: []string{"z:1"}, Shard: "1", Replica: "1"},
		"macros":  {Name: "c", Shards: [][]string{{"a:1"}}, ZooKeeper: []string{"z:1"}},
		"zk":      {Name: "c", Shards: [][]string{{"a:1"}}, Shard: "1", Replica: "1"},
	} {
		_, err := Config{Dir: "x", Cluster: &bad}.resolved()
		assert.Error(t, err, name)
	}
}
