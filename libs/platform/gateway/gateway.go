// Package gateway is the REST/JSON face of an evcrm service: a grpc-gateway v2 reverse proxy
// that transcodes HTTP/JSON calls on the paths of the google.api.http options into gRPC calls
// on the service's own gRPC server, over a loopback connection. Going through the real server
// rather than calling the handlers in-process means every interceptor (request id, auth,
// validation, error mapping, metrics, recovery) treats a REST call exactly like a gRPC one.
//
// Beside the transcoded API the handler serves /openapi.json (the service's part of the
// generated OpenAPI document), /healthz (the gRPC health of the server: 200 while SERVING, 503
// once shutdown began) and whatever extra handlers the service mounts (the analytics
// dashboard). docs/api.md describes the REST conventions.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// Registrar registers one gRPC service's REST handlers on mux, forwarding to conn. The generated
// Register<Service>Handler functions (libs/gen/crm/.../*.pb.gw.go) have exactly this shape.
type Registrar func(ctx context.Context, mux *runtime.ServeMux, conn *grpc.ClientConn) error

// ForwardedHeaders are the HTTP request headers passed to the gRPC server as metadata of the
// same (lower-case) name. They carry the caller's identity (authorization; development auth's
// x-tenant-id, x-user-id, x-roles, x-territories, x-team), request tracing (x-request-id, x-correlation-id,
// traceparent, tracestate) and the backfill time of demo-data and history imports. Other
// headers follow grpc-gateway's defaults: Grpc-Metadata-<name> is forwarded as <name>, and
// standard HTTP headers arrive prefixed with grpcgateway-.
var ForwardedHeaders = []string{
	"authorization",
	"x-tenant-id", "x-user-id", "x-roles", "x-territories", "x-team",
	"x-request-id", "x-correlation-id",
	"traceparent", "tracestate",
	"x-evcrm-backfill-time",
}

// ReturnedHeaders are the gRPC response header metadata returned as HTTP headers of the same
// name (X-Request-Id: the id to quote in a support request and to find the call in the logs).
// Other response metadata arrives as Grpc-Metadata-<name>, as grpc-gateway does by default.
var ReturnedHeaders = []string{"x-request-id", "x-correlation-id"}

// Options configure [New].
type Options struct {
	// Conn is the connection to the service's own gRPC server. Required.
	Conn *grpc.ClientConn
	// Services register the transcoded REST handlers.
	Services []Registrar
	// OpenAPI, when not empty, is served at GET /openapi.json.
	OpenAPI []byte
	// Handlers are mounted beside the API by path pattern of net/http.ServeMux, e.g.
	// "/dashboard/". They must not overlap /v1/, /openapi.json or /healthz.
	Handlers map[string]http.Handler
}

// New returns the HTTP handler of a service's REST/JSON endpoint. ctx bounds the registrations
// (grpc-gateway ties nothing long-lived to it when given a connection).
func New(ctx context.Context, opts Options) (http.Handler, error) {
	if opts.Conn == nil {
		return nil, errors.New("gateway: Options.Conn is required")
	}
	mux := NewServeMux(runtime.WithHealthzEndpoint(healthpb.NewHealthClient(opts.Conn)))
	for _, register := range opts.Services {
		if err := register(ctx, mux, opts.Conn); err != nil {
			return nil, fmt.Errorf("gateway: register: %w", err)
		}
	}
	root := http.NewServeMux()
	root.Handle("/", mux)
	if len(opts.OpenAPI) > 0 {
		doc := opts.OpenAPI
		root.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(doc)
		})
	}
	for pattern, h := range opts.Handlers {
		if err := mount(root, pattern, h); err != nil {
			return nil, err
		}
	}
	return root, nil
}

// mount turns net/http's panic on a conflicting pattern into an error naming it.
func mount(root *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("gateway: handler %q: %v", pattern, r)
		}
	}()
	root.Handle(pattern, h)
	return nil
}

// NewServeMux returns the grpc-gateway mux with evcrm's conventions: the headers of
// [ForwardedHeaders] and [ReturnedHeaders], protojson bodies (lowerCamelCase names, every field
// emitted so that clients see zeros and empty lists, unknown request fields rejected), and errors
// written by [ErrorHandler]. Extra options are applied after these.
func NewServeMux(extra ...runtime.ServeMuxOption) *runtime.ServeMux {
	forwarded := make(map[string]bool, len(ForwardedHeaders))
	for _, h := range ForwardedHeaders {
		forwarded[textproto.CanonicalMIMEHeaderKey(h)] = true
	}
	returned := make(map[string]bool, len(ReturnedHeaders))
	for _, h := range ReturnedHeaders {
		returned[h] = true
	}
	opts := []runtime.ServeMuxOption{
		runtime.WithIncomingHeaderMatcher(func(key string) (string, bool) {
			if forwarded[textproto.CanonicalMIMEHeaderKey(key)] {
				return strings.ToLower(key), true
			}
			return runtime.DefaultHeaderMatcher(key)
		}),
		runtime.WithOutgoingHeaderMatcher(func(key string) (string, bool) {
			if returned[strings.ToLower(key)] {
				return key, true
			}
			return runtime.MetadataHeaderPrefix + key, true
		}),
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.HTTPBodyMarshaler{
			Marshaler: &runtime.JSONPb{
				MarshalOptions: protojson.MarshalOptions{EmitUnpopulated: true},
				// A misspelt field silently dropped would write a record without it: reject.
				UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
			},
		}),
		runtime.WithErrorHandler(ErrorHandler),
	}
	return runtime.NewServeMux(append(opts, extra...)...)
}
