// Package testsvc is a hand-written gRPC service for platform tests: one unary and one
// server-streaming method over well-known wrapper messages, so tests exercise real gRPC without
// generated code. Each test supplies the handler behaviour.
package testsvc

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/platform/authz"
	"github.com/evcrm/evcrm/libs/reqctx"
)

// Service and method names.
const (
	ServiceName  = "evcrm.test.v1.TestService"
	UnaryMethod  = "/" + ServiceName + "/Unary"
	StreamMethod = "/" + ServiceName + "/Stream"
)

// Authorize lets every authenticated caller call the test service and leaves every other method
// to the permission table (authz.Authorize); pass it as grpcserver.Options.Authorize, since the
// table lists only evcrm's real RPCs.
func Authorize(ctx context.Context, fullMethod string) error {
	if strings.HasPrefix(fullMethod, "/"+ServiceName+"/") && reqctx.ActorFrom(ctx).ID != "" {
		return nil
	}
	return authz.Authorize(ctx, fullMethod)
}

// InvalidValue is the request value that Request.Validate rejects.
const InvalidValue = "invalid"

// Request is the server-side request message; it validates itself.
type Request struct {
	*wrapperspb.StringValue
}

// Validate rejects InvalidValue with a field violation on "value".
func (r *Request) Validate() error {
	var v apperr.Violations
	if r.GetValue() == InvalidValue {
		v.Add("value", "must not be %q", InvalidValue)
	}
	return v.Err("invalid request")
}

// Handlers is the behaviour of the service. Nil handlers echo the request value.
type Handlers struct {
	Unary  func(ctx context.Context, req *Request) (string, error)
	Stream func(ctx context.Context, req *Request, send func(string) error) error
}

type server struct{ h Handlers }

var desc = grpc.ServiceDesc{
	ServiceName: ServiceName,
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Unary",
		Handler: func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			req := &Request{StringValue: &wrapperspb.StringValue{}}
			if err := dec(req); err != nil {
				return nil, err
			}
			s := srv.(*server)
			call := func(ctx context.Context, r any) (any, error) {
				out, err := s.unary(ctx, r.(*Request))
				if err != nil {
					return nil, err
				}
				return wrapperspb.String(out), nil
			}
			if icpt == nil {
				return call(ctx, req)
			}
			return icpt(ctx, req, &grpc.UnaryServerInfo{Server: srv, FullMethod: UnaryMethod}, call)
		},
	}},
	Streams: []grpc.StreamDesc{{
		StreamName:    "Stream",
		ServerStreams: true,
		Handler: func(srv any, stream grpc.ServerStream) error {
			req := &Request{StringValue: &wrapperspb.StringValue{}}
			if err := stream.RecvMsg(req); err != nil {
				return err
			}
			return srv.(*server).stream(stream.Context(), req, func(s string) error {
				return stream.SendMsg(wrapperspb.String(s))
			})
		},
	}},
}

func (s *server) unary(ctx context.Context, req *Request) (string, error) {
	if s.h.Unary == nil {
		return req.GetValue(), nil
	}
	return s.h.Unary(ctx, req)
}

func (s *server) stream(ctx context.Context, req *Request, send func(string) error) error {
	if s.h.Stream == nil {
		return send(req.GetValue())
	}
	return s.h.Stream(ctx, req, send)
}

// Register registers the service with h on r.
func Register(r grpc.ServiceRegistrar, h Handlers) {
	r.RegisterService(&desc, &server{h: h})
}

// Dial connects to addr over plaintext loopback and closes the connection when the test ends.
func Dial(t testing.TB, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("testsvc: dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// Call invokes Unary with value and returns the response value and the response header.
func Call(ctx context.Context, conn *grpc.ClientConn, value string) (string, metadata.MD, error) {
	var header metadata.MD
	out := &wrapperspb.StringValue{}
	err := conn.Invoke(ctx, UnaryMethod, wrapperspb.String(value), out, grpc.Header(&header))
	return out.GetValue(), header, err
}

// CallStream invokes Stream with value and collects every response value.
func CallStream(ctx context.Context, conn *grpc.ClientConn, value string) ([]string, metadata.MD, error) {
	st, err := conn.NewStream(ctx, &desc.Streams[0], StreamMethod)
	if err != nil {
		return nil, nil, err
	}
	if err := st.SendMsg(wrapperspb.String(value)); err != nil {
		return nil, nil, err
	}
	if err := st.CloseSend(); err != nil {
		return nil, nil, err
	}
	var got []string
	for {
		m := &wrapperspb.StringValue{}
		if err := st.RecvMsg(m); err != nil {
			header, _ := st.Header()
			if err == io.EOF {
				return got, header, nil
			}
			return got, header, err
		}
		got = append(got, m.GetValue())
	}
}

// Recorder is an io.Writer that tests give a logger, safe for concurrent writes.
type Recorder struct {
	mu  sync.Mutex
	buf []byte
}

// Write appends p.
func (r *Recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf = append(r.buf, p...)
	return len(p), nil
}

// String returns everything written so far.
func (r *Recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return string(r.buf)
}
