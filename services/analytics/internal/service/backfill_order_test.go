package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/evcrm/evcrm/libs/eventstore"
	analyticsv1 "github.com/evcrm/evcrm/libs/gen/crm/analytics/v1"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/analytics/internal/ports/projector"
)

// backfillLead is one lead's history, each step at a business time of its own.
type backfillLead struct {
	email, company                  string
	created, mql, sal, sql, convert time.Time
	// moves are the opportunity's stage moves after the conversion, then its win.
	moves []backfillMove
	won   time.Time
}

type backfillMove struct {
	stage string
	at    time.Time
}

// TestBackfillOutOfOrderKeepsDurations is issue 11's fault test 6 (clock and ordering), through
// the real services: the leads and pipeline services run as processes started with
// -allow-backfill, and every call carries x-evcrm-backfill-time. The metric end-to-end test
// (TestMetricsEndToEnd) appends its history straight to the streams, aggregate by aggregate;
// here the services themselves date the events (occurred_at, time in stage, created_at of the
// converted records, the opportunity the conversion opens in pipeline, the leads service's
// LeadOpportunityWon reaction dated at the win) and the calls of two leads and their deals are
// interleaved so that the streams' order runs against business time.
//
// Fault: occurred_at out of order. The later lead (L2, February) is written first and the
// earlier one (L1, January) after it, step by step alternately, so that nearly every event is
// older than the one stored before it; L1's deal is won (Feb 4) after L2's deal has moved into
// negotiation (Feb 20); the projector starts only once everything is stored, so its batches
// hold the history in the streams' order.
//
// Load: 2 leads, about 30 backfilled calls, one projector.
//
// Invariants: every figure equals the one computed from business time — the funnel's cohorts by
// creation month and the median time between its steps (L1: 1, 2, 3, 4 days, won 20 days after
// the conversion; L2: 2, 1, 2, 2, 20), the time in each stage (prospecting 3 d for both,
// proposal 17 d for o1 and 8 d for o2, negotiation 9 d), the sales cycle (20 d each) — and
// a replay (consumers deleted, the streams projected again into the same tables) changes no
// answer.
func TestBackfillOutOfOrderKeepsDurations(t *testing.T) {
	t.Parallel()
	ch := testkit.SharedClickHouse(t)
	ns := testkit.StartNATS(t)
	e := newEnv(t, ch)
	// newEnv's server is replaced by one the processes can join.
	e.nc = ns.Connect(t)
	js, err := jetstream.New(e.nc)
	if err != nil {
		t.Fatal(err)
	}
	e.js = js
	if err := eventstore.EnsureStreams(t.Context(), js, eventstore.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	pipeline := testkit.StartProcess(t, testkit.BuildBinary(t, "github.com/evcrm/evcrm/services/pipeline/cmd/pipeline"), ns, "-allow-backfill")
	leadsProc := testkit.StartProcess(t, testkit.BuildBinary(t, "github.com/evcrm/evcrm/services/leads/cmd/leads"), ns,
		"-allow-backfill", "-pipeline-addr", pipeline.Addr())
	leads := leadsv1.NewLeadsServiceClient(leadsProc.Conn(t))
	opps := pipelinev1.NewPipelineServiceClient(pipeline.Conn(t))

	d := func(m time.Month, day int) time.Time { return time.Date(2026, m, day, 9, 0, 0, 0, time.UTC) }
	l1 := backfillLead{email: "ada@january.example", company: "January Ltd",
		created: d(1, 5), mql: d(1, 6), sal: d(1, 8), sql: d(1, 11), convert: d(1, 15),
		moves: []backfillMove{{"proposal", d(1, 18)}}, won: d(2, 4)}
	l2 := backfillLead{email: "grace@february.example", company: "February Ltd",
		created: d(2, 2), mql: d(2, 4), sal: d(2, 5), sql: d(2, 7), convert: d(2, 9),
		moves: []backfillMove{{"proposal", d(2, 12)}, {"negotiation", d(2, 20)}}, won: d(3, 1)}

	at := func(when time.Time) context.Context {
		return metadata.AppendToOutgoingContext(testkit.As(t, "acme", "rep-1"), "x-evcrm-backfill-time", when.Format(time.RFC3339))
	}
	ids := map[*backfillLead]string{}
	oppIDs := map[*backfillLead]string{}
	// Each step function runs one lead's step; the steps of L2 and L1 alternate, L2 first.
	steps := []func(l *backfillLead){
		func(l *backfillLead) {
			res, err := leads.CreateLead(at(l.created), &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{FirstName: "Back", LastName: "Fill",
				Email: l.email, Company: l.company, Country: "GB", Source: leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM, OwnerId: "rep-1"}})
			must(t, err)
			ids[l] = res.GetLead().GetId()
			_, err = leads.SetBant(at(l.created), &leadsv1.SetBantRequest{LeadId: ids[l], Bant: &leadsv1.Bant{
				Budget: &commonv1.Money{CurrencyCode: "EUR", Units: 10000}, BudgetConfirmed: true, Authority: "CFO",
				AuthorityConfirmed: true, Need: "reports", NeedConfirmed: true, Timeline: timestamppb.New(l.created.Add(90 * 24 * time.Hour)),
				TimelineConfirmed: true}})
			must(t, err)
		},
		func(l *backfillLead) {
			changeStatus(t, leads, at(l.mql), ids[l], leadsv1.LeadStatus_LEAD_STATUS_MARKETING_QUALIFIED)
		},
		func(l *backfillLead) {
			changeStatus(t, leads, at(l.sal), ids[l], leadsv1.LeadStatus_LEAD_STATUS_SALES_ACCEPTED)
		},
		func(l *backfillLead) {
			changeStatus(t, leads, at(l.sql), ids[l], leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED)
		},
		func(l *backfillLead) {
			res, err := leads.ConvertLead(at(l.convert), &leadsv1.ConvertLeadRequest{LeadId: ids[l], Opportunity: &leadsv1.ConversionOpportunity{}})
			must(t, err)
			oppIDs[l] = res.GetOpportunityId()
		},
	}
	for _, step := range steps {
		step(&l2)
		step(&l1)
	}
	// L2's deal moves first, to the end of February; then L1's deal moves and is won in
	// January/February; L2's is won last.
	for _, l := range []*backfillLead{&l2, &l1} {
		for _, m := range l.moves {
			_, err := opps.MoveOpportunityStage(at(m.at), &pipelinev1.MoveOpportunityStageRequest{OpportunityId: oppIDs[l], StageId: m.stage})
			must(t, err)
		}
	}
	for _, l := range []*backfillLead{&l1, &l2} {
		_, err := opps.MarkOpportunityWon(at(l.won), &pipelinev1.MarkOpportunityWonRequest{OpportunityId: oppIDs[l]})
		must(t, err)
	}
	// The leads service's reaction records both wins on the leads.
	deadline := time.Now().Add(30 * time.Second)
	for countSubjects(t, js, "CRM_LEADS", "crm.acme.lead.*.LeadOpportunityWon") < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the leads service never recorded the wins")
		}
		time.Sleep(50 * time.Millisecond)
	}

	svc, stop := e.start()
	waitProjected(t, svc.App)
	first := snapshot(t, svc, "acme")

	// The figures from business time.
	funnel := first["funnel by month"].(*analyticsv1.GetFunnelResponse)
	wantSteps := map[string][]float64{ // cohort month → days between steps (mql, sal, sql, converted, won)
		"2026-01": {1, 2, 3, 4, 20},
		"2026-02": {2, 1, 2, 2, 20},
	}
	if len(funnel.GetCohorts()) != 2 {
		t.Fatalf("funnel cohorts: %s", textOpts.Format(funnel))
	}
	for _, c := range funnel.GetCohorts() {
		month := c.GetPeriodStart().AsTime().Format("2006-01")
		want, ok := wantSteps[month]
		if !ok {
			t.Errorf("unexpected cohort %s", month)
			continue
		}
		for i, s := range c.GetSteps()[1:] {
			if s.GetCount() != 1 || s.GetMedianTime().AsDuration() != days(want[i]) {
				t.Errorf("cohort %s step %s: count %d, median %v; want 1 after %v days", month, s.GetStep(), s.GetCount(),
					s.GetMedianTime().AsDuration(), want[i])
			}
		}
	}
	stages := first["stage metrics Q1"].(*analyticsv1.GetStageMetricsResponse)
	wantAvg := map[string]time.Duration{"prospecting": days(3), "proposal": days((17 + 8) / 2.0), "negotiation": days(9)}
	got := map[string]time.Duration{}
	for _, s := range stages.GetStages() {
		got[s.GetStageId()] = s.GetAvgTime().AsDuration()
	}
	for stage, want := range wantAvg {
		if got[stage] != want {
			t.Errorf("average time in %s = %v, want %v (all: %v)", stage, got[stage], want, got)
		}
	}
	vel := first["sales velocity by quarter"].(*analyticsv1.GetSalesVelocityResponse)
	if len(vel.GetRows()) != 1 || vel.GetRows()[0].GetWon() != 2 || vel.GetRows()[0].GetSalesCycleDays() != 20 {
		t.Errorf("sales velocity: %s; want 2 won with a 20-day cycle", textOpts.Format(vel))
	}

	// A replay into the same tables changes nothing.
	stop()
	if err := projector.DeleteConsumers(t.Context(), js, projector.DefaultName); err != nil {
		t.Fatal(err)
	}
	svc, stop = e.start()
	defer stop()
	waitProjected(t, svc.App)
	again := snapshot(t, svc, "acme")
	for _, mc := range metricCalls {
		if !proto.Equal(first[mc.name], again[mc.name]) {
			t.Errorf("after the replay, %s differs:\n got: %s\nwant: %s", mc.name, textOpts.Format(again[mc.name]), textOpts.Format(first[mc.name]))
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func changeStatus(t *testing.T, c leadsv1.LeadsServiceClient, ctx context.Context, id string, to leadsv1.LeadStatus) {
	t.Helper()
	_, err := c.ChangeLeadStatus(ctx, &leadsv1.ChangeLeadStatusRequest{LeadId: id, Status: to})
	if err != nil {
		t.Fatalf("%s to %s: %v", id, to, err)
	}
}

// countSubjects counts the messages of stream matching filter.
func countSubjects(t *testing.T, js jetstream.JetStream, stream, filter string) int {
	t.Helper()
	s, err := js.Stream(t.Context(), stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(t.Context(), jetstream.WithSubjectFilter(filter))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range info.State.Subjects {
		n += int(c)
	}
	return n
}
