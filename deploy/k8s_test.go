package deploy

import (
	"bytes"
	"fmt"
	"path/filepath"
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
			if len(cms) != 1 {
				t.Fatalf("config maps %v, want the one evcrm-config", cms)
			}
			var cm *corev1.ConfigMap
			for _, c := range cms {
				cm = c
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
				checkPodSpec(t, overlay+" "+name, bins[name], d, cm)
			}
		})
	}
}

func checkPodSpec(t *testing.T, where string, b binary, d *appsv1.Deployment, cm *corev1.ConfigMap) {
	t.Helper()
	ps := d.Spec.Template.Spec
	if len(ps.Containers) != 1 {
		t.Fatalf("%s: %d containers", where, len(ps.Containers))
	}
	c := ps.Containers[0]
	env := map[string]string{}
	for k, v := range cm.Data {
		env[k] = v
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
