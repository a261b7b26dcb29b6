package lead

import (
	"testing"
	"time"

	"github.com/evcrm/evcrm/libs/customfield"
)

// The erasure fold marks the free text too — source detail, BANT notes, custom string values
// (and values whose sealed string no longer opens: no type) — and keeps the facts: BANT flags
// and budget, custom numbers, bools and dates. The state it was given is not changed.
func TestEraseMarksFreeText(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	budget := Money{Currency: "EUR", Units: 1000}
	l := Apply(Lead{}, LeadCreated{Lead: Lead{ID: "L1", Status: StatusNew,
		Details: Details{Email: "ada@x.test", SourceDetail: "referred by Charles",
			CustomFields: map[string]customfield.Value{"notes": customfield.StringValue("call Ada"), "seats": customfield.NumberValue(3),
				"since": customfield.DateValue("2026-01-02"), "sealed": {}}},
		Bant: Bant{Authority: "Ada decides", AuthorityConfirmed: true, Need: "Ada needs", Budget: budget}}, At: now})

	e := Apply(l, LeadErased{At: now})
	if e.SourceDetail != ErasedMarker || e.Bant.Authority != ErasedMarker || e.Bant.Need != ErasedMarker {
		t.Errorf("free text after erasure: source %q, authority %q, need %q", e.SourceDetail, e.Bant.Authority, e.Bant.Need)
	}
	if !e.Bant.AuthorityConfirmed || e.Bant.Budget != budget {
		t.Errorf("BANT facts after erasure = %+v", e.Bant)
	}
	want := map[string]customfield.Value{"notes": customfield.StringValue(ErasedMarker), "seats": customfield.NumberValue(3),
		"since": customfield.DateValue("2026-01-02"), "sealed": customfield.StringValue(ErasedMarker)}
	if len(e.CustomFields) != len(want) {
		t.Errorf("custom fields after erasure = %v", e.CustomFields)
	}
	for k, v := range want {
		if e.CustomFields[k] != v {
			t.Errorf("custom field %s after erasure = %+v, want %+v", k, e.CustomFields[k], v)
		}
	}
	if l.CustomFields["notes"].String != "call Ada" || l.Bant.Need != "Ada needs" {
		t.Errorf("Apply changed the state it was given: %+v", l)
	}
}
