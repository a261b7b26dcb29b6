package cli

import (
	"fmt"
	"sort"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// formatError renders an error for the terminal. A gRPC status becomes its code and message
// followed by its details: one line per field violation ("  lead.email: must be an email
// address"), the reason and metadata of ErrorInfo (e.g. existing_id of a duplicate), and
// precondition failures.
func formatError(err error) string {
	st, ok := status.FromError(err)
	if !ok {
		return "Error: " + err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Error: %s: %s", codeName(st.Code()), st.Message())
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				fmt.Fprintf(&b, "\n  %s: %s", v.GetField(), v.GetDescription())
			}
		case *errdetails.ErrorInfo:
			if d.GetReason() == "" && len(d.GetMetadata()) == 0 {
				continue
			}
			fmt.Fprintf(&b, "\n  reason: %s", d.GetReason())
			keys := make([]string, 0, len(d.GetMetadata()))
			for k := range d.GetMetadata() {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(&b, "\n  %s: %s", k, d.GetMetadata()[k])
			}
		case *errdetails.PreconditionFailure:
			for _, v := range d.GetViolations() {
				fmt.Fprintf(&b, "\n  %s %s: %s", v.GetType(), v.GetSubject(), v.GetDescription())
			}
		case *errdetails.RequestInfo:
			if d.GetRequestId() != "" {
				fmt.Fprintf(&b, "\n  request id: %s", d.GetRequestId())
			}
		}
	}
	if st.Code() == codes.Unavailable {
		b.WriteString("\n  (is the service running? see --help for the address flags)")
	}
	return b.String()
}

// codeName is the canonical upper-case name of a gRPC code, as in the API docs.
func codeName(c codes.Code) string {
	names := map[codes.Code]string{
		codes.Canceled: "CANCELLED", codes.Unknown: "UNKNOWN", codes.InvalidArgument: "INVALID_ARGUMENT",
		codes.DeadlineExceeded: "DEADLINE_EXCEEDED", codes.NotFound: "NOT_FOUND", codes.AlreadyExists: "ALREADY_EXISTS",
		codes.PermissionDenied: "PERMISSION_DENIED", codes.ResourceExhausted: "RESOURCE_EXHAUSTED",
		codes.FailedPrecondition: "FAILED_PRECONDITION", codes.Aborted: "ABORTED", codes.OutOfRange: "OUT_OF_RANGE",
		codes.Unimplemented: "UNIMPLEMENTED", codes.Internal: "INTERNAL", codes.Unavailable: "UNAVAILABLE",
		codes.DataLoss: "DATA_LOSS", codes.Unauthenticated: "UNAUTHENTICATED",
	}
	if n, ok := names[c]; ok {
		return n
	}
	return c.String()
}
