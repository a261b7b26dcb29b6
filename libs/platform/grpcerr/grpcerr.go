// Package grpcerr is the one place where evcrm errors become gRPC statuses (STYLE.md §4), and
// where statuses from other evcrm services become apperr errors again.
//
// Mapping (apperr.Kind → code, details):
//
//	Invalid            → InvalidArgument    BadRequest field violations
//	NotFound           → NotFound
//	Conflict           → Aborted            (the caller may retry the whole read-decide-write)
//	AlreadyExists      → AlreadyExists      ErrorInfo metadata existing_id
//	FailedPrecondition → FailedPrecondition
//	PermissionDenied   → PermissionDenied
//	Unauthenticated    → Unauthenticated
//	Unavailable        → Unavailable
//	context.Canceled / context.DeadlineExceeded → Canceled / DeadlineExceeded
//	an error that already is a gRPC status      → passed through
//	anything else, and Kind Internal            → Internal, "internal error, request id X"
//
// Every classified status carries an ErrorInfo (AIP-193) whose Reason is the apperr Reason or,
// when that is empty, the kind in upper snake case (e.g. "NOT_FOUND"), so clients can branch on a
// stable machine-readable value rather than on messages.
//
// Only apperr messages (written for clients) are sent; the cause chain (apperr.Error.Err) and any
// unclassified error stay in the server log, because they can contain SQL, subjects, addresses
// or other tenants' data.
package grpcerr

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/reqctx"
)

// Domain is the ErrorInfo domain of every evcrm error.
const Domain = "evcrm"

// MetadataExistingID is the ErrorInfo metadata key naming the record that already exists.
const MetadataExistingID = "existing_id"

var kindCodes = map[apperr.Kind]codes.Code{
	apperr.Invalid:            codes.InvalidArgument,
	apperr.NotFound:           codes.NotFound,
	apperr.Conflict:           codes.Aborted,
	apperr.AlreadyExists:      codes.AlreadyExists,
	apperr.FailedPrecondition: codes.FailedPrecondition,
	apperr.PermissionDenied:   codes.PermissionDenied,
	apperr.Unauthenticated:    codes.Unauthenticated,
	apperr.Unavailable:        codes.Unavailable,
}

// ToStatus maps err to the status sent to the client. A nil err gives an OK status. ctx supplies
// the request id quoted in Internal messages, so a support engineer can find the logged cause.
//
// ToStatus does not log; [IsInternal] tells whether the caller should log the real error (the
// interceptors do).
func ToStatus(ctx context.Context, err error) *status.Status {
	if err == nil {
		return status.New(codes.OK, "")
	}
	if e, ok := apperr.As(err); ok {
		if code, known := kindCodes[e.Kind]; known {
			return fromAppErr(code, e)
		}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.New(codes.Canceled, "request canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.New(codes.DeadlineExceeded, "deadline exceeded")
	}
	if st, ok := status.FromError(err); ok {
		return st
	}
	return Internal(ctx)
}

// IsInternal reports whether ToStatus hides err behind a generic Internal status, i.e. whether
// err is a server fault whose details only the log may see.
func IsInternal(err error) bool {
	if err == nil {
		return false
	}
	if e, ok := apperr.As(err); ok {
		if _, known := kindCodes[e.Kind]; known {
			return false
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	_, isStatus := status.FromError(err)
	return !isStatus
}

// Internal returns the generic Internal status for the request in ctx.
func Internal(ctx context.Context) *status.Status {
	if rid := reqctx.RequestID(ctx); rid != "" {
		return status.New(codes.Internal, "internal error, request id "+rid)
	}
	return status.New(codes.Internal, "internal error")
}

func fromAppErr(code codes.Code, e *apperr.Error) *status.Status {
	msg := e.Message
	if msg == "" {
		msg = strings.ReplaceAll(e.Kind.String(), "_", " ")
	}
	st := status.New(code, msg)

	details := make([]protoadapt.MessageV1, 0, 2)
	info := &errdetails.ErrorInfo{Reason: e.Reason, Domain: Domain}
	if info.Reason == "" {
		info.Reason = strings.ToUpper(e.Kind.String())
	}
	if e.Kind == apperr.AlreadyExists && e.ExistingID != "" {
		info.Metadata = map[string]string{MetadataExistingID: e.ExistingID}
	}
	details = append(details, info)
	if e.Kind == apperr.Invalid && len(e.Fields) > 0 {
		br := &errdetails.BadRequest{}
		for _, f := range e.Fields {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
				Field: f.Field, Description: f.Description,
			})
		}
		details = append(details, br)
	}
	withDetails, err := st.WithDetails(details...)
	if err != nil {
		// Only fails for code OK or unmarshalable details; neither can happen here, and the bare
		// status still carries the right code.
		return st
	}
	return withDetails
}
