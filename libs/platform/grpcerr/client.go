package grpcerr

import (
	"context"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/evcrm/evcrm/libs/apperr"
)

var codeKinds = map[codes.Code]apperr.Kind{
	codes.InvalidArgument:    apperr.Invalid,
	codes.NotFound:           apperr.NotFound,
	codes.Aborted:            apperr.Conflict,
	codes.AlreadyExists:      apperr.AlreadyExists,
	codes.FailedPrecondition: apperr.FailedPrecondition,
	codes.PermissionDenied:   apperr.PermissionDenied,
	codes.Unauthenticated:    apperr.Unauthenticated,
	codes.Unavailable:        apperr.Unavailable,
}

// ToAppError turns an error returned by a gRPC client call to another evcrm service back into an
// *apperr.Error, so adapters hand the application layer the same vocabulary whether a failure
// happened locally or in a peer: field violations, ErrorInfo reason and existing id are restored.
//
// Canceled and DeadlineExceeded become errors that match context.Canceled and
// context.DeadlineExceeded with errors.Is; every other code becomes Kind Internal. The original
// status error stays reachable as the cause. A nil err returns nil; an error that is no status is
// returned unchanged.
func ToAppError(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch st.Code() {
	case codes.OK:
		return nil
	case codes.Canceled:
		return fmt.Errorf("%w: %w", context.Canceled, err)
	case codes.DeadlineExceeded:
		return fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	}
	kind, known := codeKinds[st.Code()]
	if !known {
		return &apperr.Error{Kind: apperr.Internal, Message: st.Code().String() + ": " + st.Message(), Err: err}
	}
	e := &apperr.Error{Kind: kind, Message: st.Message(), Err: err}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			if d.GetDomain() == Domain && d.GetReason() != "" {
				e.Reason = d.GetReason()
			}
			e.ExistingID = d.GetMetadata()[MetadataExistingID]
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				e.Fields = append(e.Fields, apperr.FieldViolation{Field: v.GetField(), Description: v.GetDescription()})
			}
		}
	}
	return e
}
