package gateway

import (
	"context"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
)

// ErrorHandler writes a failed call as the JSON form of its google.rpc.Status — code, message
// and details, so the google.rpc.BadRequest field violations, ErrorInfo reason and metadata of
// the gRPC error reach a REST client unchanged — with the HTTP status grpc-gateway maps the code
// to (INVALID_ARGUMENT 400, UNAUTHENTICATED 401, PERMISSION_DENIED 403, NOT_FOUND 404,
// ALREADY_EXISTS and ABORTED 409, FAILED_PRECONDITION 400, UNAVAILABLE 503, ...).
//
// It differs from grpc-gateway's default in one way: a 401 carries a proper challenge in
// WWW-Authenticate instead of the status message.
func ErrorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, challengeWriter{w}, r, err)
}

// challengeWriter replaces the WWW-Authenticate header of a 401 just before it is written.
type challengeWriter struct{ http.ResponseWriter }

// WWWAuthenticate is the challenge of a 401 answer: bearer tokens are the production scheme
// (development auth's headers need no challenge).
const WWWAuthenticate = `Bearer realm="evcrm"`

func (w challengeWriter) WriteHeader(code int) {
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", WWWAuthenticate)
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer (flushes, deadlines).
func (w challengeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
