package dashboard_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/evcrm/evcrm/libs/eventstore"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

// The scripted history the browser test shows: tenant acme's history of the analytics
// service's end-to-end metric test (internal/service/metrics_e2e_test.go, whose hand-computed
// answers the figures below come from), appended to JetStream the way the leads, pipeline
// and campaign services append it. 2026, UTC, 09:00 unless said otherwise:
//
//	leads   L1 Jan 5  web_form c1 u1: MQL Jan 6, SAL Jan 8, SQL Jan 11, converted Jan 15 (o1)
//	        L2 Jan 6  web_form c1 u2: MQL Jan 8, SAL Jan 9, SQL Jan 10, converted Jan 12 (o2)
//	        L3 Jan 7  event       u1: MQL Jan 10, SAL Jan 14
//	        L4 Jan 12 event    c1 u2: MQL Jan 13
//	        L5 Jan 20 web_form    u1: nothing;  L6 Jan 25 referral u2: disqualified Jan 27
//	        L7 Feb 3  web_form    u1: MQL Feb 5
//	opps    (pipeline p1: Qualify 10 % → Proposal 50 % → Negotiation 80 % → won / lost)
//	        o1 (L1, u1) Jan 15 10,000 → 12,000 EUR; Proposal Jan 18, Negotiation Jan 25, won Feb 4
//	        o2 (L2, u2) Jan 12 5,000; Proposal Jan 14, lost Jan 24
//	        o3 (u1) Jan 20 8,000, close Mar 13; Proposal Jan 22, open (best case)
//	        o4 (u2) Jan 26 2,000, close Feb 27; open in Qualify
//	campaigns c1 "Winter Launch" (email), cost 2,000: members L1 L2 L3 L5, sent 4, opened 3,
//	          clicked 2, L1 converted; c2 "Product Webinar": member L1, attended

const tenant = "acme"

type history struct {
	t     *testing.T
	store *eventstore.Store
	pos   map[eventstore.Ref]eventstore.Position
	n     int
}

// appendHistory creates the streams on n and appends the history; it returns the number of
// events.
func appendHistory(t *testing.T, n *testkit.NATS) int {
	t.Helper()
	nc := n.Connect(t)
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
	h := &history{t: t, store: store, pos: map[eventstore.Ref]eventstore.Position{}}
	h.sales()
	return h.n
}

func at26(m time.Month, d, hour, min int) time.Time {
	return time.Date(2026, m, d, hour, min, 0, 0, time.UTC)
}

func ev(at time.Time, p proto.Message) eventstore.Event {
	return eventstore.Event{Payload: p, OccurredAt: at}
}

func eur(units int64) *commonv1.Money { return &commonv1.Money{CurrencyCode: "EUR", Units: units} }

func (h *history) add(typ, id string, evs ...eventstore.Event) {
	h.t.Helper()
	ref := eventstore.Ref{Tenant: tenant, Type: typ, ID: id}
	res, err := h.store.Append(h.t.Context(), ref, h.pos[ref], evs...)
	if err != nil {
		h.t.Fatalf("append to %s: %v", ref, err)
	}
	h.pos[ref] = res.Position
	h.n += len(evs)
}

type leadAttrs struct {
	source                        leadsv1.LeadSource
	campaign, owner, territory    string
	account, contact, opportunity string
}

const (
	stNew  = leadsv1.LeadStatus_LEAD_STATUS_NEW
	stMQL  = leadsv1.LeadStatus_LEAD_STATUS_MARKETING_QUALIFIED
	stSAL  = leadsv1.LeadStatus_LEAD_STATUS_SALES_ACCEPTED
	stSQL  = leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED
	stConv = leadsv1.LeadStatus_LEAD_STATUS_CONVERTED
	stDisq = leadsv1.LeadStatus_LEAD_STATUS_DISQUALIFIED
)

// lead appends a creation, then a status change per (status, time) pair; a conversion is
// followed by LeadConverted in the same append, as the leads service records it.
func (h *history) lead(id string, a leadAttrs, created time.Time, steps ...any) {
	h.t.Helper()
	h.add("lead", id, ev(created, &leadsv1.LeadCreated{Lead: &leadsv1.Lead{Id: id, Status: stNew,
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
		h.add("lead", id, evs...)
		from, since = to, when
	}
}

func (h *history) accountAndContact(account, contact, lead string, when time.Time) {
	h.t.Helper()
	h.add("account", account, ev(when, &leadsv1.AccountCreated{Account: &leadsv1.Account{Id: account, Name: "Account " + account}}))
	h.add("contact", contact, ev(when, &leadsv1.ContactCreated{Contact: &leadsv1.Contact{Id: contact,
		AccountId: account, SourceLeadId: lead, CreatedAt: timestamppb.New(when)}}))
}

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

type opp struct {
	h               *history
	id, lead, owner string
	st              stage
	since           time.Time
	units           int64
}

func (h *history) opportunity(id, lead, account, owner, campaign string, src pipelinev1.OpportunitySource,
	units int64, expectedClose string, created time.Time) *opp {
	h.t.Helper()
	h.add("opportunity", id, ev(created, &pipelinev1.OpportunityCreated{Opportunity: &pipelinev1.Opportunity{
		Id: id, Name: "Deal " + id, AccountId: account, LeadId: lead, OwnerId: owner, PipelineId: "p1",
		StageId: sQualify.id, StageName: sQualify.name, Amount: eur(units), Probability: sQualify.prob,
		ExpectedCloseDate: expectedClose, ForecastCategory: sQualify.cat, Source: src, PrimaryCampaignId: campaign,
		Status: pipelinev1.OpportunityStatus_OPPORTUNITY_STATUS_OPEN, CreatedAt: timestamppb.New(created)}}))
	return &opp{h: h, id: id, lead: lead, owner: owner, st: sQualify, since: created, units: units}
}

func (o *opp) move(to stage, when time.Time, extra ...eventstore.Event) {
	o.h.t.Helper()
	sc := &pipelinev1.OpportunityStageChanged{PipelineId: "p1", FromStageId: o.st.id, FromStageName: o.st.name,
		ToStageId: to.id, ToStageName: to.name, ToForecastCategory: to.cat, Probability: to.prob,
		Amount: eur(o.units), TimeInPreviousStage: durationpb.New(when.Sub(o.since)), OwnerId: o.owner,
		Direction: pipelinev1.StageChangeDirection_STAGE_CHANGE_DIRECTION_FORWARD}
	o.h.add("opportunity", o.id, append([]eventstore.Event{ev(when, sc)}, extra...)...)
	o.st, o.since = to, when
}

func (o *opp) win(when time.Time, days uint32) {
	o.h.t.Helper()
	from, in := o.st.id, when.Sub(o.since)
	o.move(sWon, when, ev(when, &pipelinev1.OpportunityWon{Amount: eur(o.units), CloseDate: when.Format(time.DateOnly),
		FromStageId: from, TimeInPreviousStage: durationpb.New(in), DaysOpen: days,
		Deal: &pipelinev1.Deal{PipelineId: "p1", OwnerId: o.owner, LeadId: o.lead}}))
	if o.lead != "" {
		// What the leads service records on the lead when the opportunity it converted into wins.
		o.h.add("lead", o.lead, ev(when.Add(time.Hour), &leadsv1.LeadOpportunityWon{OpportunityId: o.id,
			WonAt: timestamppb.New(when), Amount: eur(o.units), CloseDate: when.Format(time.DateOnly)}))
	}
}

func (o *opp) lose(when time.Time, days uint32) {
	o.h.t.Helper()
	from, in := o.st.id, when.Sub(o.since)
	o.move(sLost, when, ev(when, &pipelinev1.OpportunityLost{Reason: pipelinev1.LostReason_LOST_REASON_PRICE,
		CloseDate: when.Format(time.DateOnly), FromStageId: from, TimeInPreviousStage: durationpb.New(in),
		Amount: eur(o.units), DaysOpen: days}))
}

func (h *history) campaign(id, name string, ch campaignv1.CampaignChannel, created time.Time) {
	h.t.Helper()
	h.add("campaign", id, ev(created, &campaignv1.CampaignCreated{Campaign: &campaignv1.Campaign{Id: id,
		Name: name, Channel: ch, Status: campaignv1.CampaignStatus_CAMPAIGN_STATUS_ACTIVE, StartDate: "2026-01-01",
		EndDate: "2026-03-31", Budget: eur(5000), OwnerId: "u9", CreatedAt: timestamppb.New(created)}}))
}

func (h *history) cost(campaign string, ch campaignv1.CampaignChannel, units, total int64, when time.Time) {
	h.t.Helper()
	h.add("campaign", campaign, ev(when, &campaignv1.CampaignCostRecorded{Entry: &campaignv1.CostEntry{
		Amount: eur(units), Date: when.Format(time.DateOnly)}, ActualCost: eur(total), Channel: ch}))
}

// member appends a lead's membership and its responses (status, kind, responded, at).
func (h *history) member(id, campaign, lead string, ch campaignv1.CampaignChannel, added time.Time, responses ...any) {
	h.t.Helper()
	lt := campaignv1.MemberType_MEMBER_TYPE_LEAD
	h.add("member", id, ev(added, &campaignv1.CampaignMemberAdded{Member: &campaignv1.Member{Id: id,
		CampaignId: campaign, Type: lt, PersonId: lead, AddedAt: timestamppb.New(added), AddedBy: "manual"}, Channel: ch}))
	first := true
	for i := 0; i < len(responses); i += 4 {
		status, kind := responses[i].(string), responses[i+1].(campaignv1.ResponseKind)
		responded, when := responses[i+2].(bool), responses[i+3].(time.Time)
		h.add("member", id, ev(when, &campaignv1.CampaignMemberResponded{CampaignId: campaign, MemberType: lt,
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

func (h *history) sales() {
	h.t.Helper()
	web, evt, ref := leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM, leadsv1.LeadSource_LEAD_SOURCE_EVENT, leadsv1.LeadSource_LEAD_SOURCE_REFERRAL

	h.campaign("c1", "Winter Launch", chEmail, at26(1, 2, 9, 0))
	h.cost("c1", chEmail, 1500, 1500, at26(1, 3, 9, 0))
	h.campaign("c2", "Product Webinar", chWebinar, at26(1, 9, 9, 0))

	h.lead("l1", leadAttrs{web, "c1", "u1", "emea", "a1", "k1", "o1"}, at26(1, 5, 9, 0),
		stMQL, at26(1, 6, 9, 0), stSAL, at26(1, 8, 9, 0), stSQL, at26(1, 11, 9, 0), stConv, at26(1, 15, 9, 0))
	h.accountAndContact("a1", "k1", "l1", at26(1, 15, 9, 0))
	h.lead("l2", leadAttrs{web, "c1", "u2", "emea", "a2", "k2", "o2"}, at26(1, 6, 9, 0),
		stMQL, at26(1, 8, 9, 0), stSAL, at26(1, 9, 9, 0), stSQL, at26(1, 10, 9, 0), stConv, at26(1, 12, 9, 0))
	h.accountAndContact("a2", "k2", "l2", at26(1, 12, 9, 0))
	h.lead("l3", leadAttrs{source: evt, owner: "u1", territory: "na"}, at26(1, 7, 9, 0),
		stMQL, at26(1, 10, 9, 0), stSAL, at26(1, 14, 9, 0))
	h.lead("l4", leadAttrs{source: evt, campaign: "c1", owner: "u2", territory: "na"}, at26(1, 12, 9, 0),
		stMQL, at26(1, 13, 9, 0))
	h.lead("l5", leadAttrs{source: web, owner: "u1", territory: "emea"}, at26(1, 20, 9, 0))
	h.lead("l6", leadAttrs{source: ref, owner: "u2", territory: "na"}, at26(1, 25, 9, 0), stDisq, at26(1, 27, 9, 0))
	h.lead("l7", leadAttrs{source: web, owner: "u1", territory: "emea"}, at26(2, 3, 9, 0), stMQL, at26(2, 5, 9, 0))

	o1 := h.opportunity("o1", "l1", "a1", "u1", "c1", srcWeb, 10000, "2026-02-27", at26(1, 15, 9, 0))
	h.add("opportunity", "o1", ev(at26(1, 16, 9, 0), &pipelinev1.OpportunityAmountChanged{
		PreviousAmount: eur(10000), Amount: eur(12000)}))
	o1.units = 12000
	o1.move(sProposal, at26(1, 18, 9, 0))
	o1.move(sNegotiation, at26(1, 25, 9, 0))
	o1.win(at26(2, 4, 9, 0), 20)
	o2 := h.opportunity("o2", "l2", "a2", "u2", "c1", srcWeb, 5000, "2026-02-20", at26(1, 12, 9, 0))
	o2.move(sProposal, at26(1, 14, 9, 0))
	o2.lose(at26(1, 24, 9, 0), 12)
	o3 := h.opportunity("o3", "", "a3", "u1", "", srcEvent, 8000, "2026-03-13", at26(1, 20, 9, 0))
	o3.move(sProposal, at26(1, 22, 9, 0))
	h.opportunity("o4", "", "a4", "u2", "", srcEvent, 2000, "2026-02-27", at26(1, 26, 9, 0))

	h.member("m1", "c1", "l1", chEmail, at26(1, 7, 10, 0),
		"sent", kSent, false, at26(1, 8, 9, 0), "opened", kOpened, false, at26(1, 8, 12, 0),
		"clicked", kClicked, true, at26(1, 9, 9, 0), "converted", kConverted, true, at26(1, 15, 10, 0))
	h.member("m2", "c1", "l2", chEmail, at26(1, 7, 10, 0),
		"sent", kSent, false, at26(1, 8, 9, 0), "opened", kOpened, false, at26(1, 9, 10, 0),
		"clicked", kClicked, true, at26(1, 9, 11, 0))
	h.member("m3", "c1", "l3", chEmail, at26(1, 7, 10, 0),
		"sent", kSent, false, at26(1, 8, 9, 0), "opened", kOpened, false, at26(1, 10, 9, 0))
	h.member("m4", "c1", "l5", chEmail, at26(1, 21, 10, 0), "sent", kSent, false, at26(1, 22, 9, 0))
	h.member("m5", "c2", "l1", chWebinar, at26(1, 10, 10, 0), "attended", kOther, true, at26(1, 12, 9, 0))
	h.cost("c1", chEmail, 500, 2000, at26(1, 20, 9, 0))
}
