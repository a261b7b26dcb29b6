package config

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/evcrm/evcrm/libs/platform/tlsconf"
)

// Base holds the settings every evcrm service has. Embed it in the service's Config and preset
// the per-service defaults (Service, GRPCAddr, MetricsAddr) before calling [Load]:
//
//	cfg := Config{Base: config.Base{Service: "leads", GRPCAddr: ":9101", MetricsAddr: ":9201"}}
type Base struct {
	// Service names the service in logs, traces and metrics.
	Service string `flag:"service" usage:"service name used in logs, traces and metrics"`
	// GRPCAddr is the host:port the gRPC API listens on.
	GRPCAddr string `flag:"grpc-addr" default:":9090" usage:"gRPC listen address (host:port)"`
	// MetricsAddr is the host:port of the /metrics and /healthz HTTP server; "" turns it off.
	MetricsAddr string `flag:"metrics-addr" default:":9464" usage:"Prometheus /metrics and /healthz listen address (host:port, empty = off)"`
	// Pprof serves Go's runtime profiles at /debug/pprof/ on the metrics server.
	Pprof bool `flag:"pprof" usage:"serve Go runtime profiles at /debug/pprof/ on the metrics address"`
	// HTTPAddr is the host:port of the REST/JSON gateway (and /openapi.json, /healthz and the
	// service's own pages); "" turns it off. Services preset it (leads :9301 … analytics :9304).
	HTTPAddr string `flag:"http-addr" usage:"REST/JSON gateway, /openapi.json and /healthz listen address (host:port, empty = off)"`
	// NATSURL is one or more comma-separated NATS server URLs, as nats.Connect takes them.
	NATSURL string `flag:"nats-url" default:"nats://127.0.0.1:4222" usage:"NATS server URL(s), comma-separated"`
	// NATSCreds is a NATS credentials (.creds) file; "" connects without credentials.
	NATSCreds string `flag:"nats-creds" usage:"NATS credentials file (empty = none)"`
	// TLSCert and TLSKey are the service's certificate and key (PEM): the gRPC and REST
	// listeners serve TLS with them, and they are the client certificate of calls to other
	// services and to NATS (libs/platform/tlsconf).
	TLSCert string `flag:"tls-cert" usage:"PEM certificate (chain) the gRPC and REST listeners serve, also the client certificate to services and NATS (empty = plaintext)"`
	TLSKey  string `flag:"tls-key" usage:"PEM private key of -tls-cert"`
	// TLSClientCA, set, makes every listener require a client certificate signed by it.
	TLSClientCA string `flag:"tls-client-ca" usage:"PEM CA bundle that signs callers' client certificates; set = mutual TLS required"`
	// TLSCA verifies the servers this service calls (other services; NATS with tls:// URLs).
	TLSCA string `flag:"tls-ca" usage:"PEM CA bundle that verifies the services and NATS servers this service calls (empty = system roots; plaintext unless this or -tls-cert is set)"`
	// LogLevel is the lowest level logged: debug, info, warn or error.
	LogLevel slog.Level `flag:"log-level" default:"info" usage:"log level: debug, info, warn, error"`
	// OTLPEndpoint is the OTLP/gRPC collector URL (http:// for plaintext, https:// for TLS);
	// "" turns trace export off.
	OTLPEndpoint string `flag:"otlp-endpoint" usage:"OTLP/gRPC trace collector URL, e.g. http://otel-collector:4317 (empty = tracing off)"`
	// DevAuth trusts x-tenant-id / x-user-id / x-roles request metadata without any proof (no
	// x-roles means admin). It exists for tests and local runs; never enable it in production.
	DevAuth bool `flag:"dev-auth" usage:"DEVELOPMENT ONLY: trust x-tenant-id/x-user-id/x-roles metadata without credentials"`
	// AuthJWKS is the key set that verifies bearer tokens: a JWKS file, or an http(s):// URL
	// refreshed in the background. Set, every RPC but health needs a JWT (docs/security.md).
	AuthJWKS string `flag:"auth-jwks" usage:"JWKS file or http(s) URL of the keys that sign bearer tokens (JWT authentication)"`
	// AuthIssuer is the iss every token must carry; required with AuthJWKS.
	AuthIssuer string `flag:"auth-issuer" usage:"required iss claim of bearer tokens"`
	// AuthAudience is an aud value every token must carry; required with AuthJWKS.
	AuthAudience string `flag:"auth-audience" usage:"required aud claim of bearer tokens"`
	// AuthClockSkew is the tolerance on the tokens' exp and nbf.
	AuthClockSkew time.Duration `flag:"auth-clock-skew" default:"30s" usage:"tolerance on token exp/nbf for clock differences (at most 5m)"`
	// ServiceTokenFile holds the service credential (a JWT with the service role) the service
	// sends when it calls another service outside any caller's request (campaign rules).
	ServiceTokenFile string `flag:"service-token-file" usage:"file with this service's own bearer token, for calls made outside a caller's request"`
	// AllowBackfill lets a call carrying x-evcrm-backfill-time metadata be served as of that past
	// time (demo data, imports of history). Off, such a call fails FAILED_PRECONDITION; production
	// configurations leave it off, because it lets a caller write history.
	AllowBackfill bool `flag:"allow-backfill" usage:"accept x-evcrm-backfill-time metadata (writes dated in the past: demo data, history imports); never in production"`
	// MaxRequestBytes bounds one received gRPC message. Import chunks are at most 1 MiB, so it
	// must stay above that; the default is gRPC's usual 4 MiB.
	MaxRequestBytes int `flag:"max-request-bytes" default:"4194304" usage:"largest gRPC request message accepted, in bytes (at least 2 MiB: import chunks are up to 1 MiB)"`
	// RateLimit is the sustained calls per second each authenticated principal (tenant and
	// subject) may make; 0 turns rate limiting off. Off by default: the right figure depends on
	// the deployment (bulk integrations, the campaign rule engine's service credential and the
	// demo seeding all call in bursts), and an operator should choose it knowingly.
	RateLimit float64 `flag:"rate-limit" default:"0" usage:"calls per second per authenticated principal (tenant+subject); 0 = no limit"`
	// RateBurst is how many calls a principal may make at once; 0 means ceil(rate-limit).
	RateBurst int `flag:"rate-burst" default:"0" usage:"calls a principal may make at once above -rate-limit (0 = ceil of -rate-limit)"`
	// ShutdownTimeout bounds each shutdown phase (gRPC drain, worker drain, telemetry flush).
	ShutdownTimeout time.Duration `flag:"shutdown-timeout" default:"15s" usage:"how long each shutdown phase may take before it is cut short"`
}

// TLS returns the service's TLS files.
func (b Base) TLS() tlsconf.Files {
	return tlsconf.Files{Cert: b.TLSCert, Key: b.TLSKey, ClientCA: b.TLSClientCA, CA: b.TLSCA}
}

var serviceNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

// Validate reports every invalid Base setting at once, so an operator fixes them in one round.
func (b Base) Validate() error {
	var errs []error
	if !serviceNameRE.MatchString(b.Service) {
		errs = append(errs, Invalid("service", "%q must be a lower-case name ([a-z][a-z0-9-]*, at most 63 characters)", b.Service))
	}
	if err := checkHostPort(b.GRPCAddr); err != nil {
		errs = append(errs, Invalid("grpc-addr", "%v", err))
	}
	if b.MetricsAddr != "" {
		if err := checkHostPort(b.MetricsAddr); err != nil {
			errs = append(errs, Invalid("metrics-addr", "%v", err))
		}
	}
	if b.HTTPAddr != "" {
		if err := checkHostPort(b.HTTPAddr); err != nil {
			errs = append(errs, Invalid("http-addr", "%v", err))
		}
	}
	if err := checkNATSURLs(b.NATSURL); err != nil {
		errs = append(errs, Invalid("nats-url", "%v", err))
	}
	if b.NATSCreds != "" {
		if _, err := os.Stat(b.NATSCreds); err != nil {
			errs = append(errs, Invalid("nats-creds", "%v", err))
		}
	}
	if err := b.TLS().Validate(); err != nil {
		errs = append(errs, Invalid("tls-cert", "%v", err))
	}
	if b.AuthJWKS != "" {
		if b.AuthIssuer == "" {
			errs = append(errs, Invalid("auth-issuer", "is required with -auth-jwks"))
		}
		if b.AuthAudience == "" {
			errs = append(errs, Invalid("auth-audience", "is required with -auth-jwks"))
		}
		if b.DevAuth {
			errs = append(errs, Invalid("dev-auth", "cannot be combined with -auth-jwks: choose JWT or development authentication"))
		}
	}
	if b.AuthClockSkew < 0 || b.AuthClockSkew > 5*time.Minute {
		errs = append(errs, Invalid("auth-clock-skew", "must be between 0 and 5m, got %s", b.AuthClockSkew))
	}
	if b.ServiceTokenFile != "" {
		if _, err := os.Stat(b.ServiceTokenFile); err != nil {
			errs = append(errs, Invalid("service-token-file", "%v", err))
		}
	}
	if b.OTLPEndpoint != "" {
		if err := checkOTLP(b.OTLPEndpoint); err != nil {
			errs = append(errs, Invalid("otlp-endpoint", "%v", err))
		}
	}
	if b.MaxRequestBytes < 2<<20 || b.MaxRequestBytes > 1<<30 {
		errs = append(errs, Invalid("max-request-bytes", "must be between 2 MiB (2097152) and 1 GiB, got %d", b.MaxRequestBytes))
	}
	if b.RateLimit < 0 || math.IsNaN(b.RateLimit) || math.IsInf(b.RateLimit, 0) {
		errs = append(errs, Invalid("rate-limit", "must be a finite number >= 0, got %v", b.RateLimit))
	}
	if b.RateBurst < 0 {
		errs = append(errs, Invalid("rate-burst", "must be >= 0, got %d", b.RateBurst))
	}
	if b.ShutdownTimeout <= 0 {
		errs = append(errs, Invalid("shutdown-timeout", "must be positive, got %s", b.ShutdownTimeout))
	}
	return errors.Join(errs...)
}

func checkHostPort(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q has an invalid port", addr)
	}
	return nil
}

func checkNATSURLs(list string) error {
	n := 0
	for raw := range strings.SplitSeq(list, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		n++
		u, err := url.Parse(raw)
		if err != nil {
			return fmt.Errorf("%q: %w", raw, err)
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return fmt.Errorf("%q: scheme must be nats, tls, ws or wss", raw)
		}
		if u.Host == "" {
			return fmt.Errorf("%q: missing host", raw)
		}
	}
	if n == 0 {
		return errors.New("at least one URL is required")
	}
	return nil
}

func checkOTLP(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q: %w", raw, err)
	}
	// A bare host:port is ambiguous about TLS; the scheme makes plaintext an explicit choice.
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q: must be a URL starting with http:// (plaintext) or https:// (TLS)", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("%q: missing host", raw)
	}
	return nil
}
