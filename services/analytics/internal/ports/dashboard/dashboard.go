// Package dashboard serves the executive dashboard: a static page (built from
// services/analytics/web with `make dashboard` and committed in dist/, so `go build` needs no
// npm) that draws the analytics REST API's answers with ECharts. The bundle is embedded in
// the binary: nothing is fetched from a CDN at run time.
package dashboard

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed all:dist
var dist embed.FS

// Cache lifetimes: asset names carry a hash of their content (Vite), so a cached asset is
// never stale; the page itself names the current assets and is revalidated on every load
// (cheap: its ETag answers 304).
const (
	assetCache = "public, max-age=31536000, immutable"
	pageCache  = "no-cache"
)

// csp allows the page's own script and styles only (ECharts' SVG renderer sets style
// attributes, hence 'unsafe-inline' for styles), and calls to the same origin.
const csp = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// file is one embedded file, ready to serve.
type file struct {
	body, gz    []byte // gz is nil when compressing does not pay
	contentType string
	etag        string
	cache       string
}

// Handler serves the dashboard under prefix, a path that ends in "/" (mount it on that
// pattern, e.g. "/dashboard/": the page uses relative asset URLs, so any prefix works). GET
// and HEAD only; the page is prefix itself (and prefix + "index.html"), assets are under
// prefix + "assets/"; anything else is 404. Responses are gzip-compressed for clients that
// accept it (compressed once, when the handler is made).
func Handler(prefix string) http.Handler {
	if !strings.HasSuffix(prefix, "/") {
		panic(fmt.Sprintf("dashboard: prefix %q must end in /", prefix))
	}
	files, err := load()
	if err != nil {
		// The files are compiled in: failing to read them is a build defect.
		panic(err)
	}
	return &handler{prefix: prefix, files: files}
}

func load() (map[string]*file, error) {
	root, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, err
	}
	files := map[string]*file{}
	err = fs.WalkDir(root, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(root, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		f := &file{body: body, contentType: contentType(name), etag: `"` + hex.EncodeToString(sum[:12]) + `"`, cache: assetCache}
		if name == "index.html" {
			f.cache = pageCache
		}
		if f.gz, err = compress(body); err != nil {
			return err
		}
		files[name] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dashboard: reading the embedded bundle: %w", err)
	}
	if files["index.html"] == nil {
		return nil, fmt.Errorf("dashboard: the embedded bundle has no index.html (run make dashboard)")
	}
	return files, nil
}

// contentType is the type of a bundle file; the common ones are fixed here rather than taken
// from the machine's mime tables, which differ between systems (.js as text/plain breaks
// module scripts).
func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".json", ".map":
		return "application/json"
	case ".png":
		return "image/png"
	case ".woff2":
		return "font/woff2"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// compress gzips text worth compressing; nil when it would not save much.
func compress(body []byte) ([]byte, error) {
	if len(body) < 1024 {
		return nil, nil
	}
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(body); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if b.Len() > len(body)*9/10 {
		return nil, nil
	}
	return b.Bytes(), nil
}

type handler struct {
	prefix string
	files  map[string]*file
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, h.prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if name == "" {
		name = "index.html"
	}
	f := h.files[name]
	if f == nil {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", f.contentType)
	hd.Set("Cache-Control", f.cache)
	hd.Set("X-Content-Type-Options", "nosniff")
	if f.contentType == "text/html; charset=utf-8" {
		hd.Set("Content-Security-Policy", csp)
		hd.Set("Referrer-Policy", "no-referrer")
	}
	body, etag := f.body, f.etag
	if f.gz != nil {
		hd.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			body, etag = f.gz, strings.TrimSuffix(f.etag, `"`)+`-gz"`
			hd.Set("Content-Encoding", "gzip")
		}
	}
	hd.Set("ETag", etag)
	// ServeContent answers If-None-Match (304), HEAD and ranges; the zero time leaves out
	// Last-Modified, which an embedded file does not have.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip (q=0 refuses it).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") && strings.TrimSpace(coding) != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
