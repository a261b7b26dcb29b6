package deploy

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// composeEnv stands in for the operator's .env: every variable docker-compose.yml requires.
var composeEnv = map[string]string{
	"EVCRM_NATS_LEADS_PASSWORD":         "pw-leads",
	"EVCRM_NATS_PIPELINE_PASSWORD":      "pw-pipeline",
	"EVCRM_NATS_CAMPAIGN_PASSWORD":      "pw-campaign",
	"EVCRM_NATS_ANALYTICS_PASSWORD":     "pw-analytics",
	"CLICKHOUSE_DEFAULT_PASSWORD":       "pw-default",
	"EVCRM_PROJECTOR_PASSWORD":          "pw-projector",
	"EVCRM_ANALYST_PASSWORD":            "pw-analyst",
	"GRAFANA_ADMIN_PASSWORD":            "pw-grafana",
	"EVCRM_AUTH_JWKS":                   "https://idp.invalid/.well-known/jwks.json",
	"EVCRM_AUTH_ISSUER":                 "https://idp.invalid/",
	"EVCRM_AUTH_AUDIENCE":               "evcrm",
	"EVCRM_CAMPAIGN_SERVICE_TOKEN_FILE": "./deploy/secrets/campaign-service.token",
}

func loadCompose(t *testing.T, env map[string]string) (*types.Project, error) {
	t.Helper()
	root := repoRoot(t)
	var list []string
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root), cli.WithEnv(list), cli.WithName("evcrm"))
	if err != nil {
		return nil, err
	}
	return opts.LoadProject(context.Background())
}

// stateful are the compose services whose data must outlive the container, and where it lives.
var stateful = map[string]string{
	"nats-1": "/data", "nats-2": "/data", "nats-3": "/data",
	"clickhouse": "/var/lib/clickhouse", "grafana": "/var/lib/grafana",
	"leads": "/var/lib/evcrm/leads", "pipeline": "/var/lib/evcrm/pipeline", "campaign": "/var/lib/evcrm/campaign",
}

func TestComposeFile(t *testing.T) {
	bins := serviceBinaries(t)
	p, err := loadCompose(t, composeEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"nats-1", "nats-2", "nats-3", "clickhouse", "leads", "pipeline", "campaign", "analytics", "grafana"}
	if got := p.ServiceNames(); len(got) != len(want) {
		t.Errorf("services %v, want %v", got, want)
	}

	published := map[string]string{}
	for _, name := range p.ServiceNames() {
		s := p.Services[name]
		if s.Restart != "unless-stopped" && s.Restart != "always" {
			t.Errorf("%s: restart %q, want unless-stopped or always", name, s.Restart)
		}
		if s.HealthCheck == nil || len(s.HealthCheck.Test) < 2 || s.HealthCheck.Disable {
			t.Errorf("%s: no health check", name)
		}
		if s.Image == "" || strings.HasSuffix(s.Image, ":latest") || (!strings.Contains(s.Image, ":") && s.Build == nil) {
			t.Errorf("%s: image %q is not pinned", name, s.Image)
		}
		for _, port := range s.Ports {
			key := fmt.Sprintf("%s:%s/%s", port.HostIP, port.Published, port.Protocol)
			anyKey := fmt.Sprintf(":%s/%s", port.Published, port.Protocol)
			for other, o := range published {
				// 0.0.0.0 (empty host) collides with every address of the same port.
				if other == key || (strings.HasSuffix(other, anyKey) && (port.HostIP == "" || strings.HasPrefix(other, ":"))) {
					t.Errorf("%s: published port %s collides with %s's %s", name, key, o, other)
				}
			}
			published[key] = name
		}
		if dir, ok := stateful[name]; ok {
			if !hasNamedVolume(p, s, dir) {
				t.Errorf("%s: no named volume at %s", name, dir)
			}
		}
	}

	for _, name := range services {
		s, ok := p.Services[name]
		if !ok {
			t.Fatalf("no service %s", name)
		}
		b := bins[name]
		if s.Build == nil || s.Build.Target != name {
			t.Errorf("%s: build target %v, want the Dockerfile's %q stage", name, s.Build, name)
		}
		env := resolvedEnv(s)
		checkServiceSettings(t, "docker-compose.yml "+name, b, env, s.Command)
		if name == "campaign" {
			checkComposeServiceToken(t, p, s, env)
		}
		if env["EVCRM_AUTH_JWKS"] == "" {
			t.Errorf("%s: no JWT authentication (EVCRM_AUTH_JWKS)", name)
		}
		if env["EVCRM_REPLICAS"] != "3" {
			t.Errorf("%s: EVCRM_REPLICAS %q, want 3 on the 3-node NATS cluster", name, env["EVCRM_REPLICAS"])
		}
		// The health check probes the port the service listens on.
		_, grpcPort, _ := strings.Cut(env["EVCRM_GRPC_ADDR"], ":")
		if hc := strings.Join(s.HealthCheck.Test, " "); !strings.Contains(hc, "grpchealth") || !strings.Contains(hc, ":"+grpcPort) {
			t.Errorf("%s: health check %q does not probe gRPC port %s", name, hc, grpcPort)
		}
		for _, dep := range []string{"nats-1", "nats-2", "nats-3"} {
			if d, ok := s.DependsOn[dep]; !ok || d.Condition != types.ServiceConditionHealthy {
				t.Errorf("%s: does not wait for %s to be healthy", name, dep)
			}
		}
		t.Run("values/"+name, func(t *testing.T) {
			t.Parallel()
			if out, ok := valuesAccepted(t, b, env); !ok {
				t.Errorf("the configuration was refused:\n%s", out)
			}
		})
	}
	if c := p.Services["analytics"].DependsOn["clickhouse"]; c.Condition != types.ServiceConditionHealthy {
		t.Error("analytics does not wait for clickhouse to be healthy")
	}
}

func TestComposeRequiresSecrets(t *testing.T) {
	t.Parallel()
	for _, missing := range []string{"EVCRM_PROJECTOR_PASSWORD", "EVCRM_CAMPAIGN_SERVICE_TOKEN_FILE"} {
		env := map[string]string{}
		for k, v := range composeEnv {
			if k != missing {
				env[k] = v
			}
		}
		_, err := loadCompose(t, env)
		if err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("loading without %s: %v, want an error naming it", missing, err)
		}
	}
}

// checkComposeServiceToken checks that campaign's EVCRM_SERVICE_TOKEN_FILE is where compose
// mounts a secret read from a file (the binary's configuration check stats the file, and
// rule actions against leads need the token).
func checkComposeServiceToken(t *testing.T, p *types.Project, s types.ServiceConfig, env map[string]string) {
	t.Helper()
	file := env["EVCRM_SERVICE_TOKEN_FILE"]
	if file == "" {
		t.Error("campaign: no EVCRM_SERVICE_TOKEN_FILE: rule actions against leads fail UNAUTHENTICATED")
		return
	}
	for _, sec := range s.Secrets {
		target := sec.Target
		if target == "" {
			target = sec.Source
		}
		if !strings.HasPrefix(target, "/") {
			target = "/run/secrets/" + target
		}
		if target != file {
			continue
		}
		if def, ok := p.Secrets[sec.Source]; !ok || def.File == "" {
			t.Errorf("campaign: secret %s is not declared with a file", sec.Source)
		}
		return
	}
	t.Errorf("campaign: EVCRM_SERVICE_TOKEN_FILE %s is not where any of its secrets is mounted", file)
}

func hasNamedVolume(p *types.Project, s types.ServiceConfig, target string) bool {
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeVolume && v.Target == target {
			_, declared := p.Volumes[v.Source]
			return declared
		}
	}
	return false
}

func resolvedEnv(s types.ServiceConfig) map[string]string {
	env := map[string]string{}
	for k, v := range s.Environment {
		if v != nil {
			env[k] = *v
		} else {
			env[k] = ""
		}
	}
	return env
}

// valuesAccepted runs the binary with env (its data dir moved to a temp dir) and checks
// that it gets past loading and validating its configuration: a bad value stops it at once with
// "-flag / $EVCRM_…" in the error; good values let it go on to reach the identity provider and
// NATS, which do not exist here, so it fails later or is stopped after a few seconds.
func valuesAccepted(t *testing.T, b binary, env map[string]string) (output string, ok bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.path)
	cmd.Env = []string{"HOME=" + t.TempDir()}
	for k, v := range env {
		switch k {
		case "EVCRM_DATA_DIR":
			v = filepath.Join(t.TempDir(), "data")
		case "EVCRM_SERVICE_TOKEN_FILE":
			// The secret compose mounts there (checkComposeServiceToken): a file that exists.
			v = filepath.Join(t.TempDir(), "service.token")
			if err := os.WriteFile(v, []byte("header.payload.signature\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, _ := cmd.CombinedOutput()
	refused := strings.Contains(string(out), " / $EVCRM_") || strings.Contains(string(out), "invalid value")
	return string(out), !refused
}

// TestValuesAcceptedCatchesBadValues proves the check above can fail: values the binaries
// refuse are reported.
func TestValuesAcceptedCatchesBadValues(t *testing.T) {
	b := serviceBinaries(t)["leads"]
	for _, bad := range []map[string]string{
		{"EVCRM_REPLICAS": "2"},
		{"EVCRM_GRPC_ADDR": "9101"},
		{"EVCRM_SHUTDOWN_TIMEOUT": "soon"},
		{"EVCRM_AUTH_JWKS": "https://idp.invalid/jwks.json"}, // without issuer and audience
	} {
		if out, ok := valuesAccepted(t, b, bad); ok {
			t.Errorf("%v accepted:\n%s", bad, out)
		}
	}
}
