package chwriter_test

import (
	"strings"
	"testing"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chschema"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chwriter"
)

// Free text written in clear before it was sealed — source detail, BANT notes, an assignment
// note, a custom string value inside the custom_fields map — leaves payload_json on the
// erasure, while the custom fields' names and non-string values and the BANT flags stay.
func TestErasureScrubsClearTextFreeText(t *testing.T) {
	t.Parallel()
	ch := testkit.SharedClickHouse(t)
	conn := ch.ConnDatabase(t, ch.NewDatabase(t))
	if _, err := chschema.Migrate(t.Context(), conn); err != nil {
		t.Fatal(err)
	}
	w := chwriter.New(conn, chwriter.Options{})
	secrets := []string{"zq6source", "zq6auth", "zq6need", "zq6custom", "zq6note"}
	str := func(s string) *leadsv1.CustomValue {
		return &leadsv1.CustomValue{Value: &leadsv1.CustomValue_StringValue{StringValue: s}}
	}
	batch := []projection.Event{
		event(t, 1, 1, 1, &leadsv1.LeadCreated{Lead: &leadsv1.Lead{Id: "l1", Company: "Kept Corp", Status: leadsv1.LeadStatus_LEAD_STATUS_NEW,
			SourceDetail: "referred by zq6source",
			CustomFields: map[string]*leadsv1.CustomValue{"notes": str("call zq6custom"),
				"seats": {Value: &leadsv1.CustomValue_NumberValue{NumberValue: 77}}}}}),
		event(t, 2, 2, 1, &leadsv1.BantUpdated{Bant: &leadsv1.Bant{Authority: "zq6auth decides", AuthorityConfirmed: true, Need: "zq6need"}}),
		event(t, 3, 3, 1, &leadsv1.LeadAssigned{OwnerId: "rep-1", Note: "zq6note speaks German"}),
	}
	if err := w.Write(t.Context(), batch); err != nil {
		t.Fatal(err)
	}
	payloads := func() string {
		t.Helper()
		rows, err := conn.Query(t.Context(), "SELECT payload_json FROM events ORDER BY seq")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var all []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			all = append(all, s)
		}
		return strings.Join(all, "\n")
	}
	before := payloads()
	for _, s := range secrets {
		if !strings.Contains(before, s) {
			t.Fatalf("payload_json lacks %q before the erasure; the check below would prove nothing:\n%s", s, before)
		}
	}
	if err := w.Write(t.Context(), []projection.Event{event(t, 4, 4, 1, &leadsv1.LeadErased{Reason: "DSR-6"})}); err != nil {
		t.Fatal(err)
	}
	got := payloads()
	for _, s := range secrets {
		if strings.Contains(got, s) {
			t.Errorf("events still hold %q after the erasure:\n%s", s, got)
		}
	}
	for _, kept := range []string{"Kept Corp", `"seats":{"number_value":77}`, `"notes":{}`, `"authority_confirmed":true`, `"owner_id":"rep-1"`} {
		if !strings.Contains(got, kept) {
			t.Errorf("the erasure removed %s:\n%s", kept, got)
		}
	}
}
