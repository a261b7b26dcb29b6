package grpcserver

import (
	"context"

	"google.golang.org/grpc"

	"github.com/evcrm/evcrm/libs/apperr"
)

// Validator is implemented by request messages that can check themselves. The server calls
// Validate before the handler runs, so handlers can rely on well-formed input.
//
// Return an *apperr.Error of kind Invalid (apperr.Violations.Err builds one) so the client gets
// field violations; any other error is sent as InvalidArgument with its message, which therefore
// must describe the request only.
type Validator interface {
	Validate() error
}

func validate(req any) error {
	v, ok := req.(Validator)
	if !ok {
		return nil
	}
	err := v.Validate()
	if err == nil {
		return nil
	}
	if _, ok := apperr.As(err); ok {
		return err
	}
	return &apperr.Error{Kind: apperr.Invalid, Message: err.Error()}
}

func validationUnary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := checkFilterValues(info.FullMethod, req); err != nil {
			return nil, err
		}
		if err := validate(req); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

func validationStream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, &validatingStream{ServerStream: ss, method: info.FullMethod})
	}
}

// validatingStream validates each message the client streams, as it is received.
type validatingStream struct {
	grpc.ServerStream
	method string
}

func (s *validatingStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if err := checkFilterValues(s.method, m); err != nil {
		return err
	}
	return validate(m)
}
