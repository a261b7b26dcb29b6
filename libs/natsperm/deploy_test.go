package natsperm_test

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/evcrm/evcrm/libs/natsperm"
)

var update = flag.Bool("update", false, "rewrite deploy/nats/auth.conf and the users of deploy/k8s/nats/values.yaml from the table")

// TestDeployConfigMatchesTable fails when deploy/ grants other permissions than the table;
// `make nats-auth` (this test with -update) rewrites them.
func TestDeployConfigMatchesTable(t *testing.T) {
	root := filepath.Join("..", "..", "deploy")
	conf := filepath.Join(root, "nats", "auth.conf")
	want, err := natsperm.DeployConf()
	if err != nil {
		t.Fatal(err)
	}
	values := filepath.Join(root, "k8s", "nats", "values.yaml")
	b, err := os.ReadFile(values)
	if err != nil {
		t.Fatal(err)
	}
	wantValues, err := natsperm.ReplaceHelmUsers(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(conf, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(values, []byte(wantValues), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s differs from the permission table; run `make nats-auth`", conf)
	}
	if string(b) != wantValues && !*update {
		t.Errorf("%s: the generated users differ from the permission table; run `make nats-auth`", values)
	}
}

// TestServerUsersMatchRenderedConf: the embedded form and the configuration text grant the same.
func TestServerUsersMatchRenderedConf(t *testing.T) {
	p, err := natsperm.Integration("acme")
	if err != nil {
		t.Fatal(err)
	}
	var creds []natsperm.Credential
	for _, u := range append(natsperm.ServiceUsers(), p) {
		creds = append(creds, natsperm.Credential{Permissions: u, Password: "pw-" + u.User})
	}
	path := filepath.Join(t.TempDir(), "auth.conf")
	if err := os.WriteFile(path, []byte(natsperm.RenderConf(creds)), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := natsperm.ServerUsers(creds)
	if len(opts.Users) != len(want) {
		t.Fatalf("%d users parsed, %d rendered", len(opts.Users), len(want))
	}
	for i, u := range opts.Users {
		w := want[i]
		if u.Username != w.Username || u.Password != w.Password ||
			!reflect.DeepEqual(u.Permissions.Publish.Allow, w.Permissions.Publish.Allow) ||
			!reflect.DeepEqual(u.Permissions.Subscribe.Allow, w.Permissions.Subscribe.Allow) ||
			u.Permissions.Publish.Deny != nil || u.Permissions.Subscribe.Deny != nil {
			t.Errorf("user %d: parsed %+v, want %+v", i, u, w)
		}
	}
}

func TestForRejectsUnknownUsersAndBadTenants(t *testing.T) {
	for _, name := range []string{"billing", "integration:", "integration:a.b", "integration:*", "integration:>"} {
		if _, err := natsperm.For(name); err == nil {
			t.Errorf("For(%q) succeeded", name)
		}
	}
	p, err := natsperm.For("integration:acme")
	if err != nil || p.User != "integration-acme" || natsperm.PasswordVar(p.User) != "EVCRM_NATS_INTEGRATION_ACME_PASSWORD" {
		t.Errorf("For(integration:acme) = %+v, %v", p, err)
	}
}
