package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser half of the tests: Debian's Chromium (package chromium, `make deps` installs
// it), headless, driven over the DevTools protocol by chromedp.

// chromium returns the browser to run: $EVCRM_CHROMIUM, else chromium on PATH. Without one the
// test is skipped on a developer's machine, and fails under CI (CI is set), where a skip would
// hide a missing install step.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("EVCRM_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "/usr/bin/chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed (make deps installs Debian's chromium); CI requires the browser test")
	}
	t.Skip("chromium is not installed: `make deps` installs Debian's chromium")
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile and returns a tab's context; the
// browser stops when the test ends.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	exe := chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // root in CI containers
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// No traffic but the page's: the machines reach no network, and Chromium's own
		// background connections would only fail (and slow the start).
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	// The first Run starts the browser; it must not run under a timeout (that would stop it).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	return ctx
}

// page is what the dashboard shows once it has loaded.
type page struct {
	errors  int               // cards that failed (body data-errors)
	metrics map[string]string // data-metric -> data-value
	text    string            // the error banner's text
}

// loadDashboard opens url and waits until every card has rendered (body data-state="ready",
// charts included), then reads the figures the page exposes.
func loadDashboard(t *testing.T, ctx context.Context, url string) page {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err := chromedp.Do(ctx,
		chromedp.Navigate(url),
		chromedp.Steps(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](`document.body.dataset.state === "ready"`, chromedp.WithPollingTimeout(45*time.Second))(ctx, tg)
			return err
		})),
	)
	if err != nil {
		t.Fatalf("loading %s: %v", url, err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({
		errors: Number(document.body.dataset.errors || 0),
		banner: document.getElementById("errors").innerText,
		metrics: Object.fromEntries([...document.querySelectorAll("[data-metric]")]
			.map((e) => [e.dataset.metric, e.dataset.value ?? ""])),
	})`))
	if err != nil {
		t.Fatalf("reading the page: %v", err)
	}
	var got struct {
		Errors  int               `json:"errors"`
		Banner  string            `json:"banner"`
		Metrics map[string]string `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatal(err)
	}
	return page{errors: got.Errors, metrics: got.Metrics, text: got.Banner}
}

// screenshot saves a full-page PNG to $EVCRM_ARTIFACTS (CI keeps it) or the test's temp dir,
// and logs where.
func screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("EVCRM_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := name
	if !filepath.IsAbs(name) {
		path = filepath.Join(dir, name)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
	return path
}

// expect compares the page's figures with want (numbers compared to 1e-6, the rest as text).
func (p page) expect(t *testing.T, want map[string]any) {
	t.Helper()
	for k, w := range want {
		g, ok := p.metrics[k]
		if !ok {
			t.Errorf("%s: not on the page", k)
			continue
		}
		switch w := w.(type) {
		case string:
			if g != w {
				t.Errorf("%s = %q, want %q", k, g, w)
			}
		default:
			wf, _ := strconv.ParseFloat(fmt.Sprint(w), 64)
			gf, err := strconv.ParseFloat(g, 64)
			if err != nil || gf-wf > 1e-6 || wf-gf > 1e-6 {
				t.Errorf("%s = %q, want %v", k, g, w)
			}
		}
	}
}

// evalString evaluates a JavaScript expression that yields a string in the current page.
func evalString(ctx context.Context, expr string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[string](expr))
}
