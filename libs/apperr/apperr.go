// Package apperr is the vocabulary of failures that domain and application code use. It imports
// nothing but the standard library, so domain packages can use it; libs/platform maps each Kind
// to a gRPC status in one place (STYLE.md §4).
package apperr

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies an error for the API layer.
type Kind int

const (
	// Internal is any failure not classified below; its message never reaches clients.
	Internal Kind = iota
	// Invalid means the request is malformed; FieldViolations say where.
	Invalid
	// NotFound means the addressed record does not exist (or is not visible to the caller).
	NotFound
	// Conflict means a concurrent change won (optimistic concurrency); the caller may retry.
	Conflict
	// AlreadyExists means the record to create exists already; ExistingID names it.
	AlreadyExists
	// FailedPrecondition means the record is in a state that forbids the operation.
	FailedPrecondition
	// PermissionDenied means the caller may not do this.
	PermissionDenied
	// Unauthenticated means the caller did not prove who it is.
	Unauthenticated
	// Unavailable means a dependency is down; the caller may retry later.
	Unavailable
)

var kindNames = [...]string{"internal", "invalid", "not_found", "conflict", "already_exists",
	"failed_precondition", "permission_denied", "unauthenticated", "unavailable"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// FieldViolation names one invalid field of a request.
type FieldViolation struct {
	// Field is the path of the field, e.g. "lead.email" or "rows[3].phone".
	Field string
	// Description says what is wrong, for humans.
	Description string
}

// Error is a classified error.
type Error struct {
	Kind    Kind
	Message string
	// Reason is a short UPPER_SNAKE machine-readable code (e.g. "LEAD_ALREADY_CONVERTED").
	Reason string
	// Fields lists invalid fields for Kind Invalid.
	Fields []FieldViolation
	// ExistingID names the existing record for Kind AlreadyExists.
	ExistingID string
	// Err is the underlying cause, kept for logs and errors.Is; never shown to clients.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(f.Field + ": " + f.Description)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of the first *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// As returns the first *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// New returns an error of kind k.
func New(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of kind k with cause err.
func Wrap(k Kind, err error, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...), Err: err}
}

// InvalidFields returns an Invalid error listing violations.
func InvalidFields(msg string, violations ...FieldViolation) *Error {
	return &Error{Kind: Invalid, Message: msg, Fields: violations}
}

// NotFoundf returns a NotFound error for a record type and id.
func NotFoundf(what, id string) *Error {
	return &Error{Kind: NotFound, Message: fmt.Sprintf("%s %q not found", what, id)}
}

// Exists returns an AlreadyExists error naming the record that exists.
func Exists(msg, existingID string) *Error {
	return &Error{Kind: AlreadyExists, Message: msg, ExistingID: existingID}
}

// Precondition returns a FailedPrecondition error with a machine-readable reason.
func Precondition(reason, format string, args ...any) *Error {
	return &Error{Kind: FailedPrecondition, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Violations collects field violations while validating a request.
type Violations []FieldViolation

// Add records that field is invalid.
func (v *Violations) Add(field, format string, args ...any) {
	*v = append(*v, FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
}

// Err returns an Invalid error when any violation was added, else nil.
func (v Violations) Err(msg string) error {
	if len(v) == 0 {
		return nil
	}
	return InvalidFields(msg, v...)
}

// RenameFields returns err with every field violation's path passed through rename, for a
// layer that validated a nested message and answers for the whole request (the domain says
// "amount", the request's field is "opportunity.amount"). Errors other than Invalid ones, and
// errors without violations, are returned as they are; err itself is never modified.
func RenameFields(err error, rename func(field string) string) error {
	e, ok := As(err)
	if !ok || e.Kind != Invalid || len(e.Fields) == 0 {
		return err
	}
	c := *e
	c.Fields = make([]FieldViolation, len(e.Fields))
	for i, f := range e.Fields {
		c.Fields[i] = FieldViolation{Field: rename(f.Field), Description: f.Description}
	}
	return &c
}
