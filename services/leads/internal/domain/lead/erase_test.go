package lead

import (
	"testing"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
)

func TestErase(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	l := Apply(Lead{}, LeadCreated{Lead: Lead{ID: "L1", Details: Details{FirstName: "Ada", Email: "ada@x.test", Company: "Engines",
		Country: "GB"}, Status: StatusNew}, At: now})

	evs, err := Erase(l, "DSR-1", now)
	if err != nil || len(evs) != 1 {
		t.Fatalf("Erase = %v, %v", evs, err)
	}
	e := ApplyAll(l, evs...)
	for name, v := range map[string]string{"first": e.FirstName, "last": e.LastName, "email": e.Email, "phone": e.Phone, "city": e.City} {
		if v != ErasedMarker {
			t.Errorf("%s = %q after erasure", name, v)
		}
	}
	if !e.Erased || e.Company != "Engines" || e.Country != "GB" || e.Status != StatusNew || e.Version != 2 {
		t.Errorf("erased lead = %+v", e)
	}

	for name, c := range map[string]struct {
		l      Lead
		reason string
		kind   apperr.Kind
		events int
	}{
		"again: nothing":  {e, "", 0, 0},
		"missing":         {Lead{}, "", apperr.NotFound, 0},
		"reason too long": {l, string(make([]byte, 201)), apperr.Invalid, 0},
	} {
		evs, err := Erase(c.l, c.reason, now)
		if (err == nil) != (c.kind == 0) || (err != nil && apperr.KindOf(err) != c.kind) || len(evs) != c.events {
			t.Errorf("%s: Erase = %v, %v", name, evs, err)
		}
	}
	if err := writable(e); apperr.KindOf(err) != apperr.FailedPrecondition {
		t.Errorf("an erased lead is writable: %v", err)
	}
	if err := CanConvert(e, Settings{}); apperr.KindOf(err) != apperr.FailedPrecondition {
		t.Errorf("an erased lead converts: %v", err)
	}
}
