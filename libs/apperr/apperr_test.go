package apperr_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/evcrm/evcrm/libs/apperr"
)

func TestKindOfFindsTheClassifiedErrorInTheChain(t *testing.T) {
	t.Parallel()
	cause := errors.New("disk full")
	tests := []struct {
		name string
		err  error
		want apperr.Kind
	}{
		{"plain error is internal", cause, apperr.Internal},
		{"nil is internal", nil, apperr.Internal},
		{"not found", apperr.NotFoundf("lead", "L1"), apperr.NotFound},
		{"wrapped by fmt", fmt.Errorf("load: %w", apperr.Precondition("LEAD_CONVERTED", "lead is converted")), apperr.FailedPrecondition},
		{"wrap keeps kind over cause", apperr.Wrap(apperr.Unavailable, cause, "store down"), apperr.Unavailable},
		{"exists", apperr.Exists("duplicate lead", "L9"), apperr.AlreadyExists},
		{"context error is not classified", context.Canceled, apperr.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := apperr.KindOf(tt.err); got != tt.want {
				t.Errorf("KindOf = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestViolations(t *testing.T) {
	t.Parallel()
	var v apperr.Violations
	if err := v.Err("invalid lead"); err != nil {
		t.Fatalf("no violations must give nil, got %v", err)
	}
	v.Add("email", "must be an email address, got %q", "ada@")
	v.Add("rows[3].phone", "must be E.164")
	err := v.Err("invalid lead")
	ae, ok := apperr.As(err)
	if !ok || ae.Kind != apperr.Invalid || len(ae.Fields) != 2 {
		t.Fatalf("got %#v", err)
	}
	want := `invalid lead: email: must be an email address, got "ada@"; rows[3].phone: must be E.164`
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	if !errors.Is(apperr.Wrap(apperr.Internal, context.DeadlineExceeded, "x"), context.DeadlineExceeded) {
		t.Error("Wrap must keep the cause for errors.Is")
	}
}

func TestRenameFields(t *testing.T) {
	t.Parallel()
	orig := apperr.InvalidFields("bad", apperr.FieldViolation{Field: "amount", Description: "negative"}, apperr.FieldViolation{Field: "lines[0].quantity", Description: "zero"})
	got := apperr.RenameFields(fmt.Errorf("wrapped: %w", orig), func(f string) string { return "opportunity." + f })
	e, ok := apperr.As(got)
	if !ok || e.Kind != apperr.Invalid || len(e.Fields) != 2 || e.Fields[0].Field != "opportunity.amount" || e.Fields[1].Field != "opportunity.lines[0].quantity" || e.Fields[0].Description != "negative" {
		t.Fatalf("renamed = %#v", got)
	}
	if orig.Fields[0].Field != "amount" {
		t.Fatalf("the original error changed: %#v", orig)
	}
	nf := apperr.NotFoundf("lead", "x")
	if apperr.RenameFields(nf, strings.ToUpper) != error(nf) {
		t.Fatal("a NotFound error must pass through")
	}
	if apperr.RenameFields(nil, strings.ToUpper) != nil {
		t.Fatal("nil must stay nil")
	}
}
