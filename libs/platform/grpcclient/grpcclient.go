// Package grpcclient opens connections from one evcrm service to another. Calls are traced
// (otelgrpc), and the caller's tenant, actor and correlation id travel as metadata so the callee
// authorises and audits the call as part of the original request: a lead conversion that opens
// an opportunity in pipeline is recorded there with the user who converted the lead.
//
// Credentials: inside a request the caller's own bearer token is forwarded, so the callee checks
// the user's roles and tenant exactly as if the user had called it. Outside any request (a rule
// engine reacting to events) there is no user token; the process's service credential
// ([SetServiceTokenFile]) is sent instead, and the callee's JWT authenticator then takes tenant
// and actor from the metadata, limited to what the service role may call.
package grpcclient

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/evcrm/evcrm/libs/platform/grpcauth"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/reqctx"
)

// clientTLS is the process's TLS configuration for calls to other services ([SetTLS]); nil
// means plaintext.
var clientTLS atomic.Pointer[tls.Config]

// SetTLS makes the connections [New] opens afterwards use TLS with c (the service's client
// certificate and the CA that verifies the callee: libs/platform/tlsconf); nil means plaintext.
// The daemon sets it once at start, like the service credential.
func SetTLS(c *tls.Config) { clientTLS.Store(c) }

// New returns a client connection to target with tracing and identity forwarding. The
// connection uses the process's TLS configuration ([SetTLS]) or, without one, plaintext
// (loopback and in-cluster development); a grpc.WithTransportCredentials in opts overrides both.
func New(target string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	creds := insecure.NewCredentials()
	if c := clientTLS.Load(); c != nil {
		creds = credentials.NewTLS(c)
	}
	base := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler()),
		grpc.WithChainUnaryInterceptor(UnaryClientInterceptor()),
		grpc.WithChainStreamInterceptor(StreamClientInterceptor()),
	}
	return grpc.NewClient(target, append(base, opts...)...)
}

// UnaryClientInterceptor forwards the request identity of the call's context.
func UnaryClientInterceptor() grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		return invoker(Outgoing(ctx), method, req, reply, cc, opts...)
	}
}

// StreamClientInterceptor forwards the request identity of the stream's context.
func StreamClientInterceptor() grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		return streamer(Outgoing(ctx), desc, cc, method, opts...)
	}
}

// Outgoing returns ctx with the credential (see the package doc), tenant, actor, roles,
// correlation id and backfill time of reqctx appended to the outgoing metadata. Keys the caller set explicitly are kept. The callee starts its own
// request id; the correlation id (the caller's, or its request id) ties the two together.
func Outgoing(ctx context.Context) context.Context {
	md, _ := metadata.FromOutgoingContext(ctx)
	var kv []string
	set := func(k, v string) {
		if v != "" && len(md.Get(k)) == 0 {
			kv = append(kv, k, v)
		}
	}
	if len(md.Get(grpcauth.MetadataAuthorization)) == 0 {
		// Copies beyond the first are identical (the authenticator refused the call otherwise);
		// grpc-gateway sends REST calls' token twice.
		if in, _ := metadata.FromIncomingContext(ctx); len(in.Get(grpcauth.MetadataAuthorization)) > 0 {
			set(grpcauth.MetadataAuthorization, in.Get(grpcauth.MetadataAuthorization)[0])
		} else if tok := serviceToken(); tok != "" {
			set(grpcauth.MetadataAuthorization, "Bearer "+tok)
		}
	}
	if t, ok := reqctx.Tenant(ctx); ok {
		set(grpcauth.MetadataTenant, t)
	}
	a := reqctx.ActorFrom(ctx)
	set(grpcauth.MetadataUser, a.ID)
	set(grpcauth.MetadataRoles, strings.Join(a.Roles, ","))
	corr := reqctx.CorrelationID(ctx)
	if corr == "" {
		corr = reqctx.RequestID(ctx)
	}
	set(grpcserver.MetadataCorrelationID, corr)
	// A backfilled request stays backfilled downstream: the opportunity a backfilled lead
	// conversion opens must carry the conversion's date. The callee must allow backfill too.
	if t, ok := reqctx.Backfill(ctx); ok {
		set(grpcserver.MetadataBackfillTime, t.Format(time.RFC3339Nano))
	}
	if len(kv) == 0 {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, kv...)
}

// serviceCred is the process's service credential: one per process, because a process is one
// service with one identity, and the clients are built deep inside each service's wiring.
var serviceCred struct {
	sync.Mutex
	path  string
	token string
	read  time.Time
}

// serviceTokenReread is how often the token file is read again, so a rotated credential is
// picked up without a restart.
const serviceTokenReread = time.Minute

// SetServiceTokenFile names the file holding this process's service credential (a JWT with the
// service role), sent on calls made outside any caller's request. It is read now, so a missing
// or empty file fails the start, and again at most once a minute. "" clears it.
func SetServiceTokenFile(path string) error {
	serviceCred.Lock()
	defer serviceCred.Unlock()
	serviceCred.path, serviceCred.token, serviceCred.read = path, "", time.Time{}
	if path == "" {
		return nil
	}
	tok, err := readToken(path)
	if err != nil {
		return err
	}
	serviceCred.token, serviceCred.read = tok, time.Now()
	return nil
}

func serviceToken() string {
	serviceCred.Lock()
	defer serviceCred.Unlock()
	if serviceCred.path != "" && time.Since(serviceCred.read) > serviceTokenReread {
		// A failed re-read keeps the last good token: the file may be mid-rotation.
		if tok, err := readToken(serviceCred.path); err == nil {
			serviceCred.token = tok
		}
		serviceCred.read = time.Now()
	}
	return serviceCred.token
}

func readToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("service token: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("service token: %s is empty", path)
	}
	return tok, nil
}
