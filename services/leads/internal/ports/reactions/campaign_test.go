package reactions_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/evcrm/evcrm/libs/apperr"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/services/leads/internal/app"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
	"github.com/evcrm/evcrm/services/leads/internal/ports/reactions"
)

func TestEffectOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind campaignv1.ResponseKind
		want reactions.ResponseEffect
	}{
		{campaignv1.ResponseKind_RESPONSE_KIND_OPENED, reactions.ResponseEffect{Signal: scoring.SignalEmailOpened}},
		{campaignv1.ResponseKind_RESPONSE_KIND_CLICKED, reactions.ResponseEffect{Signal: scoring.SignalEmailClicked}},
		{campaignv1.ResponseKind_RESPONSE_KIND_RESPONDED, reactions.ResponseEffect{Signal: scoring.SignalCampaignResponded}},
		{campaignv1.ResponseKind_RESPONSE_KIND_CONVERTED, reactions.ResponseEffect{Signal: scoring.SignalCampaignResponded}},
		{campaignv1.ResponseKind_RESPONSE_KIND_UNSUBSCRIBED, reactions.ResponseEffect{Signal: scoring.SignalUnsubscribed, OptOut: true}},
		{campaignv1.ResponseKind_RESPONSE_KIND_SENT, reactions.ResponseEffect{}},
		{campaignv1.ResponseKind_RESPONSE_KIND_BOUNCED, reactions.ResponseEffect{}},
		{campaignv1.ResponseKind_RESPONSE_KIND_OTHER, reactions.ResponseEffect{}},
		{campaignv1.ResponseKind_RESPONSE_KIND_UNSPECIFIED, reactions.ResponseEffect{}},
	}
	for _, tc := range tests {
		t.Run(tc.kind.String(), func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, reactions.EffectOf(tc.kind))
		})
	}
	assert.Equal(t, "campaign-response:evt-1:engagement", reactions.CampaignResponseKey("evt-1", "engagement"))
}

// call is one command the fake app received.
type call struct {
	Cmd, ID, Key string
	Signal       scoring.Signal
	At           time.Time
	CampaignID   string
}

// fakeApp records commands and answers with the configured errors and read-model leads. The
// end-to-end tests in internal/service run the reaction against the real app; this one pins
// the routing of refusals, which needs leads in states that take many steps to reach.
type fakeApp struct {
	mu        sync.Mutex
	calls     []call
	leadErr   map[string]error
	contactOK map[string]bool
	view      map[string]lead.Lead
}

func (f *fakeApp) RecordEngagement(_ context.Context, _, id string, sig lead.Signal, w app.Write) (app.LeadResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{Cmd: "RecordEngagement", ID: id, Key: w.IdempotencyKey, Signal: sig.Signal, At: sig.OccurredAt, CampaignID: sig.CampaignID})
	return app.LeadResult{}, f.leadErr[id]
}

func (f *fakeApp) UpdateLead(_ context.Context, _, id string, cmd lead.Update, w app.Write) (app.LeadResult, error) {
	if fmt.Sprint(cmd.Paths) != "[email_opt_out]" || !cmd.Details.EmailOptOut {
		return app.LeadResult{}, errors.New("unexpected update")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{Cmd: "UpdateLead", ID: id, Key: w.IdempotencyKey})
	return app.LeadResult{}, f.leadErr[id]
}

func (f *fakeApp) UpdateContact(_ context.Context, _, id string, cmd contact.Update, w app.Write) (app.ContactResult, error) {
	if fmt.Sprint(cmd.Paths) != "[email_opt_out]" || !cmd.Details.EmailOptOut {
		return app.ContactResult{}, errors.New("unexpected update")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{Cmd: "UpdateContact", ID: id, Key: w.IdempotencyKey})
	if !f.contactOK[id] {
		return app.ContactResult{}, apperr.NotFoundf("contact", id)
	}
	return app.ContactResult{}, nil
}

func (f *fakeApp) GetLead(_ context.Context, _, id string, _ app.Read) (lead.Lead, error) {
	l, ok := f.view[id]
	if !ok {
		return lead.Lead{}, apperr.NotFoundf("lead", id)
	}
	return l, nil
}

var (
	responseAt = time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	storedAt   = responseAt.Add(time.Second)
)

func responded(t *testing.T, typ campaignv1.MemberType, person string, kind campaignv1.ResponseKind) projection.Event {
	t.Helper()
	payload, err := proto.Marshal(&campaignv1.CampaignMemberResponded{CampaignId: "camp-1", MemberType: typ,
		PersonId: person, Status: "x", Kind: kind, OccurredAt: timestamppb.New(responseAt)})
	require.NoError(t, err)
	return projection.Event{Stream: "CRM_CAMPAIGN", Sequence: 7, Stored: storedAt, Envelope: &eventsv1.Envelope{
		EventId: "evt-1", TenantId: "acme", AggregateType: "member", AggregateId: "m-1", AggregateVersion: 2,
		EventType: "crm.campaign.v1.CampaignMemberResponded", Payload: payload, OccurredAt: timestamppb.New(responseAt)}}
}

func precondition(reason string) error { return apperr.Precondition(reason, "refused") }

func TestCampaignResponsesRouting(t *testing.T) {
	t.Parallel()
	lead1, contact1 := campaignv1.MemberType_MEMBER_TYPE_LEAD, campaignv1.MemberType_MEMBER_TYPE_CONTACT
	unsub := campaignv1.ResponseKind_RESPONSE_KIND_UNSUBSCRIBED
	tests := []struct {
		name       string
		evt        func(t *testing.T) projection.Event
		app        *fakeApp
		want       []call
		wantErr    bool
		wantPoison bool
	}{
		{
			name: "click on a lead",
			evt: func(t *testing.T) projection.Event {
				return responded(t, lead1, "l1", campaignv1.ResponseKind_RESPONSE_KIND_CLICKED)
			},
			want: []call{{Cmd: "RecordEngagement", ID: "l1", Key: "campaign-response:evt-1:engagement",
				Signal: scoring.SignalEmailClicked, At: responseAt, CampaignID: "camp-1"}},
		},
		{
			name: "a send does nothing",
			evt: func(t *testing.T) projection.Event {
				return responded(t, lead1, "l1", campaignv1.ResponseKind_RESPONSE_KIND_SENT)
			},
		},
		{
			name: "unsubscribe: negative engagement and opt-out",
			evt:  func(t *testing.T) projection.Event { return responded(t, lead1, "l1", unsub) },
			want: []call{
				{Cmd: "RecordEngagement", ID: "l1", Key: "campaign-response:evt-1:engagement", Signal: scoring.SignalUnsubscribed, At: responseAt, CampaignID: "camp-1"},
				{Cmd: "UpdateLead", ID: "l1", Key: "campaign-response:evt-1:optout:lead:l1"},
			},
		},
		{
			name: "unsubscribe of a converted lead reaches its contact",
			evt:  func(t *testing.T) projection.Event { return responded(t, lead1, "l1", unsub) },
			app: &fakeApp{leadErr: map[string]error{"l1": precondition(lead.ReasonConverted)},
				view:      map[string]lead.Lead{"l1": {ID: "l1", Converted: lead.ConvertedRecords{ContactID: "c1"}}},
				contactOK: map[string]bool{"c1": true}},
			want: []call{
				{Cmd: "RecordEngagement", ID: "l1", Key: "campaign-response:evt-1:engagement", Signal: scoring.SignalUnsubscribed, At: responseAt, CampaignID: "camp-1"},
				{Cmd: "UpdateLead", ID: "l1", Key: "campaign-response:evt-1:optout:lead:l1"},
				{Cmd: "UpdateContact", ID: "c1", Key: "campaign-response:evt-1:optout:contact:c1"},
			},
		},
		{
			name: "unsubscribe of a merged lead reaches the survivor",
			evt:  func(t *testing.T) projection.Event { return responded(t, lead1, "l1", unsub) },
			app: &fakeApp{leadErr: map[string]error{"l1": precondition(lead.ReasonMerged)},
				view: map[string]lead.Lead{"l1": {ID: "l1", MergedIntoID: "l2"}}},
			want: []call{
				{Cmd: "RecordEngagement", ID: "l1", Key: "campaign-response:evt-1:engagement", Signal: scoring.SignalUnsubscribed, At: responseAt, CampaignID: "camp-1"},
				{Cmd: "UpdateLead", ID: "l1", Key: "campaign-response:evt-1:optout:lead:l1"},
				{Cmd: "UpdateLead", ID: "l2", Key: "campaign-response:evt-1:optout:lead:l2"},
			},
		},
		{
			name: "refused but the read model is behind: retry",
			evt:  func(t *testing.T) projection.Event { return responded(t, lead1, "l1", unsub) },
			app: &fakeApp{leadErr: map[string]error{"l1": precondition(lead.ReasonConverted)},
				view: map[string]lead.Lead{"l1": {ID: "l1"}}},
			want: []call{
				{Cmd: "RecordEngagement", ID: "l1", Key: "campaign-response:evt-1:engagement", Signal: scoring.SignalUnsubscribed, At: responseAt, CampaignID: "camp-1"},
				{Cmd: "UpdateLead", ID: "l1", Key: "campaign-response:evt-1:optout:lead:l1"},
			},
			wantErr: true,
		},
		{
			name: "missing lead is skipped",
			evt:  func(t *testing.T) projection.Event { return responded(t, lead1, "ghost", unsub) },
			app:  &fakeApp{leadErr: map[string]error{"ghost": apperr.NotFoundf("lead", "ghost")}},
			want: []call{
				{Cmd: "RecordEngagement", ID: "ghost", Key: "campaign-response:evt-1:engagement", Signal: scoring.SignalUnsubscribed, At: responseAt, CampaignID: "camp-1"},
				{Cmd: "UpdateLead", ID: "ghost", Key: "campaign-response:evt-1:optout:lead:ghost"},
			},
		},
		{
			name: "a store failure is retried",
			evt: func(t *testing.T) projection.Event {
				return responded(t, lead1, "l1", campaignv1.ResponseKind_RESPONSE_KIND_OPENED)
			},
			app: &fakeApp{leadErr: map[string]error{"l1": errors.New("nats: timeout")}},
			want: []call{{Cmd: "RecordEngagement", ID: "l1", Key: "campaign-response:evt-1:engagement",
				Signal: scoring.SignalEmailOpened, At: responseAt, CampaignID: "camp-1"}},
			wantErr: true,
		},
		{
			name: "contact: opt-out only",
			evt:  func(t *testing.T) projection.Event { return responded(t, contact1, "c1", unsub) },
			app:  &fakeApp{contactOK: map[string]bool{"c1": true}},
			want: []call{{Cmd: "UpdateContact", ID: "c1", Key: "campaign-response:evt-1:optout:contact:c1"}},
		},
		{
			name: "contact click: nothing",
			evt: func(t *testing.T) projection.Event {
				return responded(t, contact1, "c1", campaignv1.ResponseKind_RESPONSE_KIND_CLICKED)
			},
		},
		{
			name: "missing contact is skipped",
			evt:  func(t *testing.T) projection.Event { return responded(t, contact1, "c9", unsub) },
			want: []call{{Cmd: "UpdateContact", ID: "c9", Key: "campaign-response:evt-1:optout:contact:c9"}},
		},
		{
			name: "unknown member type is poison",
			evt: func(t *testing.T) projection.Event {
				return responded(t, campaignv1.MemberType_MEMBER_TYPE_UNSPECIFIED, "x", campaignv1.ResponseKind_RESPONSE_KIND_OPENED)
			},
			wantErr: true, wantPoison: true,
		},
		{
			name: "undecodable payload is poison",
			evt: func(t *testing.T) projection.Event {
				e := responded(t, lead1, "l1", campaignv1.ResponseKind_RESPONSE_KIND_OPENED)
				e.Envelope.Payload = []byte{0xff, 0xff}
				return e
			},
			wantErr: true, wantPoison: true,
		},
		{
			name: "other campaign events are ignored",
			evt: func(t *testing.T) projection.Event {
				e := responded(t, lead1, "l1", campaignv1.ResponseKind_RESPONSE_KIND_OPENED)
				e.Envelope.EventType = "crm.campaign.v1.CampaignMemberAdded"
				return e
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := tc.app
			if f == nil {
				f = &fakeApp{}
			}
			err := reactions.NewCampaignResponses(f, nil).Handle(context.Background(), []projection.Event{tc.evt(t)})
			assert.Equal(t, tc.want, f.calls)
			if !tc.wantErr {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			var poison *projection.PoisonError
			assert.Equal(t, tc.wantPoison, errors.As(err, &poison), "%v", err)
		})
	}
}

func TestCampaignSignalTimeIsNeverAfterStorage(t *testing.T) {
	t.Parallel()
	e := responded(t, campaignv1.MemberType_MEMBER_TYPE_LEAD, "l1", campaignv1.ResponseKind_RESPONSE_KIND_OPENED)
	var m campaignv1.CampaignMemberResponded
	require.NoError(t, proto.Unmarshal(e.Envelope.GetPayload(), &m))
	m.OccurredAt = timestamppb.New(storedAt.Add(time.Hour))
	var err error
	e.Envelope.Payload, err = proto.Marshal(&m)
	require.NoError(t, err)
	var f fakeApp
	require.NoError(t, reactions.NewCampaignResponses(&f, nil).Handle(context.Background(), []projection.Event{e}))
	require.Len(t, f.calls, 1)
	assert.Equal(t, storedAt, f.calls[0].At, "a response reported ahead of time counts from when it was stored")
}

func TestCampaignResponsesBatchKeepsEachPersonsOrder(t *testing.T) {
	t.Parallel()
	opened, clicked := campaignv1.ResponseKind_RESPONSE_KIND_OPENED, campaignv1.ResponseKind_RESPONSE_KIND_CLICKED
	var batch []projection.Event
	for i, p := range []string{"a", "b", "a", "bad", "b", "bad", "a"} {
		kind := opened
		if i >= 4 {
			kind = clicked
		}
		e := responded(t, campaignv1.MemberType_MEMBER_TYPE_LEAD, p, kind)
		e.Sequence = uint64(i + 1)
		e.Envelope.EventId = fmt.Sprintf("evt-%d", i+1)
		batch = append(batch, e)
	}
	f := &fakeApp{leadErr: map[string]error{"bad": errors.New("nats: timeout")}}
	err := reactions.NewCampaignResponses(f, nil).Handle(context.Background(), batch)
	require.Error(t, err, "the failure fails the batch for a retry")
	perPerson := map[string][]string{}
	for _, c := range f.calls {
		perPerson[c.ID] = append(perPerson[c.ID], c.Key)
	}
	assert.Equal(t, map[string][]string{
		"a":   {"campaign-response:evt-1:engagement", "campaign-response:evt-3:engagement", "campaign-response:evt-7:engagement"},
		"b":   {"campaign-response:evt-2:engagement", "campaign-response:evt-5:engagement"},
		"bad": {"campaign-response:evt-4:engagement"},
	}, perPerson, "each person's responses in stream order; a failed person's later ones wait for the retry")
}
