package service_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/evcrm/evcrm/libs/eventstore"
	analyticsv1 "github.com/evcrm/evcrm/libs/gen/crm/analytics/v1"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/libs/testkit"
	analyticsgrpc "github.com/evcrm/evcrm/services/analytics/internal/ports/grpc"
	"github.com/evcrm/evcrm/services/analytics/internal/ports/projector"
	"github.com/evcrm/evcrm/services/analytics/internal/service"
)

// The end-to-end metric test: a scripted sales history is appended to JetStream the way the
// leads, pipeline and campaign services append it, the projector writes it into ClickHouse,
// and every metric is read through the gRPC API and compared with figures computed by hand
// below. The same answers must come back after a full replay (consumers deleted) and from two
// projector replicas sharing the consumers; a second tenant's history, which reuses the same
// ids, must never show up in the first tenant's figures.
//
// The history of tenant "acme" (2026, UTC, 09:00 unless said otherwise):
//
//	leads   L1 Jan 5  web_form c1 u1 emea: MQL Jan 6 (+1 d), SAL Jan 8 (+2 d), SQL Jan 11 (+3 d),
//	                  converted Jan 15 (+4 d) into account a1, contact k1, opportunity o1
//	        L2 Jan 6  web_form c1 u2 emea: MQL Jan 8 (+2 d), SAL Jan 9 (+1 d), SQL Jan 10 (+1 d),
//	                  converted Jan 12 (+2 d) into a2, k2, o2
//	        L3 Jan 7  event       u1 na:   MQL Jan 10 (+3 d), SAL Jan 14 (+4 d)
//	        L4 Jan 12 event    c1 u2 na:   MQL Jan 13 (+1 d)
//	        L5 Jan 20 web_form    u1 emea: nothing
//	        L6 Jan 25 referral    u2 na:   disqualified Jan 27 (no funnel step)
//	        L7 Feb 3  web_form    u1 emea: MQL Feb 5 (+2 d)
//	opps    (pipeline p1: qualify 10 % → proposal 50 % → negotiation 80 % → won / lost)
//	        o1 (L1, a1, u1, c1) created Jan 15 in qualify at 10,000 EUR; amount 12,000 Jan 16;
//	           proposal Jan 18 (3 d in qualify), negotiation Jan 25 (7 d in proposal),
//	           won Feb 4 (10 d in negotiation) at 12,000: sales cycle Jan 15 → Feb 4 = 20 d
//	        o2 (L2, a2, u2, c1) created Jan 12 at 5,000, expected close Feb 20; proposal Jan 14
//	           (2 d), lost Jan 24 (10 d in proposal)
//	        o3 (a3, u1, no lead) created Jan 20 at 8,000, expected close Mar 13; proposal Jan 22
//	           (2 d), open at 50 % (best_case)
//	        o4 (a4, u2, no lead) created Jan 26 at 2,000, expected close Feb 27; open in qualify
//	           at 10 % (pipeline)
//	campaigns c1 "Winter Launch" (email): costs 1,500 (Jan 3) + 500 (Jan 20) = 2,000 EUR;
//	           members L1, L2, L3 (added Jan 7 10:00) and L5 (Jan 21 10:00);
//	           L1 sent Jan 8 09:00, opened Jan 8 12:00, clicked Jan 9 (responded), converted
//	              Jan 15 10:00 (responded);
//	           L2 sent Jan 8, opened Jan 9 10:00, clicked Jan 9 11:00 (responded);
//	           L3 sent Jan 8, opened Jan 10; L5 sent Jan 22
//	        c2 "Product Webinar" (webinar): member L1 (added Jan 10 10:00), attended Jan 12
//	           (responded); no cost
//
// Tenant "globex" reuses the ids l1, a1, k1, o1, c1, m1 for a history of its own (a lead
// converted Jan 12 into o1, won Jan 20 at 99,000 EUR, a campaign c1 with a cost of 777 EUR):
// any leak would move acme's figures.

const tenantA, tenantB = "acme", "globex"

// at26 is a time in 2026 (UTC): month, day, hour, minute.
func at26(m time.Month, d, h, min int) time.Time {
	return time.Date(2026, m, d, h, min, 0, 0, time.UTC)
}

func days(n float64) time.Duration { return time.Duration(n * float64(24*time.Hour)) }

// addFor appends events to one aggregate of tenant (env.add is for acme only).
func (e *env) addFor(tenant, typ, id string, evs ...eventstore.Event) {
	e.t.Helper()
	ref := eventstore.Ref{Tenant: tenant, Type: typ, ID: id}
	res, err := e.store.Append(e.t.Context(), ref, e.pos[ref], evs...)
	if err != nil {
		e.t.Fatalf("append to %s: %v", ref, err)
	}
	e.pos[ref] = res.Position
	e.n += len(evs)
}

// leadAttrs are what every lead event carries for grouping.
type leadAttrs struct {
	source                        leadsv1.LeadSource
	campaign, owner, territory    string
	account, contact, opportunity string // set for the leads that convert
}

const (
	stNew  = leadsv1.LeadStatus_LEAD_STATUS_NEW
	stMQL  = leadsv1.LeadStatus_LEAD_STATUS_MARKETING_QUALIFIED
	stSAL  = leadsv1.LeadStatus_LEAD_STATUS_SALES_ACCEPTED
	stSQL  = leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED
	stConv = leadsv1.LeadStatus_LEAD_STATUS_CONVERTED
	stDisq = leadsv1.LeadStatus_LEAD_STATUS_DISQUALIFIED
)

// lead appends a lead's creation at created and then one status change per step (to, at),
// each with the time spent in the previous status, the way the leads service records them; a
// move to CONVERTED carries the converted records and is followed by LeadConverted in the
// same append.
func (e *env) lead(tenant, id string, a leadAttrs, created time.Time, steps ...any) {
	e.t.Helper()
	e.addFor(tenant, "lead", id, ev(created, &leadsv1.LeadCreated{Lead: &leadsv1.Lead{Id: id, Status: stNew,
		Source: a.source, CampaignId: a.campaign, OwnerId: a.owner, TerritoryId: a.territory,
		CreatedAt: timestamppb.New(created)}}))
	from, since := stNew, created
	for i := 0; i < len(steps); i += 2 {
		to, when := steps[i].(leadsv1.LeadStatus), steps[i+1].(time.Time)
		sc := &leadsv1.LeadStatusChanged{From: from, To: to, TimeInPrevious: durationpb.New(when.Sub(since)),
			Automatic: to == stMQL, Source: a.source, CampaignId: a.campaign, OwnerId: a.owner, TerritoryId: a.territory}
		evs := []eventstore.Event{ev(when, sc)}
		if to == stConv {
			sc.Converted = &leadsv1.ConvertedRecords{AccountId: a.account, ContactId: a.contact,
				OpportunityId: a.opportunity, ConvertedAt: timestamppb.New(when)}
			evs = append(evs, ev(when, &leadsv1.LeadConverted{AccountId: a.account, ContactId: a.contact,
				OpportunityId: a.opportunity, ConvertedBy: a.owner, AccountCreated: true, ContactCreated: true,
				Source: a.source, CampaignId: a.campaign, OwnerId: a.owner}))
		}
		e.addFor(tenant, "lead", id, evs...)
		from, since = to, when
	}
}

// accountAndContact appends the account and contact a conversion created.
func (e *env) accountAndContact(tenant, account, contact, lead string, when time.Time) {
	e.t.Helper()
	e.addFor(tenant, "account", account, ev(when, &leadsv1.AccountCreated{Account: &leadsv1.Account{Id: account,
		Name: "Account " + account}}))
	e.addFor(tenant, "contact", contact, ev(when, &leadsv1.ContactCreated{Contact: &leadsv1.Contact{Id: contact,
		AccountId: account, SourceLeadId: lead, CreatedAt: timestamppb.New(when)}}))
}

// stage is a stage of pipeline p1 with its defaults.
type stage struct {
	id, name string
	prob     uint32
	cat      pipelinev1.ForecastCategory
}

var (
	sQualify     = stage{"qualify", "Qualify", 10, pipelinev1.ForecastCategory_FORECAST_CATEGORY_PIPELINE}
	sProposal    = stage{"proposal", "Proposal", 50, pipelinev1.ForecastCategory_FORECAST_CATEGORY_BEST_CASE}
	sNegotiation = stage{"negotiation", "Negotiation", 80, pipelinev1.ForecastCategory_FORECAST_CATEGORY_COMMIT}
	sWon         = stage{"won", "Closed Won", 100, pipelinev1.ForecastCategory_FORECAST_CATEGORY_CLOSED}
	sLost        = stage{"lost", "Closed Lost", 0, pipelinev1.ForecastCategory_FORECAST_CATEGORY_OMITTED}
)

// opp tracks an opportunity while its history is appended.
type opp struct {
	e          *env
	tenant, id string
	lead       string
	owner      string
	st         stage
	since      time.Time
	units      int64
}

func (e *env) opportunity(tenant, id, lead, account, owner, campaign string, src pipelinev1.OpportunitySource,
	units int64, expectedClose string, created time.Time) *opp {
	e.t.Helper()
	e.addFor(tenant, "opportunity", id, ev(created, &pipelinev1.OpportunityCreated{Opportunity: &pipelinev1.Opportunity{
		Id: id, Name: "Deal " + id, AccountId: account, LeadId: lead, OwnerId: owner, PipelineId: "p1",
		StageId: sQualify.id, StageName: sQualify.name, Amount: eur(units, 0), Probability: sQualify.prob,
		ExpectedCloseDate: expectedClose, ForecastCategory: sQualify.cat, Source: src, PrimaryCampaignId: campaign,
		Status: pipelinev1.OpportunityStatus_OPPORTUNITY_STATUS_OPEN, CreatedAt: timestamppb.New(created)}}))
	return &opp{e: e, tenant: tenant, id: id, lead: lead, owner: owner, st: sQualify, since: created, units: units}
}

// move appends a stage change (and extra events in the same append, e.g. OpportunityWon).
func (o *opp) move(to stage, when time.Time, extra ...eventstore.Event) {
	o.e.t.Helper()
	sc := &pipelinev1.OpportunityStageChanged{PipelineId: "p1", FromStageId: o.st.id, FromStageName: o.st.name,
		ToStageId: to.id, ToStageName: to.name, ToForecastCategory: to.cat, Probability: to.prob,
		Amount: eur(o.units, 0), TimeInPreviousStage: durationpb.New(when.Sub(o.since)), OwnerId: o.owner,
		Direction: pipelinev1.StageChangeDirection_STAGE_CHANGE_DIRECTION_FORWARD}
	o.e.addFor(o.tenant, "opportunity", o.id, append([]eventstore.Event{ev(when, sc)}, extra...)...)
	o.st, o.since = to, when
}

func (o *opp) win(when time.Time, days uint32) {
	o.e.t.Helper()
	from, in := o.st.id, when.Sub(o.since)
	o.move(sWon, when, ev(when, &pipelinev1.OpportunityWon{Amount: eur(o.units, 0), CloseDate: when.Format(time.DateOnly),
		FromStageId: from, TimeInPreviousStage: durationpb.New(in), DaysOpen: days,
		Deal: &pipelinev1.Deal{PipelineId: "p1", OwnerId: o.owner, LeadId: o.lead}}))
	if o.lead != "" {
		// What the leads service's reaction to the win appends to the lead, a little later
		// than the win: the funnel's won step takes won_at, not the reaction's time.
		o.e.addFor(o.tenant, "lead", o.lead, ev(when.Add(time.Hour), &leadsv1.LeadOpportunityWon{OpportunityId: o.id,
			WonAt: timestamppb.New(when), Amount: eur(o.units, 0), CloseDate: when.Format(time.DateOnly)}))
	}
}

func (o *opp) lose(when time.Time, days uint32) {
	o.e.t.Helper()
	from, in := o.st.id, when.Sub(o.since)
	o.move(sLost, when, ev(when, &pipelinev1.OpportunityLost{Reason: pipelinev1.LostReason_LOST_REASON_PRICE,
		CloseDate: when.Format(time.DateOnly), FromStageId: from, TimeInPreviousStage: durationpb.New(in),
		Amount: eur(o.units, 0), DaysOpen: days}))
}

func (e *env) campaign(tenant, id, name string, ch campaignv1.CampaignChannel, created time.Time) {
	e.t.Helper()
	e.addFor(tenant, "campaign", id, ev(created, &campaignv1.CampaignCreated{Campaign: &campaignv1.Campaign{Id: id,
		Name: name, Channel: ch, Status: campaignv1.CampaignStatus_CAMPAIGN_STATUS_ACTIVE, StartDate: "2026-01-01",
		EndDate: "2026-03-31", Budget: eur(5000, 0), OwnerId: "u9", CreatedAt: timestamppb.New(created)}}))
}

func (e *env) cost(tenant, campaign string, ch campaignv1.CampaignChannel, units, total int64, when time.Time) {
	e.t.Helper()
	e.addFor(tenant, "campaign", campaign, ev(when, &campaignv1.CampaignCostRecorded{Entry: &campaignv1.CostEntry{
		Amount: eur(units, 0), Date: when.Format(time.DateOnly)}, ActualCost: eur(total, 0), Channel: ch}))
}

// member appends a lead's membership and its responses (status, kind, responded, at), in
// one append per event as the campaign service records them.
func (e *env) member(tenant, id, campaign, lead string, ch campaignv1.CampaignChannel, added time.Time, responses ...any) {
	e.t.Helper()
	lt := campaignv1.MemberType_MEMBER_TYPE_LEAD
	e.addFor(tenant, "member", id, ev(added, &campaignv1.CampaignMemberAdded{Member: &campaignv1.Member{Id: id,
		CampaignId: campaign, Type: lt, PersonId: lead, AddedAt: timestamppb.New(added), AddedBy: "manual"}, Channel: ch}))
	first := true
	for i := 0; i < len(responses); i += 4 {
		status, kind := responses[i].(string), responses[i+1].(campaignv1.ResponseKind)
		responded, when := responses[i+2].(bool), responses[i+3].(time.Time)
		e.addFor(tenant, "member", id, ev(when, &campaignv1.CampaignMemberResponded{CampaignId: campaign, MemberType: lt,
			PersonId: lead, Status: status, Kind: kind, Responded: responded, FirstResponse: responded && first,
			OccurredAt: timestamppb.New(when), Channel: ch}))
		if responded {
			first = false
		}
	}
}

var (
	kSent      = campaignv1.ResponseKind_RESPONSE_KIND_SENT
	kOpened    = campaignv1.ResponseKind_RESPONSE_KIND_OPENED
	kClicked   = campaignv1.ResponseKind_RESPONSE_KIND_CLICKED
	kConverted = campaignv1.ResponseKind_RESPONSE_KIND_CONVERTED
	kOther     = campaignv1.ResponseKind_RESPONSE_KIND_OTHER
	chEmail    = campaignv1.CampaignChannel_CAMPAIGN_CHANNEL_EMAIL
	chWebinar  = campaignv1.CampaignChannel_CAMPAIGN_CHANNEL_WEBINAR
	srcWeb     = pipelinev1.OpportunitySource_OPPORTUNITY_SOURCE_WEB_FORM
	srcEvent   = pipelinev1.OpportunitySource_OPPORTUNITY_SOURCE_EVENT
)

// salesHistory appends acme's history (see the top of the file), aggregate by aggregate in a
// fixed order: the timeline's ties on time are broken by stream sequence.
func (e *env) salesHistory() {
	e.t.Helper()
	const T = tenantA
	web, evt, ref := leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM, leadsv1.LeadSource_LEAD_SOURCE_EVENT, leadsv1.LeadSource_LEAD_SOURCE_REFERRAL

	e.campaign(T, "c1", "Winter Launch", chEmail, at26(1, 2, 9, 0))
	e.cost(T, "c1", chEmail, 1500, 1500, at26(1, 3, 9, 0))
	e.campaign(T, "c2", "Product Webinar", chWebinar, at26(1, 9, 9, 0))

	e.lead(T, "l1", leadAttrs{web, "c1", "u1", "emea", "a1", "k1", "o1"}, at26(1, 5, 9, 0),
		stMQL, at26(1, 6, 9, 0), stSAL, at26(1, 8, 9, 0), stSQL, at26(1, 11, 9, 0), stConv, at26(1, 15, 9, 0))
	e.accountAndContact(T, "a1", "k1", "l1", at26(1, 15, 9, 0))
	e.lead(T, "l2", leadAttrs{web, "c1", "u2", "emea", "a2", "k2", "o2"}, at26(1, 6, 9, 0),
		stMQL, at26(1, 8, 9, 0), stSAL, at26(1, 9, 9, 0), stSQL, at26(1, 10, 9, 0), stConv, at26(1, 12, 9, 0))
	e.accountAndContact(T, "a2", "k2", "l2", at26(1, 12, 9, 0))
	e.lead(T, "l3", leadAttrs{source: evt, owner: "u1", territory: "na"}, at26(1, 7, 9, 0),
		stMQL, at26(1, 10, 9, 0), stSAL, at26(1, 14, 9, 0))
	e.lead(T, "l4", leadAttrs{source: evt, campaign: "c1", owner: "u2", territory: "na"}, at26(1, 12, 9, 0),
		stMQL, at26(1, 13, 9, 0))
	e.lead(T, "l5", leadAttrs{source: web, owner: "u1", territory: "emea"}, at26(1, 20, 9, 0))
	e.lead(T, "l6", leadAttrs{source: ref, owner: "u2", territory: "na"}, at26(1, 25, 9, 0), stDisq, at26(1, 27, 9, 0))
	e.lead(T, "l7", leadAttrs{source: web, owner: "u1", territory: "emea"}, at26(2, 3, 9, 0), stMQL, at26(2, 5, 9, 0))

	o1 := e.opportunity(T, "o1", "l1", "a1", "u1", "c1", srcWeb, 10000, "2026-02-27", at26(1, 15, 9, 0))
	e.addFor(T, "opportunity", "o1", ev(at26(1, 16, 9, 0), &pipelinev1.OpportunityAmountChanged{
		PreviousAmount: eur(10000, 0), Amount: eur(12000, 0)}))
	o1.units = 12000
	o1.move(sProposal, at26(1, 18, 9, 0))
	o1.move(sNegotiation, at26(1, 25, 9, 0))
	o1.win(at26(2, 4, 9, 0), 20)
	o2 := e.opportunity(T, "o2", "l2", "a2", "u2", "c1", srcWeb, 5000, "2026-02-20", at26(1, 12, 9, 0))
	o2.move(sProposal, at26(1, 14, 9, 0))
	o2.lose(at26(1, 24, 9, 0), 12)
	o3 := e.opportunity(T, "o3", "", "a3", "u1", "", srcEvent, 8000, "2026-03-13", at26(1, 20, 9, 0))
	o3.move(sProposal, at26(1, 22, 9, 0))
	e.opportunity(T, "o4", "", "a4", "u2", "", srcEvent, 2000, "2026-02-27", at26(1, 26, 9, 0))

	e.member(T, "m1", "c1", "l1", chEmail, at26(1, 7, 10, 0),
		"sent", kSent, false, at26(1, 8, 9, 0), "opened", kOpened, false, at26(1, 8, 12, 0),
		"clicked", kClicked, true, at26(1, 9, 9, 0), "converted", kConverted, true, at26(1, 15, 10, 0))
	e.member(T, "m2", "c1", "l2", chEmail, at26(1, 7, 10, 0),
		"sent", kSent, false, at26(1, 8, 9, 0), "opened", kOpened, false, at26(1, 9, 10, 0),
		"clicked", kClicked, true, at26(1, 9, 11, 0))
	e.member(T, "m3", "c1", "l3", chEmail, at26(1, 7, 10, 0),
		"sent", kSent, false, at26(1, 8, 9, 0), "opened", kOpened, false, at26(1, 10, 9, 0))
	e.member(T, "m4", "c1", "l5", chEmail, at26(1, 21, 10, 0), "sent", kSent, false, at26(1, 22, 9, 0))
	e.member(T, "m5", "c2", "l1", chWebinar, at26(1, 10, 10, 0), "attended", kOther, true, at26(1, 12, 9, 0))
	e.cost(T, "c1", chEmail, 500, 2000, at26(1, 20, 9, 0))
}

// otherTenantHistory appends globex's history, with acme's ids.
func (e *env) otherTenantHistory() {
	e.t.Helper()
	const T = tenantB
	e.campaign(T, "c1", "Globex Launch", chEmail, at26(1, 2, 9, 0))
	e.cost(T, "c1", chEmail, 777, 777, at26(1, 4, 9, 0))
	// MQL Jan 11, then straight to converted Jan 12: SAL and SQL are reached by the skip.
	e.lead(T, "l1", leadAttrs{leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM, "c1", "u1", "emea", "a1", "k1", "o1"},
		at26(1, 10, 9, 0), stMQL, at26(1, 11, 9, 0), stConv, at26(1, 12, 9, 0))
	e.accountAndContact(T, "a1", "k1", "l1", at26(1, 12, 9, 0))
	o1 := e.opportunity(T, "o1", "l1", "a1", "u1", "c1", srcWeb, 99000, "2026-02-27", at26(1, 12, 9, 0))
	o1.win(at26(1, 20, 9, 0), 8)
	e.member(T, "m1", "c1", "l1", chEmail, at26(1, 10, 10, 0),
		"sent", kSent, false, at26(1, 10, 12, 0), "clicked", kClicked, true, at26(1, 11, 8, 0))
}

// --- the queries -------------------------------------------------------------------------

var (
	q1Range = &analyticsv1.TimeRange{From: timestamppb.New(at26(1, 1, 0, 0)), To: timestamppb.New(at26(4, 1, 0, 0))}
	month   = analyticsv1.Period_PERIOD_MONTH
	quarter = analyticsv1.Period_PERIOD_QUARTER
)

// metricCall is one request of the snapshot.
type metricCall struct {
	name string
	do   func(ctx context.Context, c analyticsv1.AnalyticsServiceClient) (proto.Message, error)
}

var metricCalls = []metricCall{
	{"funnel by month", func(ctx context.Context, c analyticsv1.AnalyticsServiceClient) (proto.Message, error) {
		return c.GetFunnel(ctx, &analyticsv1.GetFunnelRequest{Range: q1Range, Period: month})
	}},
	{"funnel by month, 9-day window", func(ctx context.Context, c analyticsv1.AnalyticsServiceClient) (proto.Message, error) {
		return c.GetFunnel(ctx, &analyticsv1.GetFunnelRequest{Range: q1Range, Period: month, ConversionWindow: durationpb.New(days(9))})
	}},
	{"funnel by quarter and source", func(ctx context.Context, c analyticsv1.AnalyticsServiceClient) (proto.Message, error) {
		return c.GetFunnel(ctx, &analyticsv1.GetFunnelRequest{Range: q1Range, Period: quarter, Breakdown: analyticsv1.Breakdown_BREAKDOWN_SOURCE})
	}},
	{"stage metrics Q1", func(ctx context.Context, c analyticsv1.AnalyticsServiceClient) (proto.Message, error) {
		return c.GetStageMetrics(ctx, &analyticsv1.GetStageMetricsRequest{Range: q1Range})
	}},
	{"stage metrics Jan 1-20", func(ctx context.Context, c analyticsv1.AnalyticsServiceClient) (proto.Message, error) {
		return c.GetStageMetrics(ctx, &analyticsv1.GetStageMetricsRequest{Range: &analyticsv1.TimeRange{
			From: timestamppb.New(at26(1, 1, 0, 0)), To: timestamppb.New(at26(1, 20, 0, 0))}})
	}},
	{"sales velocity by month", func(ctx context.Context, c analyticsv1.AnalyticsServiceClient) (proto.Message, error) {
		return c.GetSalesVelocity(ctx, &analyticsv1.GetSalesVelocityRequest{Range: q1Range, Period: month, Currency: "EUR"})
	}},
	{"sales velocity by quarter", func(ctx context.Context, c analyticsv1.AnalyticsServiceClient) (proto.Message, error) {
		return c.GetSalesVelocity(ctx, &analyticsv1.GetSalesVelocityRequest{Range: q1Range, Period: quarter, Currency: "EUR"})
	}},
	{"sales velocity by quarter and owner", func(ctx context.Context, c analyticsv1.AnalyticsServiceClient) (proto.Message, error) {
		return c.GetSalesVelocity(ctx, &analyticsv1.GetSalesVelocityRequest{Range: q1Range, Period: quarter,
			Breakdown: analyticsv1.Breakdown_BREAKDOWN_OWNER, Currency: "EUR"})
	}},
	{"forecast by month", func(ctx context.Context, c analyticsv1.AnalyticsServiceClient) (proto.Message, error) {
		return c.GetForecast(ctx, &analyticsv1.GetForecastRequest{Range: q1Range, Period: month, Currency: "EUR"})
	}},
	{"forecast by quarter and category", func(ctx context.Context, c analyticsv1.AnalyticsServiceClient) (proto.Message, error) {
		return c.GetForecast(ctx, &analyticsv1.GetForecastRequest{Range: q1Range, Period: quarter,
			Breakdown: analyticsv1.Breakdown_BREAKDOWN_FORECAST_CATEGORY, Currency: "EUR"})
	}},
	{"campaign performance Q1", func(ctx context.Context, c analyticsv1.AnalyticsServiceClient) (proto.Message, error) {
		return c.GetCampaignPerformance(ctx, &analyticsv1.GetCampaignPerformanceRequest{Range: q1Range, Currency: "EUR"})
	}},
	{"timeline of a1", func(ctx context.Context, c analyticsv1.AnalyticsServiceClient) (proto.Message, error) {
		// Every page of 8, joined; the page boundaries are in next_page_token as sizes.
		all := &analyticsv1.GetTimelineResponse{}
		var sizes []string
		token := ""
		for range 10 {
			p, err := c.GetTimeline(ctx, &analyticsv1.GetTimelineRequest{AccountId: "a1", PageSize: 8, PageToken: token})
			if err != nil {
				return nil, err
			}
			all.Events = append(all.Events, p.GetEvents()...)
			sizes = append(sizes, fmt.Sprint(len(p.GetEvents())))
			if token = p.GetNextPageToken(); token == "" {
				break
			}
		}
		all.NextPageToken = "pages " + strings.Join(sizes, ",")
		return all, nil
	}},
}

// snapshot runs every metric call as a user of tenant against the service's gRPC API.
func snapshot(t *testing.T, svc *service.Service, tenant string) map[string]proto.Message {
	t.Helper()
	g := testkit.StartGRPC(t, func(s *grpcserver.Server) { analyticsgrpc.Register(s, svc.App) })
	defer g.Stop()
	c := analyticsv1.NewAnalyticsServiceClient(g.Conn)
	ctx := testkit.As(t, tenant, "analyst")
	out := map[string]proto.Message{}
	for _, mc := range metricCalls {
		m, err := mc.do(ctx, c)
		if err != nil {
			t.Fatalf("%s (%s): %v", mc.name, tenant, err)
		}
		out[mc.name] = m
	}
	return out
}

var textOpts = prototext.MarshalOptions{Multiline: true, Indent: "  "}

// sameAnswers compares two snapshots call by call. Event ids are left out: they differ
// between two appends of the same history.
func sameAnswers(t *testing.T, what string, want, got map[string]proto.Message) {
	t.Helper()
	for _, mc := range metricCalls {
		w, g := proto.Clone(want[mc.name]), proto.Clone(got[mc.name])
		for _, m := range []proto.Message{w, g} {
			if tl, ok := m.(*analyticsv1.GetTimelineResponse); ok {
				for _, e := range tl.Events {
					e.EventId = ""
				}
			}
		}
		if !proto.Equal(w, g) {
			t.Errorf("%s: %s differs:\n got: %s\nwant: %s", what, mc.name, textOpts.Format(g), textOpts.Format(w))
		}
	}
}

func checkAnswer(t *testing.T, name string, got, want proto.Message) {
	t.Helper()
	if !proto.Equal(got, want) {
		t.Errorf("%s:\n got: %s\nwant: %s", name, textOpts.Format(got), textOpts.Format(want))
	}
}

// --- the figures, by hand -------------------------------------------------------------------

func ts26(m time.Month, d int) *timestamppb.Timestamp { return timestamppb.New(at26(m, d, 0, 0)) }

func dd(n float64) *durationpb.Duration { return durationpb.New(days(n)) }

func money(units int64, nanos int32) *commonv1.Money { return eur(units, nanos) }

// fstep is a funnel step: count, step and overall conversion, median and p90 in days.
func fstep(name string, n int64, step, overall, med, p90 float64) *analyticsv1.FunnelStep {
	return &analyticsv1.FunnelStep{Step: name, Count: n, StepConversion: step, OverallConversion: overall,
		MedianTime: dd(med), P90Time: dd(p90)}
}

func cohort(start *timestamppb.Timestamp, key string, steps ...*analyticsv1.FunnelStep) *analyticsv1.FunnelCohort {
	return &analyticsv1.FunnelCohort{PeriodStart: start, Key: key, Steps: steps}
}

// acmeAnswers are acme's figures computed by hand. quantileExact's p at level q over n sorted
// values is the value at index ⌊q·n⌋ (0-based): p50 of 4 values is the third, p90 of 3 the
// third, p50 and p90 of 2 the second.
func acmeAnswers() map[string]proto.Message {
	// January cohort: L1..L6 (6 created); February: L7.
	//   mql  L1 1 d, L2 2 d, L3 3 d, L4 1 d → 4; sorted [1,1,2,3]: p50 [2] = 2 d, p90 [3] = 3 d
	//   sal  L1 2 d, L2 1 d, L3 4 d → 3; [1,2,4]: p50 [1] = 2 d, p90 [2] = 4 d
	//   sql  L1 3 d, L2 1 d → 2; [1,3]: p50 = p90 = [1] = 3 d
	//   conv L1 4 d, L2 2 d → 2; [2,4]: 4 d, 4 d
	//   won  L1's o1 won Feb 4, 20 d after the conversion Jan 15 → 1; 20 d
	//   step conversion 4/6, 3/4, 2/3, 2/2, 1/2; overall 4/6, 3/6, 2/6, 2/6, 1/6
	//   L6's move to disqualified is no step.
	// February: L7 created, MQL 2 d later: 1, 1 (1/1); the rest 0 (0/1, then 0/0 = 0).
	feb := cohort(ts26(2, 1), "", fstep("created", 1, 1, 1, 0, 0), fstep("mql", 1, 1, 1, 2, 2),
		fstep("sal", 0, 0, 0, 0, 0), fstep("sql", 0, 0, 0, 0, 0), fstep("converted", 0, 0, 0, 0, 0), fstep("won", 0, 0, 0, 0, 0))
	funnel := &analyticsv1.GetFunnelResponse{Cohorts: []*analyticsv1.FunnelCohort{
		cohort(ts26(1, 1), "", fstep("created", 6, 1, 1, 0, 0), fstep("mql", 4, 4.0/6, 4.0/6, 2, 3),
			fstep("sal", 3, 3.0/4, 3.0/6, 2, 4), fstep("sql", 2, 2.0/3, 2.0/6, 3, 3),
			fstep("converted", 2, 1, 2.0/6, 4, 4), fstep("won", 1, 1.0/2, 1.0/6, 20, 20)),
		feb}}
	// 9-day window: L1's conversion came 10 d after its creation (Jan 5 → 15) and so did not
	// count, nor its win (30 d); L2 converted after 6 d, L3's SAL after 7 d. converted = 1
	// (L2, 2 d after its SQL): step 1/2, overall 1/6; won 0: step 0/1.
	windowed := &analyticsv1.GetFunnelResponse{Cohorts: []*analyticsv1.FunnelCohort{
		cohort(ts26(1, 1), "", fstep("created", 6, 1, 1, 0, 0), fstep("mql", 4, 4.0/6, 4.0/6, 2, 3),
			fstep("sal", 3, 3.0/4, 3.0/6, 2, 4), fstep("sql", 2, 2.0/3, 2.0/6, 3, 3),
			fstep("converted", 1, 1.0/2, 1.0/6, 2, 2), fstep("won", 0, 0, 0, 0, 0)),
		feb}}
	// By source, one quarter:
	//   event    L3, L4: mql 2 (3 d, 1 d → [1,3]: 3 d, 3 d), sal 1 (L3 4 d): 1/2
	//   referral L6: created 1, nothing else
	//   web_form L1, L2, L5, L7: mql 3 (1, 2, 2 d → [1,2,2]: p50 [1] = 2 d, p90 [2] = 2 d): 3/4;
	//            sal 2 ([1,2]: 2 d, 2 d): 2/3, 2/4; sql 2 ([1,3]: 3 d): 2/2, 2/4;
	//            converted 2 ([2,4]: 4 d): 1, 2/4; won 1 (20 d): 1/2, 1/4
	bySource := &analyticsv1.GetFunnelResponse{Cohorts: []*analyticsv1.FunnelCohort{
		cohort(ts26(1, 1), "event", fstep("created", 2, 1, 1, 0, 0), fstep("mql", 2, 1, 1, 3, 3),
			fstep("sal", 1, 1.0/2, 1.0/2, 4, 4), fstep("sql", 0, 0, 0, 0, 0), fstep("converted", 0, 0, 0, 0, 0),
			fstep("won", 0, 0, 0, 0, 0)),
		cohort(ts26(1, 1), "referral", fstep("created", 1, 1, 1, 0, 0), fstep("mql", 0, 0, 0, 0, 0),
			fstep("sal", 0, 0, 0, 0, 0), fstep("sql", 0, 0, 0, 0, 0), fstep("converted", 0, 0, 0, 0, 0),
			fstep("won", 0, 0, 0, 0, 0)),
		cohort(ts26(1, 1), "web_form", fstep("created", 4, 1, 1, 0, 0), fstep("mql", 3, 3.0/4, 3.0/4, 2, 2),
			fstep("sal", 2, 2.0/3, 2.0/4, 2, 2), fstep("sql", 2, 1, 2.0/4, 3, 3),
			fstep("converted", 2, 1, 2.0/4, 4, 4), fstep("won", 1, 1.0/2, 1.0/4, 20, 20)),
	}}

	// Stage metrics over Q1 (entries: creations and forward moves; exits counted by the entry
	// they close):
	//   qualify      entered o1 o2 o3 o4 = 4; left forward o1 3 d, o2 2 d, o3 2 d = 3 → 3/4;
	//                [2,2,3]: avg 7/3 d = 201,600 s, p50 [1] = 2 d, p90 [2] = 3 d
	//   proposal     entered o1 o2 o3 = 3; advanced o1 (7 d), lost o2 (10 d) → 1/3;
	//                [7,10]: avg 8.5 d, p50 = p90 = [1] = 10 d
	//   negotiation  entered o1 = 1; advanced (won) after 10 d → 1; 10 d everywhere
	// The won and lost stages are never "entered" (a close is an exit). Stage velocity is
	// advanced per day of the range: Q1 2026 has 90 days (qualify 3/90, the others 1/90).
	sm := func(id, name string, entered, advanced, lost int64, conv, avg, p50, p90, vel float64) *analyticsv1.StageMetrics {
		return &analyticsv1.StageMetrics{PipelineId: "p1", StageId: id, StageName: name, Entered: entered,
			Advanced: advanced, Lost: lost, Conversion: conv, AvgTime: dd(avg), P50Time: dd(p50), P90Time: dd(p90),
			VelocityPerDay: vel}
	}
	stages := &analyticsv1.GetStageMetricsResponse{Stages: []*analyticsv1.StageMetrics{
		sm("negotiation", "Negotiation", 1, 1, 0, 1, 10, 10, 10, 1.0/90),
		sm("proposal", "Proposal", 3, 1, 1, 1.0/3, 8.5, 10, 10, 1.0/90),
		sm("qualify", "Qualify", 4, 3, 0, 3.0/4, 7.0/3, 2, 3, 3.0/90),
	}}
	stages.Stages[2].AvgTime = durationpb.New(201600 * time.Second) // 7/3 d, exactly
	// Jan 1-20: entries before Jan 20 are qualify o2 (Jan 12), o1 (Jan 15) and proposal o2
	// (Jan 14), o1 (Jan 18); o3 entered qualify on Jan 20 itself (out) and negotiation was
	// entered Jan 25. Exits go with those entries even when they came later: qualify o2 2 d,
	// o1 3 d → 2/2, avg 2.5 d, [2,3]: 3 d, 3 d; proposal o2 lost 10 d, o1 advanced 7 d → 1/2.
	// The range has 19 days: velocity 1/19 and 2/19.
	early := &analyticsv1.GetStageMetricsResponse{Stages: []*analyticsv1.StageMetrics{
		sm("proposal", "Proposal", 2, 1, 1, 1.0/2, 8.5, 10, 10, 1.0/19),
		sm("qualify", "Qualify", 2, 2, 0, 1, 2.5, 3, 3, 2.0/19),
	}}

	// Sales velocity. Closed in Q1: o2 lost Jan 24, o1 won Feb 4 (12,000, cycle 20 d).
	//   January: won 0, lost 1 → win rate 0, deal size 0, cycle 0, velocity 0; open at the end
	//            of January: o1 (closed later), o3, o4 = 3 (o2 closed before)
	//   February: won 1 → win rate 1, deal 12,000, cycle 20; open at the end: o3, o4 = 2;
	//            velocity 2 × 1 × 12,000 / 20 = 1,200 per day
	//   Q1: won 1, lost 1 → 0.5; open at Apr 1: o3, o4 = 2; 2 × 0.5 × 12,000 / 20 = 600
	//   Q1 by owner: u1 won o1 → 1, 12,000, 20 d; open u1: o3 = 1 → 1 × 1 × 12,000 / 20 = 600;
	//                u2 lost o2 → 0; open u2: o4 = 1; velocity 0
	vrow := func(start *timestamppb.Timestamp, key string, open, won, lost int64, rate float64, deal int64, cycle float64, vel int64) *analyticsv1.VelocityRow {
		return &analyticsv1.VelocityRow{PeriodStart: start, Key: key, OpenOpportunities: open, Won: won, Lost: lost,
			WinRate: rate, AverageDealSize: money(deal, 0), SalesCycleDays: cycle, VelocityPerDay: money(vel, 0)}
	}
	velMonth := &analyticsv1.GetSalesVelocityResponse{Rows: []*analyticsv1.VelocityRow{
		vrow(ts26(1, 1), "", 3, 0, 1, 0, 0, 0, 0),
		vrow(ts26(2, 1), "", 2, 1, 0, 1, 12000, 20, 1200),
	}}
	velQuarter := &analyticsv1.GetSalesVelocityResponse{Rows: []*analyticsv1.VelocityRow{
		vrow(ts26(1, 1), "", 2, 1, 1, 0.5, 12000, 20, 600),
	}}
	velOwner := &analyticsv1.GetSalesVelocityResponse{Rows: []*analyticsv1.VelocityRow{
		vrow(ts26(1, 1), "u1", 1, 1, 0, 1, 12000, 20, 600),
		vrow(ts26(1, 1), "u2", 1, 0, 1, 0, 0, 0, 0),
	}}

	// Forecast. Open: o4 2,000 at 10 % closing Feb 27 → weighted 200; o3 8,000 at 50 % closing
	// Mar 13 → 4,000. Won: o1 12,000 closed Feb 4. o2 (lost) is out.
	frow := func(start *timestamppb.Timestamp, key string, open, openAmt, weighted, won int64) *analyticsv1.ForecastRow {
		return &analyticsv1.ForecastRow{PeriodStart: start, Key: key, OpenOpportunities: open,
			OpenAmount: money(openAmt, 0), WeightedAmount: money(weighted, 0), ClosedWon: money(won, 0)}
	}
	fcMonth := &analyticsv1.GetForecastResponse{Rows: []*analyticsv1.ForecastRow{
		frow(ts26(2, 1), "", 1, 2000, 200, 12000),
		frow(ts26(3, 1), "", 1, 8000, 4000, 0),
	}}
	fcCategory := &analyticsv1.GetForecastResponse{Rows: []*analyticsv1.ForecastRow{
		frow(ts26(1, 1), "best_case", 1, 8000, 4000, 0),
		frow(ts26(1, 1), "closed", 0, 0, 0, 12000),
		frow(ts26(1, 1), "pipeline", 1, 2000, 200, 0),
	}}

	// Campaigns.
	//   c1: members L1 L2 L3 L5 = 4; sent 4, opened 3 (L1 L2 L3), clicked 2 (L1 L2), responded
	//       2 (L1 L2), converted 1 (L1): rates 3/4, 2/4, 2/4, 1/4. Cost 1,500 + 500 = 2,000.
	//       Leads with source campaign c1 created in Q1: L1 L2 L4 = 3 → 2,000 / 3 =
	//       666.666667 per lead (rounded to the micro). Opportunities of c1: o1 o2 → 1,000 each.
	//       Influenced: o1 (L1 a member since Jan 7, before Jan 15) 12,000 and o2 (L2, Jan 7 <
	//       Jan 12) 5,000 = 17,000; won 12,000; ROI (12,000 − 2,000) / 2,000 = 5.
	//       o1's touches before Jan 15 09:00: c1 Jan 7 (joined), 8, 8, 9; c2 Jan 10 (joined),
	//       Jan 12 (attended): first touch c1, last touch c2. L1's "converted" response (Jan 15
	//       10:00) came after o1's creation and is no touch.
	//   c2: member L1 = 1; nothing sent, responded 1 (attended): response rate 1/1. No cost:
	//       cost 0, ROI 0. No lead or opportunity of its own. Influenced o1: 12,000 pipeline
	//       and won; last touch of o1: 12,000.
	campaigns := &analyticsv1.GetCampaignPerformanceResponse{Campaigns: []*analyticsv1.CampaignPerformance{
		{CampaignId: "c1", Name: "Winter Launch", Channel: "email", Members: 4, Sent: 4, Opened: 3, Clicked: 2,
			Responded: 2, Converted: 1, OpenRate: 3.0 / 4, ClickRate: 2.0 / 4, ResponseRate: 2.0 / 4, ConversionRate: 1.0 / 4,
			Cost: money(2000, 0), Leads: 3, CostPerLead: money(666, 666_667_000), Opportunities: 2,
			CostPerOpportunity: money(1000, 0), InfluencedPipeline: money(17000, 0), InfluencedWon: money(12000, 0),
			Roi: 5, FirstTouchWon: money(12000, 0), LastTouchWon: money(0, 0)},
		{CampaignId: "c2", Name: "Product Webinar", Channel: "webinar", Members: 1, Responded: 1, ResponseRate: 1,
			Cost: money(0, 0), CostPerLead: money(0, 0), CostPerOpportunity: money(0, 0),
			InfluencedPipeline: money(12000, 0), InfluencedWon: money(12000, 0), FirstTouchWon: money(0, 0),
			LastTouchWon: money(12000, 0)},
	}}

	return map[string]proto.Message{
		"funnel by month": funnel, "funnel by month, 9-day window": windowed, "funnel by quarter and source": bySource,
		"stage metrics Q1": stages, "stage metrics Jan 1-20": early,
		"sales velocity by month": velMonth, "sales velocity by quarter": velQuarter,
		"sales velocity by quarter and owner": velOwner,
		"forecast by month":                   fcMonth, "forecast by quarter and category": fcCategory,
		"campaign performance Q1": campaigns,
	}
}

// acmeTimeline is account a1's 360° view, newest first: the events of a1, of its contact k1,
// of the lead L1 converted into it (its win recorded by the leads service an hour after o1's),
// of its opportunity o1 and of L1's memberships m1 (c1) and m5 (c2): 7 + 1 + 1 + 6 + 5 + 2 = 22,
// pages of 8, 8 and 6. Ties on time go to the higher
// stream name, then the later sequence (CRM_PIPELINE > CRM_LEADS > CRM_CAMPAIGN).
var acmeTimeline = []string{
	"02-04 10:00 CRM_LEADS lead/l1 LeadOpportunityWon",
	"02-04 09:00 CRM_PIPELINE opportunity/o1 OpportunityWon",
	"02-04 09:00 CRM_PIPELINE opportunity/o1 OpportunityStageChanged",
	"01-25 09:00 CRM_PIPELINE opportunity/o1 OpportunityStageChanged",
	"01-18 09:00 CRM_PIPELINE opportunity/o1 OpportunityStageChanged",
	"01-16 09:00 CRM_PIPELINE opportunity/o1 OpportunityAmountChanged",
	"01-15 10:00 CRM_CAMPAIGN member/m1 CampaignMemberResponded",
	"01-15 09:00 CRM_PIPELINE opportunity/o1 OpportunityCreated",
	"01-15 09:00 CRM_LEADS contact/k1 ContactCreated",
	"01-15 09:00 CRM_LEADS account/a1 AccountCreated",
	"01-15 09:00 CRM_LEADS lead/l1 LeadConverted",
	"01-15 09:00 CRM_LEADS lead/l1 LeadStatusChanged",
	"01-12 09:00 CRM_CAMPAIGN member/m5 CampaignMemberResponded",
	"01-11 09:00 CRM_LEADS lead/l1 LeadStatusChanged",
	"01-10 10:00 CRM_CAMPAIGN member/m5 CampaignMemberAdded",
	"01-09 09:00 CRM_CAMPAIGN member/m1 CampaignMemberResponded",
	"01-08 12:00 CRM_CAMPAIGN member/m1 CampaignMemberResponded",
	"01-08 09:00 CRM_LEADS lead/l1 LeadStatusChanged",
	"01-08 09:00 CRM_CAMPAIGN member/m1 CampaignMemberResponded",
	"01-07 10:00 CRM_CAMPAIGN member/m1 CampaignMemberAdded",
	"01-06 09:00 CRM_LEADS lead/l1 LeadStatusChanged",
	"01-05 09:00 CRM_LEADS lead/l1 LeadCreated",
}

func checkTimeline(t *testing.T, m proto.Message) {
	t.Helper()
	tl := m.(*analyticsv1.GetTimelineResponse)
	if tl.NextPageToken != "pages 8,8,6" {
		t.Errorf("timeline %s, want pages 8,8,6", tl.NextPageToken)
	}
	var got []string
	ids := map[string]bool{}
	for _, e := range tl.Events {
		got = append(got, fmt.Sprintf("%s %s %s/%s %s", e.GetAt().AsTime().Format("01-02 15:04"), e.GetStream(),
			e.GetAggregateType(), e.GetAggregateId(), e.GetEventType()))
		if e.GetEventId() == "" || ids[e.GetEventId()] || e.GetPayloadJson() == "" || e.GetSequence() == 0 {
			t.Errorf("timeline event %v: want a unique event id, a sequence and a payload", e)
		}
		ids[e.GetEventId()] = true
	}
	equalLines(t, "timeline of a1", got, acmeTimeline)
}

// checkAcme compares a snapshot of acme's answers with the hand-computed figures.
func checkAcme(t *testing.T, got map[string]proto.Message) {
	t.Helper()
	want := acmeAnswers()
	for _, mc := range metricCalls {
		if w, ok := want[mc.name]; ok {
			checkAnswer(t, mc.name, got[mc.name], w)
		}
	}
	checkTimeline(t, got["timeline of a1"])
}

// checkGlobex checks a few of globex's figures: its own history, none of acme's.
func checkGlobex(t *testing.T, got map[string]proto.Message) {
	t.Helper()
	// L1 created Jan 10, MQL Jan 11 (1 d), then converted Jan 12: SAL and SQL are reached by
	// the skip at Jan 12 (1 d after MQL, then 0), converted 0 d after SQL; o1 won Jan 20, 8 d
	// after the conversion.
	checkAnswer(t, "globex funnel", got["funnel by month"], &analyticsv1.GetFunnelResponse{Cohorts: []*analyticsv1.FunnelCohort{
		cohort(ts26(1, 1), "", fstep("created", 1, 1, 1, 0, 0), fstep("mql", 1, 1, 1, 1, 1), fstep("sal", 1, 1, 1, 1, 1),
			fstep("sql", 1, 1, 1, 0, 0), fstep("converted", 1, 1, 1, 0, 0), fstep("won", 1, 1, 1, 8, 8))}})
	// o1 won at 99,000 after 8 days; nothing open, so no velocity.
	checkAnswer(t, "globex velocity", got["sales velocity by quarter"], &analyticsv1.GetSalesVelocityResponse{Rows: []*analyticsv1.VelocityRow{
		{PeriodStart: ts26(1, 1), Won: 1, WinRate: 1, AverageDealSize: money(99000, 0), SalesCycleDays: 8,
			VelocityPerDay: money(0, 0)}}})
	// c1: one member, sent and clicked, cost 777; one lead, one opportunity; o1 influenced
	// (L1 joined Jan 10 10:00, before Jan 12): ROI (99,000 − 777) / 777.
	cp := got["campaign performance Q1"].(*analyticsv1.GetCampaignPerformanceResponse)
	if len(cp.Campaigns) != 1 || cp.Campaigns[0].GetMembers() != 1 || cp.Campaigns[0].GetSent() != 1 ||
		cp.Campaigns[0].GetCost().GetUnits() != 777 || cp.Campaigns[0].GetInfluencedWon().GetUnits() != 99000 ||
		cp.Campaigns[0].GetRoi() != (99000.0-777)/777 {
		t.Errorf("globex campaigns: %s", textOpts.Format(cp))
	}
	// a1's view: L1 (4 events and its win), a1, k1, o1 (3), m1 (3) = 13, pages of 8 and 5.
	if tl := got["timeline of a1"].(*analyticsv1.GetTimelineResponse); len(tl.Events) != 13 || tl.NextPageToken != "pages 8,5" {
		t.Errorf("globex timeline: %d events, %s", len(tl.Events), tl.NextPageToken)
	}
}

// startReplica builds a service over env's NATS and database and runs its projector. Its
// metrics count the events it projected; its warnings (batches refused, events applied over a
// gap) go to stderr, which go test shows when the test fails.
func (e *env) startReplica() (*service.Service, func(), *projection.Metrics) {
	e.t.Helper()
	m := projection.NewMetrics()
	svc, err := service.New(e.t.Context(), e.nc, service.Options{
		ClickHouse: service.ClickHouseOptions{Addr: e.ch.Addr(), Database: e.db, User: "default"},
		// Small batches, so that both replicas get a share of the history.
		BatchSize: 5, BatchWait: 20 * time.Millisecond, Backoff: []time.Duration{50 * time.Millisecond},
		Metrics: m, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
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
	return svc, stop, m
}

func TestMetricsEndToEnd(t *testing.T) {
	t.Parallel()
	ch := testkit.SharedClickHouse(t)
	e := newEnv(t, ch)
	e.salesHistory()
	e.otherTenantHistory()
	svc, stop := e.start()
	waitProjected(t, svc.App)
	acme, globex := snapshot(t, svc, tenantA), snapshot(t, svc, tenantB)
	checkAcme(t, acme)
	checkGlobex(t, globex)

	t.Run("replay", func(t *testing.T) {
		// The consumers are deleted: a new service projects every stream again from the start
		// into the tables that hold it all already. No answer may change.
		stop()
		if err := projector.DeleteConsumers(t.Context(), e.js, projector.DefaultName); err != nil {
			t.Fatal(err)
		}
		svc, stop := e.start()
		defer stop()
		waitProjected(t, svc.App)
		sameAnswers(t, "after the replay", acme, snapshot(t, svc, tenantA))
		sameAnswers(t, "after the replay (globex)", globex, snapshot(t, svc, tenantB))
	})

	t.Run("two replicas", func(t *testing.T) {
		// The same history appended again, into fresh streams and tables, while two replicas
		// share the consumers: events of one aggregate land on both replicas, out of order.
		e2 := newEnv(t, ch)
		a, stopA, ma := e2.startReplica()
		b, stopB, mb := e2.startReplica()
		defer stopA()
		defer stopB()
		e2.salesHistory()
		e2.otherTenantHistory()
		waitProjected(t, a.App)
		na, nb := testkit.Processed(t, ma, "", ""), testkit.Processed(t, mb, "", "")
		t.Logf("replica A projected %v events, replica B %v (history: %d)", na, nb, e2.n)
		if na == 0 || nb == 0 {
			t.Errorf("one replica did all the work: %v and %v events", na, nb)
		}
		sameAnswers(t, "two replicas (A)", acme, snapshot(t, a, tenantA))
		sameAnswers(t, "two replicas (B)", acme, snapshot(t, b, tenantA))
		sameAnswers(t, "two replicas (globex)", globex, snapshot(t, a, tenantB))
	})
}
