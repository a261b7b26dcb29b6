package demo

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

// The backfill path end to end on the real leads service: the metadata reaches the
// application's clock, the event's occurred_at and the read model, and is refused where it is not
// allowed.
func TestBackfillOnLeadsService(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the leads service")
	}
	n := testkit.StartNATS(t)
	bin := testkit.BuildBinary(t, "github.com/evcrm/evcrm/services/leads/cmd/leads")
	enabled := testkit.StartProcess(t, bin, n, "-allow-backfill", "-pipeline-addr", "")
	disabled := testkit.StartProcess(t, bin, n, "-pipeline-addr", "")
	past := time.Date(2026, 3, 4, 9, 30, 0, 0, time.UTC)

	create := func(c leadsv1.LeadsServiceClient, backfill, email string) (*leadsv1.CreateLeadResponse, error) {
		ctx := asDemo(t.Context())
		if backfill != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, mdBackfill, backfill)
		}
		res, err := c.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{LastName: "Lovelace", Email: email, Company: "Analytical Engines", Source: leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM}})
		if err != nil && status.Code(err) == codes.InvalidArgument {
			err = fmt.Errorf("%w%s", err, violations(err))
		}
		return res, err
	}
	on, off := leadsv1.NewLeadsServiceClient(enabled.Conn(t)), leadsv1.NewLeadsServiceClient(disabled.Conn(t))

	t.Run("past time dates the lead and its events", func(t *testing.T) {
		res, err := create(on, past.Format(time.RFC3339), "ada@analytical-engines.com")
		if err != nil {
			t.Fatal(err)
		}
		if got := res.GetLead().GetCreatedAt().AsTime(); !got.Equal(past) {
			t.Errorf("created_at in the answer = %s, want %s", got, past)
		}
		got, err := on.GetLead(asDemo(t.Context()), &leadsv1.GetLeadRequest{LeadId: res.GetLead().GetId(),
			Read: readAfter(res.GetResult().GetSequence())})
		if err != nil {
			t.Fatal(err)
		}
		if c := got.GetLead().GetCreatedAt().AsTime(); !c.Equal(past) {
			t.Errorf("created_at in the read model = %s, want %s", c, past)
		}
		stream, err := n.JetStream(t).Stream(context.Background(), "CRM_LEADS")
		if err != nil {
			t.Fatal(err)
		}
		msg, err := stream.GetLastMsgForSubject(context.Background(), "crm.acme.lead."+res.GetLead().GetId()+".LeadCreated")
		if err != nil {
			t.Fatal(err)
		}
		var env eventsv1.Envelope
		if err := proto.Unmarshal(msg.Data, &env); err != nil {
			t.Fatal(err)
		}
		if o := env.GetOccurredAt().AsTime(); !o.Equal(past) {
			t.Errorf("occurred_at = %s, want %s", o, past)
		}
		if r := env.GetRecordedAt().AsTime(); time.Since(r) > time.Minute {
			t.Errorf("recorded_at = %s, want the wall clock", r)
		}
	})
	t.Run("no backfill is now", func(t *testing.T) {
		res, err := create(off, "", "grace@navy-labs.com")
		if err != nil {
			t.Fatal(err)
		}
		if c := res.GetLead().GetCreatedAt().AsTime(); time.Since(c) > time.Minute {
			t.Errorf("created_at = %s, want now", c)
		}
	})
	t.Run("disabled", func(t *testing.T) {
		_, err := create(off, past.Format(time.RFC3339), "alan@bletchley-park.com")
		if status.Code(err) != codes.FailedPrecondition {
			t.Fatalf("got %v, want FAILED_PRECONDITION", err)
		}
	})
	for name, v := range map[string]string{"future": time.Now().Add(time.Hour).Format(time.RFC3339), "unparsable": "last tuesday"} {
		t.Run(name, func(t *testing.T) {
			_, err := create(on, v, "")
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("got %v, want INVALID_ARGUMENT", err)
			}
			var fields []string
			for _, d := range status.Convert(err).Details() {
				if br, ok := d.(*errdetails.BadRequest); ok {
					for _, f := range br.GetFieldViolations() {
						fields = append(fields, f.GetField())
					}
				}
			}
			if len(fields) != 1 || fields[0] != mdBackfill {
				t.Errorf("field violations %v, want one on %s", fields, mdBackfill)
			}
		})
	}
}

func readAfter(seq uint64) *commonv1.ReadOptions { return &commonv1.ReadOptions{MinSequence: seq} }
