package service_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/evcrm/evcrm/libs/eventstore"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/analytics/internal/app"
	"github.com/evcrm/evcrm/services/analytics/internal/ports/projector"
	"github.com/evcrm/evcrm/services/analytics/internal/service"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// env is one test's NATS server, event store and ClickHouse database.
type env struct {
	t     *testing.T
	nc    *nats.Conn
	js    jetstream.JetStream
	store *eventstore.Store
	ch    *testkit.ClickHouse
	db    string
	conn  driver.Conn
	pos   map[eventstore.Ref]eventstore.Position
	n     int // events appended
}

func newEnv(t *testing.T, ch *testkit.ClickHouse) *env {
	t.Helper()
	ns := testkit.StartNATS(t)
	nc := ns.Connect(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := eventstore.EnsureStreams(t.Context(), js, eventstore.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	store, err := eventstore.New(nc, eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db := ch.NewDatabase(t)
	return &env{t: t, nc: nc, js: js, store: store, ch: ch, db: db, conn: ch.ConnDatabase(t, db),
		pos: map[eventstore.Ref]eventstore.Position{}}
}

// start builds the service and runs its workers until the returned stop is called (or the test
// ends).
func (e *env) start() (*service.Service, func()) {
	e.t.Helper()
	svc, err := service.New(e.t.Context(), e.nc, service.Options{
		ClickHouse: service.ClickHouseOptions{Addr: e.ch.Addr(), Database: e.db, User: "default"},
		BatchSize:  50, BatchWait: 50 * time.Millisecond,
		Backoff: []time.Duration{100 * time.Millisecond},
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		e.t.Fatalf("service.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, w := range svc.Workers() {
		wg.Go(func() { _ = w.Run(ctx) })
	}
	stop := sync.OnceFunc(func() {
		cancel()
		wg.Wait()
		_ = svc.Close()
	})
	e.t.Cleanup(stop)
	return svc, stop
}

// add appends events (occurring at the given times) to one aggregate.
func (e *env) add(typ, id string, evs ...eventstore.Event) {
	e.t.Helper()
	ref := eventstore.Ref{Tenant: "acme", Type: typ, ID: id}
	res, err := e.store.Append(e.t.Context(), ref, e.pos[ref], evs...)
	if err != nil {
		e.t.Fatalf("append to %s: %v", ref, err)
	}
	e.pos[ref] = res.Position
	e.n += len(evs)
}

func ev(at time.Time, p proto.Message) eventstore.Event {
	return eventstore.Event{Payload: p, OccurredAt: at}
}

// waitProjected waits until every stream is projected to its end.
func waitProjected(t *testing.T, a *app.App) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := a.ProjectionStatus(t.Context())
		done := err == nil && len(st.Streams) == 3
		if done {
			for _, s := range st.Streams {
				if s.Pending != 0 || s.ProjectedSequence != s.LastSequence {
					done = false
				}
			}
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("projection did not catch up: %+v (err %v)", st, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lines runs a query whose columns are strings or convertible with toString and returns each
// row as its columns joined with "|".
func lines(t *testing.T, conn driver.Conn, cols, rest string) []string {
	t.Helper()
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = "toString(" + strings.TrimSpace(p) + ")"
	}
	q := "SELECT arrayStringConcat([" + strings.Join(parts, ", ") + "], '|') AS l " + rest
	rows, err := conn.Query(t.Context(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func equalLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got: %s\nwant: %s", what, strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}

func eur(units int64, nanos int32) *commonv1.Money {
	return &commonv1.Money{CurrencyCode: "EUR", Units: units, Nanos: nanos}
}

var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

func day(n float64) time.Time { return t0.Add(time.Duration(math.Round(n*24*3600)) * time.Second) }

func dur(d time.Duration) *durationpb.Duration { return durationpb.New(d) }

// history appends the scripted history every test checks: two leads (one converted), a
// contact, an opportunity won and one lost then reopened, a campaign with a cost and two
// members with responses.
func (e *env) history() {
	e.t.Helper()
	e.add("lead", "l1", ev(day(0), &leadsv1.LeadCreated{Lead: &leadsv1.Lead{Id: "l1", Status: leadsv1.LeadStatus_LEAD_STATUS_NEW,
		Source: leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM, CampaignId: "c1", OwnerId: "u1", TerritoryId: "emea",
		Country: "DE", Industry: "software", Score: &leadsv1.Score{Total: 40}, CreatedAt: timestamppb.New(day(0))}}))
	status := func(at time.Time, from, to leadsv1.LeadStatus, in time.Duration, auto bool) eventstore.Event {
		return ev(at, &leadsv1.LeadStatusChanged{From: from, To: to, TimeInPrevious: dur(in), Automatic: auto,
			Source: leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM, CampaignId: "c1", OwnerId: "u1", TerritoryId: "emea"})
	}
	e.add("lead", "l1", ev(day(1), &leadsv1.LeadScored{Score: &leadsv1.Score{Total: 72}}),
		status(day(1), leadsv1.LeadStatus_LEAD_STATUS_NEW, leadsv1.LeadStatus_LEAD_STATUS_MARKETING_QUALIFIED, 24*time.Hour, true))
	e.add("lead", "l1", status(day(3), leadsv1.LeadStatus_LEAD_STATUS_MARKETING_QUALIFIED, leadsv1.LeadStatus_LEAD_STATUS_SALES_ACCEPTED, 48*time.Hour, false))
	e.add("lead", "l1", status(day(4), leadsv1.LeadStatus_LEAD_STATUS_SALES_ACCEPTED, leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED, 24*time.Hour, false))
	conv := status(day(6), leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED, leadsv1.LeadStatus_LEAD_STATUS_CONVERTED, 48*time.Hour, false)
	conv.Payload.(*leadsv1.LeadStatusChanged).Converted = &leadsv1.ConvertedRecords{AccountId: "a1", ContactId: "k1",
		OpportunityId: "o1", ConvertedAt: timestamppb.New(day(6))}
	e.add("lead", "l1", conv, ev(day(6), &leadsv1.LeadConverted{AccountId: "a1", ContactId: "k1", OpportunityId: "o1",
		Source: leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM, CampaignId: "c1", OwnerId: "u1"}))
	e.add("contact", "k1", ev(day(6), &leadsv1.ContactCreated{Contact: &leadsv1.Contact{Id: "k1", AccountId: "a1",
		SourceLeadId: "l1", CreatedAt: timestamppb.New(day(6))}}))
	e.add("lead", "l2", ev(day(2), &leadsv1.LeadCreated{Lead: &leadsv1.Lead{Id: "l2", Status: leadsv1.LeadStatus_LEAD_STATUS_NEW,
		Source: leadsv1.LeadSource_LEAD_SOURCE_EVENT, OwnerId: "u2", CreatedAt: timestamppb.New(day(2))}}))
	e.add("lead", "l2", ev(day(2.5), &leadsv1.LeadAssigned{PreviousOwnerId: "u2", OwnerId: "u3"}))

	e.add("opportunity", "o1", ev(day(6), &pipelinev1.OpportunityCreated{Opportunity: &pipelinev1.Opportunity{
		Id: "o1", Name: "Deal 1", AccountId: "a1", LeadId: "l1", OwnerId: "u1", PipelineId: "p1", StageId: "qualify",
		StageName: "Qualify", Amount: eur(1000, 500_000_000), Probability: 10, ExpectedCloseDate: "2026-03-31",
		ForecastCategory: pipelinev1.ForecastCategory_FORECAST_CATEGORY_PIPELINE, Source: pipelinev1.OpportunitySource_OPPORTUNITY_SOURCE_WEB_FORM,
		PrimaryCampaignId: "c1", Status: pipelinev1.OpportunityStatus_OPPORTUNITY_STATUS_OPEN, CreatedAt: timestamppb.New(day(6))}}))
	owner := "u1"
	move := func(at time.Time, from, fromName, to, toName string, cat pipelinev1.ForecastCategory, prob uint32, in time.Duration, dir pipelinev1.StageChangeDirection, amount *commonv1.Money) eventstore.Event {
		return ev(at, &pipelinev1.OpportunityStageChanged{PipelineId: "p1", FromStageId: from, FromStageName: fromName,
			ToStageId: to, ToStageName: toName, ToForecastCategory: cat, Probability: prob, Amount: amount,
			TimeInPreviousStage: dur(in), OwnerId: owner, Direction: dir})
	}
	fwd := pipelinev1.StageChangeDirection_STAGE_CHANGE_DIRECTION_FORWARD
	e.add("opportunity", "o1", move(day(8), "qualify", "Qualify", "proposal", "Proposal",
		pipelinev1.ForecastCategory_FORECAST_CATEGORY_BEST_CASE, 50, 48*time.Hour, fwd, eur(1000, 500_000_000)))
	e.add("opportunity", "o1",
		move(day(15), "proposal", "Proposal", "won", "Closed Won", pipelinev1.ForecastCategory_FORECAST_CATEGORY_CLOSED, 100, 7*24*time.Hour, fwd, eur(1000, 500_000_000)),
		ev(day(15), &pipelinev1.OpportunityAmountChanged{PreviousAmount: eur(1000, 500_000_000), Amount: eur(1200, 0),
			Reason: pipelinev1.AmountChangeReason_AMOUNT_CHANGE_REASON_WON}),
		ev(day(15), &pipelinev1.OpportunityWon{Amount: eur(1200, 0), CloseDate: "2026-01-20", FromStageId: "proposal"}))

	owner = "u2"
	e.add("opportunity", "o2", ev(day(7), &pipelinev1.OpportunityCreated{Opportunity: &pipelinev1.Opportunity{
		Id: "o2", Name: "Deal 2", OwnerId: "u2", PipelineId: "p1", StageId: "qualify", StageName: "Qualify",
		Amount: eur(500, 0), Probability: 10, ExpectedCloseDate: "2026-02-28",
		ForecastCategory: pipelinev1.ForecastCategory_FORECAST_CATEGORY_PIPELINE, Source: pipelinev1.OpportunitySource_OPPORTUNITY_SOURCE_EVENT,
		Status: pipelinev1.OpportunityStatus_OPPORTUNITY_STATUS_OPEN, CreatedAt: timestamppb.New(day(7))}}))
	e.add("opportunity", "o2",
		move(day(9), "qualify", "Qualify", "lost", "Closed Lost", pipelinev1.ForecastCategory_FORECAST_CATEGORY_OMITTED, 0, 48*time.Hour, fwd, eur(500, 0)),
		ev(day(9), &pipelinev1.OpportunityLost{Reason: pipelinev1.LostReason_LOST_REASON_PRICE, CloseDate: "2026-01-14", Amount: eur(500, 0)}))
	e.add("opportunity", "o2",
		ev(day(10), &pipelinev1.OpportunityReopened{StageId: "qualify", StageName: "Qualify", PreviousStatus: pipelinev1.OpportunityStatus_OPPORTUNITY_STATUS_LOST}),
		move(day(10), "lost", "Closed Lost", "qualify", "Qualify", pipelinev1.ForecastCategory_FORECAST_CATEGORY_PIPELINE, 10, 24*time.Hour,
			pipelinev1.StageChangeDirection_STAGE_CHANGE_DIRECTION_BACKWARD, eur(500, 0)))

	e.add("campaign", "c1", ev(day(0), &campaignv1.CampaignCreated{Campaign: &campaignv1.Campaign{Id: "c1", Name: "Spring",
		Channel: campaignv1.CampaignChannel_CAMPAIGN_CHANNEL_EMAIL, Status: campaignv1.CampaignStatus_CAMPAIGN_STATUS_PLANNED,
		StartDate: "2026-01-05", EndDate: "2026-02-05", Budget: eur(5000, 0), OwnerId: "u9", CreatedAt: timestamppb.New(day(0))}}))
	e.add("campaign", "c1", ev(day(0.5), &campaignv1.CampaignStatusChanged{From: campaignv1.CampaignStatus_CAMPAIGN_STATUS_PLANNED,
		To: campaignv1.CampaignStatus_CAMPAIGN_STATUS_ACTIVE}))
	e.add("campaign", "c1", ev(day(1), &campaignv1.CampaignCostRecorded{Entry: &campaignv1.CostEntry{Amount: eur(250, 250_000_000),
		Date: "2026-01-06"}, ActualCost: eur(250, 250_000_000), Channel: campaignv1.CampaignChannel_CAMPAIGN_CHANNEL_EMAIL}))
	lead := campaignv1.MemberType_MEMBER_TYPE_LEAD
	email := campaignv1.CampaignChannel_CAMPAIGN_CHANNEL_EMAIL
	e.add("member", "m1", ev(day(0.5), &campaignv1.CampaignMemberAdded{Member: &campaignv1.Member{Id: "m1", CampaignId: "c1",
		Type: lead, PersonId: "l1", AddedAt: timestamppb.New(day(0.5))}, Channel: email}))
	respond := func(at time.Time, person, st string, kind campaignv1.ResponseKind, responded, first bool) eventstore.Event {
		return ev(at, &campaignv1.CampaignMemberResponded{CampaignId: "c1", MemberType: lead, PersonId: person, Status: st,
			Kind: kind, Responded: responded, FirstResponse: first, OccurredAt: timestamppb.New(at), Channel: email})
	}
	e.add("member", "m1", respond(day(0.6), "l1", "Sent", campaignv1.ResponseKind_RESPONSE_KIND_SENT, false, false))
	e.add("member", "m1", respond(day(0.8), "l1", "Clicked", campaignv1.ResponseKind_RESPONSE_KIND_CLICKED, true, true))
	e.add("member", "m2", ev(day(0.5), &campaignv1.CampaignMemberAdded{Member: &campaignv1.Member{Id: "m2", CampaignId: "c1",
		Type: lead, PersonId: "l2", AddedAt: timestamppb.New(day(0.5))}, Channel: email}))
	e.add("member", "m2", respond(day(0.7), "l2", "Unsubscribed", campaignv1.ResponseKind_RESPONSE_KIND_UNSUBSCRIBED, false, false))
}

// checkHistory compares every table with the history, computed by hand.
func checkHistory(t *testing.T, conn driver.Conn, events int) {
	t.Helper()
	equalLines(t, "events", lines(t, conn, "count(), uniqExact(event_id), countIf(payload_json = '')", "FROM events FINAL"),
		[]string{fmt.Sprintf("%d|%d|0", events, events)})
	equalLines(t, "events of l1", lines(t, conn, "aggregate_version, event_type, occurred_at",
		"FROM events FINAL WHERE aggregate_id = 'l1' ORDER BY aggregate_version"), []string{
		"1|LeadCreated|2026-01-05 09:00:00", "2|LeadScored|2026-01-06 09:00:00", "3|LeadStatusChanged|2026-01-06 09:00:00",
		"4|LeadStatusChanged|2026-01-08 09:00:00", "5|LeadStatusChanged|2026-01-09 09:00:00",
		"6|LeadStatusChanged|2026-01-11 09:00:00", "7|LeadConverted|2026-01-11 09:00:00"})
	equalLines(t, "leads", lines(t, conn,
		"lead_id, status, source, campaign_id, owner_id, territory_id, country, industry, total_score, created_at, converted_at, account_id, contact_id, opportunity_id",
		"FROM leads FINAL ORDER BY lead_id"), []string{
		"l1|converted|web_form|c1|u1|emea|DE|software|72|2026-01-05 09:00:00|2026-01-11 09:00:00|a1|k1|o1",
		"l2|new|event||u3||||0|2026-01-07 09:00:00|0000-00-00 00:00:00|||"})
	equalLines(t, "lead_transitions", lines(t, conn,
		"lead_id, at, from_status, to_status, time_in_previous_s, automatic, source, owner_id, lead_created_at",
		"FROM lead_transitions FINAL ORDER BY seq"), []string{
		"l1|2026-01-06 09:00:00|new|marketing_qualified|86400|1|web_form|u1|2026-01-05 09:00:00",
		"l1|2026-01-08 09:00:00|marketing_qualified|sales_accepted|172800|0|web_form|u1|2026-01-05 09:00:00",
		"l1|2026-01-09 09:00:00|sales_accepted|sales_qualified|86400|0|web_form|u1|2026-01-05 09:00:00",
		"l1|2026-01-11 09:00:00|sales_qualified|converted|172800|0|web_form|u1|2026-01-05 09:00:00"})
	equalLines(t, "conversions", lines(t, conn, "lead_id, at, account_id, contact_id, opportunity_id, source, campaign_id, owner_id",
		"FROM conversions FINAL"), []string{"l1|2026-01-11 09:00:00|a1|k1|o1|web_form|c1|u1"})
	equalLines(t, "contacts", lines(t, conn, "contact_id, account_id, source_lead_id, created_at", "FROM contacts FINAL"),
		[]string{"k1|a1|l1|2026-01-11 09:00:00"})
	equalLines(t, "opportunities", lines(t, conn,
		"opportunity_id, name, pipeline_id, stage_id, stage_name, status, forecast_category, probability, amount_micros, currency, owner_id, account_id, lead_id, campaign_id, source, expected_close_date, created_at, closed_at",
		"FROM opportunities FINAL ORDER BY opportunity_id"), []string{
		"o1|Deal 1|p1|won|Closed Won|won|closed|1|1200000000|EUR|u1|a1|l1|c1|web_form|2026-03-31|2026-01-11 09:00:00|2026-01-20 09:00:00",
		"o2|Deal 2|p1|qualify|Qualify|open|pipeline|0.1|500000000|EUR|u2||||event|2026-02-28|2026-01-12 09:00:00|0000-00-00 00:00:00"})
	equalLines(t, "stage_transitions", lines(t, conn,
		"opportunity_id, at, from_stage_id, to_stage_id, to_stage_name, outcome, time_in_stage_s, amount_micros, probability, source, campaign_id, opportunity_created_at",
		"FROM stage_transitions FINAL ORDER BY opportunity_id, seq"), []string{
		"o1|2026-01-11 09:00:00||qualify|Qualify|created|0|1000500000|0.1|web_form|c1|2026-01-11 09:00:00",
		"o1|2026-01-13 09:00:00|qualify|proposal|Proposal|forward|172800|1000500000|0.5|web_form|c1|2026-01-11 09:00:00",
		"o1|2026-01-20 09:00:00|proposal|won|Closed Won|won|604800|1000500000|1|web_form|c1|2026-01-11 09:00:00",
		"o2|2026-01-12 09:00:00||qualify|Qualify|created|0|500000000|0.1|event||2026-01-12 09:00:00",
		"o2|2026-01-14 09:00:00|qualify|lost|Closed Lost|lost|172800|500000000|0|event||2026-01-12 09:00:00",
		"o2|2026-01-15 09:00:00|lost|qualify|Qualify|reopened|86400|500000000|0.1|event||2026-01-12 09:00:00"})
	equalLines(t, "campaigns", lines(t, conn,
		"campaign_id, name, channel, status, owner_id, start_date, end_date, budget_micros, actual_cost_micros, currency, created_at",
		"FROM campaigns FINAL"), []string{"c1|Spring|email|active|u9|2026-01-05|2026-02-05|5000000000|250250000|EUR|2026-01-05 09:00:00"})
	equalLines(t, "members", lines(t, conn,
		"campaign_id, member_type, person_id, member_id, added_at, status, responded, unsubscribed, first_responded_at",
		"FROM members FINAL ORDER BY person_id"), []string{
		"c1|lead|l1|m1|2026-01-05 21:00:00|Clicked|1|0|2026-01-06 04:12:00",
		"c1|lead|l2|m2|2026-01-05 21:00:00|Unsubscribed|0|1|0000-00-00 00:00:00"})
	equalLines(t, "responses", lines(t, conn, "person_id, at, status, kind, responded, first_response, channel",
		"FROM responses FINAL ORDER BY seq"), []string{
		"l1|2026-01-05 23:24:00|Sent|sent|0|0|email",
		"l1|2026-01-06 04:12:00|Clicked|clicked|1|1|email",
		"l2|2026-01-06 01:48:00|Unsubscribed|unsubscribed|0|0|email"})
	equalLines(t, "costs", lines(t, conn, "campaign_id, date, at, amount_micros, currency, channel", "FROM costs FINAL"),
		[]string{"c1|2026-01-06|2026-01-06 09:00:00|250250000|EUR|email"})
}

// finalCounts is the number of rows FINAL sees in every table but events (checkHistory counts
// those).
func finalCounts(t *testing.T, conn driver.Conn) string {
	t.Helper()
	var parts []string
	for _, tb := range []string{"leads", "lead_transitions", "opportunities", "stage_transitions",
		"campaigns", "members", "responses", "costs", "conversions", "contacts"} {
		parts = append(parts, tb+"="+lines(t, conn, "count()", "FROM "+tb+" FINAL")[0])
	}
	return strings.Join(parts, " ")
}

func TestProjectorEndToEndAndReplay(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testkit.SharedClickHouse(t))
	e.history()
	svc, stop := e.start()
	waitProjected(t, svc.App)
	checkHistory(t, e.conn, e.n)
	before := finalCounts(t, e.conn)

	// Replay: the consumers are deleted, a new service projects every stream from the start
	// into the same tables.
	stop()
	if err := projector.DeleteConsumers(t.Context(), e.js, projector.DefaultName); err != nil {
		t.Fatal(err)
	}
	svc, stop = e.start()
	waitProjected(t, svc.App)
	if after := finalCounts(t, e.conn); after != before {
		t.Errorf("replay changed the tables:\n before %s\n after  %s", before, after)
	}
	checkHistory(t, e.conn, e.n)
	stop()
}

func TestProjectorDeadLettersUndecodableEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testkit.SharedClickHouse(t))
	e.history()
	// A body that is no envelope at all, and an envelope whose payload does not decode as
	// its event type.
	if _, err := e.js.Publish(t.Context(), "crm.acme.lead.bad1.LeadCreated", []byte{0xff, 0xff, 0xff}); err != nil {
		t.Fatal(err)
	}
	bad, _ := proto.Marshal(&eventsv1.Envelope{EventId: "bad2", TenantId: "acme", AggregateType: "lead", AggregateId: "bad2",
		AggregateVersion: 1, EventType: "crm.leads.v1.LeadCreated", Payload: []byte{0x0a, 0xff}, OccurredAt: timestamppb.New(day(1))})
	if _, err := e.js.Publish(t.Context(), "crm.acme.lead.bad2.LeadCreated", bad); err != nil {
		t.Fatal(err)
	}
	e.add("lead", "l3", ev(day(5), &leadsv1.LeadCreated{Lead: &leadsv1.Lead{Id: "l3", Status: leadsv1.LeadStatus_LEAD_STATUS_NEW}}))
	svc, stop := e.start()
	defer stop()
	waitProjected(t, svc.App)

	dlq, err := e.js.Stream(t.Context(), projection.DefaultDeadLetterStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := dlq.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 2 {
		t.Fatalf("dead letters = %d, want 2", info.State.Msgs)
	}
	for seq := uint64(1); seq <= 2; seq++ {
		m, err := dlq.GetMsg(t.Context(), seq)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(m.Subject, "dlq.analytics-CRM_LEADS.crm.acme.lead.bad") {
			t.Errorf("dead letter subject %s", m.Subject)
		}
	}
	// Everything else landed: the history and the lead after the bad events.
	equalLines(t, "events", lines(t, e.conn, "count()", "FROM events FINAL"), []string{fmt.Sprint(e.n)})
	equalLines(t, "l3", lines(t, e.conn, "status", "FROM leads FINAL WHERE lead_id = 'l3'"), []string{"new"})
}

func TestProjectorRidesOutClickHouseOutage(t *testing.T) {
	t.Parallel()
	ch := testkit.StartClickHouse(t)
	e := newEnv(t, ch)
	svc, stop := e.start()
	defer stop()

	const leads = 150
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range leads {
			id := fmt.Sprintf("x%d", i)
			ref := eventstore.Ref{Tenant: "acme", Type: "lead", ID: id}
			if _, err := e.store.Append(context.Background(), ref, eventstore.Position{},
				ev(day(1), &leadsv1.LeadCreated{Lead: &leadsv1.Lead{Id: id, Status: leadsv1.LeadStatus_LEAD_STATUS_NEW}})); err != nil {
				t.Errorf("append: %v", err)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	time.Sleep(500 * time.Millisecond)
	if err := ch.Server().Stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // events keep arriving while ClickHouse is down
	ch.Restart(t)
	<-done
	waitProjected(t, svc.App)
	equalLines(t, "after the outage", lines(t, e.conn, "count()", "FROM events FINAL"), []string{fmt.Sprint(leads)})
	equalLines(t, "leads", lines(t, e.conn, "count()", "FROM leads FINAL"), []string{fmt.Sprint(leads)})
	// Nothing was given up on.
	if _, err := e.js.Stream(t.Context(), projection.DefaultDeadLetterStream); err == nil {
		dlq, _ := e.js.Stream(t.Context(), projection.DefaultDeadLetterStream)
		if n := dlq.CachedInfo().State.Msgs; n != 0 {
			t.Errorf("%d events dead-lettered during the outage", n)
		}
	}
}

func TestRebuildWhileQueriesRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testkit.SharedClickHouse(t))
	e.history()
	svc, stop := e.start()
	defer stop()
	waitProjected(t, svc.App)
	before := finalCounts(t, e.conn)

	// Queries run without pause for the whole rebuild; every one must succeed and see the
	// complete tables (old ones, then new ones).
	qctx, qstop := context.WithCancel(t.Context())
	var queries, failures int
	var firstErr error
	var qwg sync.WaitGroup
	qwg.Go(func() {
		for qctx.Err() == nil {
			var n uint64
			err := e.conn.QueryRow(qctx, "SELECT count() FROM stage_transitions FINAL").Scan(&n)
			switch {
			case qctx.Err() != nil:
			case err != nil:
				failures++
				if firstErr == nil {
					firstErr = err
				}
			case n != 6:
				failures++
				if firstErr == nil {
					firstErr = fmt.Errorf("stage_transitions count %d, want 6", n)
				}
			default:
				queries++
			}
		}
	})
	// Events keep arriving during the rebuild.
	var awg sync.WaitGroup
	awg.Go(func() {
		for range 20 {
			e.add("lead", "l2", ev(day(3), &leadsv1.LeadTagsAdded{Tags: []string{"x"}}))
			time.Sleep(10 * time.Millisecond)
		}
	})
	var reports []app.RebuildProgress
	err := svc.App.Rebuild(t.Context(), func(p app.RebuildProgress) { reports = append(reports, p) })
	awg.Wait()
	qstop()
	qwg.Wait()
	if err != nil {
		t.Fatalf("Rebuild: %v", err)
	}
	if failures > 0 {
		t.Errorf("%d of %d queries during the rebuild failed; first: %v", failures, failures+queries, firstErr)
	}
	if len(reports) < 2 || !reports[len(reports)-1].Done {
		t.Fatalf("progress reports %+v, want several ending with Done", reports)
	}
	for _, s := range reports[len(reports)-1].Streams {
		if s.ProjectedSequence != s.LastSequence {
			t.Errorf("last progress of %s: projected %d of %d", s.Stream, s.ProjectedSequence, s.LastSequence)
		}
	}
	waitProjected(t, svc.App)
	checkHistory(t, e.conn, e.n)
	if after := finalCounts(t, e.conn); after != before {
		t.Errorf("tables after the rebuild:\n before %s\n after  %s", before, after)
	}
	// The staging and old databases are gone, and so are the rebuild consumers.
	equalLines(t, "leftover databases", lines(t, e.conn, "name",
		"FROM system.databases WHERE name IN ('"+e.db+"_rebuild', '"+e.db+"_old')"), nil)
	if _, err := e.js.Consumer(t.Context(), "CRM_LEADS", projector.ConsumerName(projector.DefaultName+"-rebuild", "CRM_LEADS")); err == nil {
		t.Error("rebuild consumer left behind")
	}
	st, err := svc.App.ProjectionStatus(t.Context())
	if err != nil || st.Rebuilding {
		t.Errorf("status after rebuild: %+v, %v", st, err)
	}
}
