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
