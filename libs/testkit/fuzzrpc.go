package testkit

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// RPCFuzz drives a fuzz target over every method of some gRPC services: the fuzzer's first
// argument picks the method, the bytes are its request. The services' fuzz targets
// (Fuzz<Service>RPCs) share it.
type RPCFuzz struct {
	methods []protoreflect.MethodDescriptor
}

// NewRPCFuzz lists the methods of services in declaration order and adds to f's corpus every
// method with an empty request and each seed under the method that takes it (a seed no method
// takes fails the target).
func NewRPCFuzz(f *testing.F, services []protoreflect.ServiceDescriptor, seeds ...proto.Message) *RPCFuzz {
	f.Helper()
	r := &RPCFuzz{}
	for _, sd := range services {
		for i := range sd.Methods().Len() {
			r.methods = append(r.methods, sd.Methods().Get(i))
		}
	}
	byInput := map[protoreflect.FullName]int{}
	for i, md := range r.methods {
		byInput[md.Input().FullName()] = i
		f.Add(uint8(i), []byte{})
	}
	for _, m := range seeds {
		i, ok := byInput[m.ProtoReflect().Descriptor().FullName()]
		if !ok {
			f.Fatalf("no method takes a %s", m.ProtoReflect().Descriptor().FullName())
		}
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), b)
	}
	return r
}

// Call decodes data as the request of the method which selects, drops its read options (a
// huge min_sequence would only wait for the deadline), calls it on conn with ctx (a stream
// method with the one request as its only message) and checks the answer: success or a client
// error, never Internal, Unknown, DataLoss or a 10 s timeout, and InvalidArgument with the
// fields to fix.
func (r *RPCFuzz) Call(t *testing.T, conn *grpc.ClientConn, which uint8, data []byte, ctx context.Context) {
	t.Helper()
	md := r.methods[int(which)%len(r.methods)]
	in, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
	if err != nil {
		t.Fatal(err)
	}
	out, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
	if err != nil {
		t.Fatal(err)
	}
	req := in.New().Interface()
	if proto.Unmarshal(data, req) != nil {
		return // gRPC refuses it before any handler runs
	}
	if fd := req.ProtoReflect().Descriptor().Fields().ByName("read"); fd != nil {
		req.ProtoReflect().Clear(fd)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	full := "/" + string(md.Parent().FullName()) + "/" + string(md.Name())
	resp := out.New().Interface()
	if !md.IsStreamingClient() && !md.IsStreamingServer() {
		err = conn.Invoke(ctx, full, req, resp)
	} else {
		err = callStream(ctx, conn, md, full, req, resp)
	}
	st := status.Convert(err)
	switch st.Code() {
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.DeadlineExceeded:
		t.Fatalf("%s answered %v: %v", md.Name(), st.Code(), st.Message())
	case codes.InvalidArgument:
		for _, d := range st.Details() {
			if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
				return
			}
		}
		t.Fatalf("%s answered InvalidArgument without field violations: %v", md.Name(), st.Message())
	}
}

func callStream(ctx context.Context, conn *grpc.ClientConn, md protoreflect.MethodDescriptor, full string, req, resp proto.Message) error {
	s, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: md.IsStreamingServer(), ClientStreams: md.IsStreamingClient()}, full)
	if err != nil {
		return err
	}
	if err := s.SendMsg(req); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if err := s.CloseSend(); err != nil {
		return err
	}
	for {
		if err := s.RecvMsg(resp); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}
