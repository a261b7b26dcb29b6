package dashboard_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/evcrm/evcrm/services/analytics/internal/ports/dashboard"
)

func serve(t *testing.T, h http.Handler, method, path string, hdr ...string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	var rd io.Reader = res.Body
	if res.Header.Get("Content-Encoding") == "gzip" {
		z, err := gzip.NewReader(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		rd = z
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The page and its assets, with the types a browser needs (a module script served as
// text/plain is refused), caching that never serves a stale page, gzip, and 404/405 for
// everything else.
func TestHandlerServesTheBundle(t *testing.T) {
	t.Parallel()
	h := dashboard.Handler("/dashboard/")

	page := serve(t, h, http.MethodGet, "/dashboard/")
	html := body(t, page)
	if page.StatusCode != 200 || page.Header.Get("Content-Type") != "text/html; charset=utf-8" ||
		page.Header.Get("Cache-Control") != "no-cache" || !strings.Contains(html, "Executive dashboard") {
		t.Fatalf("page: %d %v\n%.200s", page.StatusCode, page.Header, html)
	}
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("page CSP %q", csp)
	}
	if again := serve(t, h, http.MethodGet, "/dashboard/index.html"); body(t, again) != html {
		t.Error("/dashboard/index.html is not the page")
	}

	// Every asset the page names is served, with its type and a long cache life (the names
	// carry content hashes).
	assets := regexp.MustCompile(`(?:src|href)="\./(assets/[^"]+)"`).FindAllStringSubmatch(html, -1)
	if len(assets) < 2 {
		t.Fatalf("the page names %d assets, want the script and the stylesheet", len(assets))
	}
	types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
	for _, a := range assets {
		name := a[1]
		res := serve(t, h, http.MethodGet, "/dashboard/"+name, "Accept-Encoding", "gzip, deflate, br")
		b := body(t, res)
		ext := name[strings.LastIndex(name, "."):]
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != types[ext] || len(b) == 0 {
			t.Errorf("%s: %d %q, %d bytes", name, res.StatusCode, res.Header.Get("Content-Type"), len(b))
		}
		if res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", name, res.Header.Get("Cache-Control"))
		}
		if res.Header.Get("Content-Encoding") != "gzip" || res.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("%s: Content-Encoding %q, Vary %q", name, res.Header.Get("Content-Encoding"), res.Header.Get("Vary"))
		}
		// The same bytes without gzip; the ETag tells the two apart.
		plain := serve(t, h, http.MethodGet, "/dashboard/"+name)
		if body(t, plain) != b || plain.Header.Get("Content-Encoding") != "" || plain.Header.Get("ETag") == res.Header.Get("ETag") {
			t.Errorf("%s: the identity encoding differs", name)
		}
		// A revalidation with the ETag costs a 304 and no body.
		nm := serve(t, h, http.MethodGet, "/dashboard/"+name, "If-None-Match", plain.Header.Get("ETag"))
		if nm.StatusCode != http.StatusNotModified {
			t.Errorf("%s: If-None-Match answered %d", name, nm.StatusCode)
		}
	}
	// The JavaScript is the real bundle, ECharts inside: nothing is loaded from elsewhere.
	if !strings.Contains(html, `type="module"`) || strings.Contains(html, "http://") || strings.Contains(html, "https://") {
		t.Errorf("the page loads something from another origin:\n%s", html)
	}

	head := serve(t, h, http.MethodHead, "/dashboard/")
	if head.StatusCode != 200 || body(t, head) != "" {
		t.Errorf("HEAD: %d", head.StatusCode)
	}
	for _, p := range []string{"/dashboard/nope.js", "/dashboard/assets/", "/dashboard/../go.mod", "/other/"} {
		if res := serve(t, h, http.MethodGet, p); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, res.StatusCode)
		}
	}
	if res := serve(t, h, http.MethodPost, "/dashboard/"); res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d, Allow %q", res.StatusCode, res.Header.Get("Allow"))
	}
}

// gzip=q=0 refuses gzip: the identity encoding is served.
func TestHandlerHonoursRefusedGzip(t *testing.T) {
	t.Parallel()
	h := dashboard.Handler("/x/")
	page := serve(t, h, http.MethodGet, "/x/")
	js := regexp.MustCompile(`src="\./(assets/[^"]+\.js)"`).FindStringSubmatch(body(t, page))
	if js == nil {
		t.Fatal("no script in the page")
	}
	res := serve(t, h, http.MethodGet, "/x/"+js[1], "Accept-Encoding", "gzip;q=0, identity")
	b, _ := io.ReadAll(res.Body)
	if res.Header.Get("Content-Encoding") != "" || !bytes.Contains(b, []byte("function")) {
		t.Errorf("gzip;q=0: Content-Encoding %q", res.Header.Get("Content-Encoding"))
	}
}
