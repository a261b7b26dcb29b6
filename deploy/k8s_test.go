package deploy

import (
	"bytes"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// buildOverlay renders a kustomize overlay in memory, as `kubectl kustomize` does.
func buildOverlay(t *testing.T, overlay string) [][]byte {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(repoRoot(t), "deploy", "k8s", "overlays", overlay))
	if err != nil {
		t.Fatal(err)
	}
	var docs [][]byte
	for _, r := range m.Resources() {
		b, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, b)
	}
	return docs
}

// decodeStrict decodes a YAML object into its k8s.io/api type; an unknown or duplicate field is
// an error (a misspelt "readinessProbe" would otherwise vanish silently).
func decodeStrict(doc []byte) (runtime.Object, *schema.GroupVersionKind, error) {
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, nil, err
	}
	s := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme.Scheme, scheme.Scheme,
		json.SerializerOptions{Strict: true})
	return s.Decode(js, nil, nil)
}

func TestKustomizeOverlays(t *testing.T) {
	bins := serviceBinaries(t)
	for _, overlay := range []string{"dev", "prod"} {
		t.Run(overlay, func(t *testing.T) {
			deployments := map[string]*appsv1.Deployment{}
			pdbs, hpas, svcs, cms := map[string]bool{}, map[string]*autoscalingv2.HorizontalPodAutoscaler{}, map[string]bool{}, map[string]*corev1.ConfigMap{}
			for _, doc := range buildOverlay(t, overlay) {
				obj, gvk, err := decodeStrict(doc)
				if err != nil {
					t.Fatalf("%v\n%s", err, doc)
				}
				switch o := obj.(type) {
				case *appsv1.Deployment:
					deployments[o.Name] = o
				case *policyv1.PodDisruptionBudget:
					pdbs[o.Name] = true
				case *autoscalingv2.HorizontalPodAutoscaler:
					hpas[o.Spec.ScaleTargetRef.Name] = o
				case *corev1.Service:
					svcs[o.Name] = true
				case *corev1.ConfigMap:
					cms[o.Name] = o
				case *corev1.Secret:
				default:
					t.Errorf("unexpected %s", gvk)
				}
			}
			if len(cms) != 2 {
				t.Fatalf("config maps %v, want evcrm-config and evcrm-analytics-config", cms)
			}
			var cm, acm *corev1.ConfigMap
			for _, c := range cms {
				if strings.HasPrefix(c.Name, "evcrm-analytics-config") {
					acm = c
				} else {
					cm = c
				}
			}
			if cm == nil || acm == nil {
				t.Fatalf("config maps %v, want evcrm-config and evcrm-analytics-config", cms)
			}
			// The cluster mode where the ClickHouseInstallation runs (prod), the single-node
			// schema on dev's single server.
			wantCluster := map[string]string{"dev": "", "prod": chiCluster}[overlay]
			if got, ok := acm.Data["EVCRM_CLICKHOUSE_CLUSTER"]; !ok || got != wantCluster {
				t.Errorf("EVCRM_CLICKHOUSE_CLUSTER %q (set %v), want %q", got, ok, wantCluster)
			}
			wantReplicas := map[string]string{"dev": "1", "prod": "3"}[overlay]
			if cm.Data["EVCRM_REPLICAS"] != wantReplicas {
				t.Errorf("EVCRM_REPLICAS %q, want %s", cm.Data["EVCRM_REPLICAS"], wantReplicas)
			}
			for _, name := range services {
				d := deployments[name]
				if d == nil {
					t.Errorf("no Deployment %s", name)
					continue
				}
				if !pdbs[name] || !svcs[name] || hpas[name] == nil {
					t.Errorf("%s: PodDisruptionBudget %v, Service %v, HPA %v", name, pdbs[name], svcs[name], hpas[name] != nil)
				}
				if h := hpas[name]; h != nil && d.Spec.Replicas != nil && *h.Spec.MinReplicas > *d.Spec.Replicas {
					t.Errorf("%s: HPA min %d above the Deployment's %d replicas", name, *h.Spec.MinReplicas, *d.Spec.Replicas)
				}
				cms := []*corev1.ConfigMap{cm}
				if name == "analytics" {
					cms = append(cms, acm)
				}
				env := checkPodSpec(t, overlay+" "+name, bins[name], d, cms...)
				switch name {
				case "analytics":
					if env["EVCRM_ANALYTICS_ROLE"] != "query" {
						t.Errorf("analytics: role %q, want query (the projector has its own Deployment)", env["EVCRM_ANALYTICS_ROLE"])
					}
				case "campaign":
					checkServiceToken(t, overlay, d, env)
				}
			}

			// The projector: its own Deployment of the analytics image, role projector, a PDB
			// and an HPA, and no Service (it serves no API).
			p := deployments["analytics-projector"]
			if p == nil {
				t.Fatal("no Deployment analytics-projector")
			}
			env := checkPodSpec(t, overlay+" analytics-projector", bins["analytics"], p, cm, acm)
			if env["EVCRM_ANALYTICS_ROLE"] != "projector" || env["EVCRM_HTTP_ADDR"] != "" {
				t.Errorf("analytics-projector: role %q, http addr %q; want projector and none", env["EVCRM_ANALYTICS_ROLE"], env["EVCRM_HTTP_ADDR"])
			}
			if !pdbs["analytics-projector"] || hpas["analytics-projector"] == nil || svcs["analytics-projector"] {
				t.Errorf("analytics-projector: PDB %v, HPA %v, Service %v; want a PDB and an HPA, no Service",
					pdbs["analytics-projector"], hpas["analytics-projector"] != nil, svcs["analytics-projector"])
			}
			if p.Spec.Template.Labels["app.kubernetes.io/name"] == deployments["analytics"].Spec.Template.Labels["app.kubernetes.io/name"] {
				t.Error("the projector's pods carry the query Deployment's label: the analytics Service would send API calls to them")
			}
		})
	}
}

// chiCluster is the ClickHouseInstallation's cluster (clickhouse/chi.yaml), which the analytics
// Deployments name in EVCRM_CLICKHOUSE_CLUSTER.
const chiCluster = "evcrm"

// checkServiceToken checks that campaign's EVCRM_SERVICE_TOKEN_FILE is a file of a mounted
// Secret volume, so its configuration check (which stats the file) passes and rule actions
// authenticate.
func checkServiceToken(t *testing.T, overlay string, d *appsv1.Deployment, env map[string]string) {
	t.Helper()
	file := env["EVCRM_SERVICE_TOKEN_FILE"]
	if file == "" {
		t.Errorf("%s campaign: no EVCRM_SERVICE_TOKEN_FILE: rule actions against leads fail UNAUTHENTICATED", overlay)
		return
	}
	c := d.Spec.Template.Spec.Containers[0]
	for _, m := range c.VolumeMounts {
		if m.MountPath != path.Dir(file) || m.SubPath != "" {
			continue
		}
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.Name != m.Name || v.Secret == nil {
				continue
			}
			for _, it := range v.Secret.Items {
				if it.Path == path.Base(file) {
					return
				}
			}
		}
	}
	t.Errorf("%s campaign: EVCRM_SERVICE_TOKEN_FILE %s is not a file of a Secret mounted at %s", overlay, file, path.Dir(file))
}

// checkPodSpec checks one Deployment's pod and returns its container's environment: the
// config maps' data (those the container reads with envFrom) and its own env.
func checkPodSpec(t *testing.T, where string, b binary, d *appsv1.Deployment, cms ...*corev1.ConfigMap) map[string]string {
	t.Helper()
	ps := d.Spec.Template.Spec
	if len(ps.Containers) != 1 {
		t.Fatalf("%s: %d containers", where, len(ps.Containers))
	}
	c := ps.Containers[0]
	env := map[string]string{}
	var from []string
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef != nil {
			from = append(from, ef.ConfigMapRef.Name)
		}
	}
	for _, cm := range cms {
		if !slices.Contains(from, cm.Name) {
			t.Errorf("%s: does not read the config map %s (envFrom %v)", where, cm.Name, from)
		}
		for k, v := range cm.Data {
			env[k] = v
		}
	}
	if len(from) != len(cms) {
		t.Errorf("%s: reads the config maps %v", where, from)
	}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	checkServiceSettings(t, where, b, env, c.Args)
	var grpcPort int32
	for _, p := range c.Ports {
		if p.Name == "grpc" {
			grpcPort = p.ContainerPort
		}
	}
	if env["EVCRM_GRPC_ADDR"] != fmt.Sprintf(":%d", grpcPort) {
		t.Errorf("%s: EVCRM_GRPC_ADDR %q but the grpc port is %d", where, env["EVCRM_GRPC_ADDR"], grpcPort)
	}
	for what, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if p == nil || p.GRPC == nil || p.GRPC.Port != grpcPort {
			t.Errorf("%s: %s probe is not a gRPC health probe on port %d", where, what, grpcPort)
		}
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, lim := c.Resources.Requests[r], c.Resources.Limits[r]
		if req.IsZero() || lim.IsZero() || req.Cmp(lim) > 0 {
			t.Errorf("%s: %s request %s, limit %s", where, r, req.String(), lim.String())
		}
	}
	if ps.SecurityContext == nil || ps.SecurityContext.RunAsNonRoot == nil || !*ps.SecurityContext.RunAsNonRoot {
		t.Errorf("%s: pods may run as root", where)
	}
	var mounted bool
	for _, m := range c.VolumeMounts {
		mounted = mounted || m.MountPath == env["EVCRM_DATA_DIR"]
	}
	if !mounted {
		t.Errorf("%s: nothing mounted at the data dir %s (the root filesystem is read-only)", where, env["EVCRM_DATA_DIR"])
	}
	return env
}

// TestDecodeStrictRefusesUnknownFields proves the strict decoding is strict.
func TestDecodeStrictRefusesUnknownFields(t *testing.T) {
	t.Parallel()
	doc := []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replicas: 1\n  readynessProbe: {}\n")
	if _, _, err := decodeStrict(doc); err == nil || !strings.Contains(err.Error(), "readynessProbe") {
		t.Fatalf("decode of a misspelt field: %v", err)
	}
	if _, _, err := decodeStrict(bytes.Replace(doc, []byte("  readynessProbe: {}\n"), nil, 1)); err != nil {
		t.Fatal(err)
	}
}
