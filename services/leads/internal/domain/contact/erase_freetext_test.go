package contact

import (
	"testing"
	"time"

	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

// The contact's erasure fold marks its description and custom string values, keeps the other
// custom values, and leaves the state it was given alone.
func TestEraseMarksDescriptionAndCustomStrings(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	c := Apply(Contact{}, ContactCreated{Contact: Contact{ID: "C1", Details: Details{LastName: "Lovelace", JobTitle: "CTO",
		Description: "call Ada on +44", CustomFields: map[string]customfield.Value{"notes": customfield.StringValue("Ada"),
			"vip": customfield.BoolValue(true)}}}, At: now})
	e := Apply(c, ContactErased{At: now})
	if e.Description != lead.ErasedMarker || e.CustomFields["notes"] != customfield.StringValue(lead.ErasedMarker) ||
		e.CustomFields["vip"] != customfield.BoolValue(true) || e.JobTitle != "CTO" {
		t.Errorf("erased contact = %+v", e.Details)
	}
	if c.CustomFields["notes"].String != "Ada" {
		t.Errorf("Apply changed the state it was given: %+v", c.Details)
	}
}
