package service_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/evcrm/evcrm/libs/eventstore"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/libs/uuid7"
	"github.com/evcrm/evcrm/services/leads/internal/ports/reactions"
)

// campaignSide appends to CRM_CAMPAIGN what the campaign service appends for a member: the
// member's CampaignMemberAdded, then its responses, on crm.<tenant>.member.<id>.<Event>.
type campaignSide struct {
	store *eventstore.Store
	js    jetstream.JetStream
}

// startCampaignSide creates CRM_CAMPAIGN as the campaign service would. It runs before the
// leads service starts so that the reaction's consumer finds the stream at once.
func startCampaignSide(t testing.TB, n *testkit.NATS) *campaignSide {
	t.Helper()
	nc := n.Connect(t)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	require.NoError(t, eventstore.EnsureStreams(context.Background(), js, eventstore.StreamOptions{Replicas: 1}, eventstore.CampaignStream))
	store, err := eventstore.New(nc, eventstore.Options{})
	require.NoError(t, err)
	return &campaignSide{store: store, js: js}
}

// member is one campaign member aggregate.
type member struct {
	id, campaignID string
	typ            campaignv1.MemberType
	personID       string
}

func (c *campaignSide) ctx() context.Context {
	return eventstore.WithMetadata(context.Background(), eventstore.Metadata{CorrelationID: "corr-" + uuid7.New(),
		Actor: &eventsv1.Actor{Type: eventsv1.ActorType_ACTOR_TYPE_SERVICE, Id: "campaign", OnBehalfOf: "marketer-1"}})
}

func (c *campaignSide) add(t testing.TB, campaignID string, typ campaignv1.MemberType, personID string) member {
	t.Helper()
	m := member{id: uuid7.New(), campaignID: campaignID, typ: typ, personID: personID}
	_, err := c.store.Append(c.ctx(), eventstore.Ref{Tenant: "acme", Type: "member", ID: m.id}, eventstore.Position{},
		eventstore.Event{Payload: &campaignv1.CampaignMemberAdded{Member: &campaignv1.Member{Id: m.id, Version: 1,
			CampaignId: campaignID, Type: typ, PersonId: personID, AddedAt: timestamppb.Now(), AddedBy: "manual"}}})
	require.NoError(t, err)
	return m
}

// respond appends a CampaignMemberResponded and returns its stream sequence.
func (c *campaignSide) respond(t testing.TB, m member, status string, kind campaignv1.ResponseKind) uint64 {
	t.Helper()
	ref := eventstore.Ref{Tenant: "acme", Type: "member", ID: m.id}
	last, ok, err := c.store.Last(context.Background(), ref)
	require.NoError(t, err)
	require.True(t, ok)
	at := time.Now().Add(-time.Minute)
	res, err := c.store.Append(c.ctx(), ref, last.Position(), eventstore.Event{OccurredAt: at,
		Payload: &campaignv1.CampaignMemberResponded{CampaignId: m.campaignID, MemberType: m.typ, PersonId: m.personID,
			Status: status, Kind: kind, Responded: kind != campaignv1.ResponseKind_RESPONSE_KIND_SENT,
			OccurredAt: timestamppb.New(at), Channel: campaignv1.CampaignChannel_CAMPAIGN_CHANNEL_EMAIL}})
	require.NoError(t, err)
	return res.Position.Sequence
}

// redeliver publishes the stored event at seq again under a new message id (so JetStream does
// not drop it as a duplicate) with the same envelope, event id included: what a campaign
// service that retried an append after losing its ack, or a replay, would produce.
func (c *campaignSide) redeliver(t *testing.T, seq uint64) uint64 {
	return redeliver(t, c.js, "CRM_CAMPAIGN", seq)
}

// handled waits until the reaction's consumer has acknowledged every event up to seq.
func (c *campaignSide) handled(t testing.TB, seq uint64) {
	waitAcked(t, c.js, "CRM_CAMPAIGN", reactions.CampaignResponsesName, seq)
}

// redeliver publishes stream's stored event at seq again under a new message id with the same
// envelope, event id included, and returns its new sequence.
func redeliver(t *testing.T, js jetstream.JetStream, stream string, seq uint64) uint64 {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, stream)
	require.NoError(t, err)
	raw, err := s.GetMsg(ctx, seq)
	require.NoError(t, err)
	msg := nats.NewMsg(raw.Subject)
	msg.Data = raw.Data
	for k, v := range raw.Header {
		if !strings.HasPrefix(k, "Nats-") {
			msg.Header[k] = v
		}
	}
	msg.Header.Set(jetstream.MsgIDHeader, uuid7.New())
	ack, err := js.PublishMsg(ctx, msg)
	require.NoError(t, err)
	require.False(t, ack.Duplicate)
	return ack.Sequence
}

// waitAcked waits until consumer of stream has acknowledged every event up to seq.
func waitAcked(t testing.TB, js jetstream.JetStream, stream, consumer string, seq uint64) {
	t.Helper()
	require.Eventually(t, func() bool {
		cons, err := js.Consumer(context.Background(), stream, consumer)
		if err != nil {
			return false
		}
		info, err := cons.Info(context.Background())
		return err == nil && info.AckFloor.Stream >= seq
	}, 60*time.Second, 20*time.Millisecond, "%s handles the %s events up to %d", consumer, stream, seq)
}

func (h *harness) engagement(t *testing.T, ctx context.Context, id string) int64 {
	t.Helper()
	got, err := h.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: id})
	require.NoError(t, err)
	return got.GetLead().GetScore().GetEngagement()
}

func TestCampaignResponsesRaiseTheLeadsEngagementOnce(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	camp := startCampaignSide(t, n)
	h := startService(t, n, harnessOptions{})
	ctx := as(t, "acme", "rep-1")
	created, err := h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: newLead("ada@example.com")})
	require.NoError(t, err)
	id := created.GetLead().GetId()
	before := created.GetLead().GetScore().GetEngagement()

	m := camp.add(t, "camp-spring", campaignv1.MemberType_MEMBER_TYPE_LEAD, id)
	camp.respond(t, m, "sent", campaignv1.ResponseKind_RESPONSE_KIND_SENT)
	camp.respond(t, m, "opened", campaignv1.ResponseKind_RESPONSE_KIND_OPENED)
	click := camp.respond(t, m, "clicked", campaignv1.ResponseKind_RESPONSE_KIND_CLICKED)
	camp.handled(t, click)
	// The read model may not have the lead yet on a loaded machine: a failed read is "not yet".
	require.Eventually(t, func() bool {
		got, err := h.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: id})
		return err == nil && got.GetLead().GetScore().GetEngagement() == before+1+3
	}, 10*time.Second, 20*time.Millisecond,
		"the default model gives an open 1 point and a click 3; a send none")

	// The click again, as a new message with the same event id: it counts once.
	msgs := h.leadsStreamMsgs(t)
	camp.handled(t, camp.redeliver(t, click))
	assert.Equal(t, msgs, h.leadsStreamMsgs(t), "a redelivered response appends nothing")
	assert.Equal(t, before+1+3, h.engagement(t, ctx, id))

	// The engagement names the campaign and was appended on behalf of the campaign's user.
	s, err := h.js.Stream(ctx, "CRM_LEADS")
	require.NoError(t, err)
	raw, err := s.GetLastMsgForSubject(ctx, "crm.acme.lead."+id+".EngagementRecorded")
	require.NoError(t, err)
	var env eventsv1.Envelope
	require.NoError(t, proto.Unmarshal(raw.Data, &env))
	payload, err := eventstore.DecodePayload(&env)
	require.NoError(t, err)
	rec := payload.(*leadsv1.EngagementRecorded)
	assert.Equal(t, leadsv1.EngagementSignal_ENGAGEMENT_SIGNAL_EMAIL_CLICKED, rec.GetSignal())
	assert.Equal(t, "camp-spring", rec.GetCampaignId())
	assert.Equal(t, "marketer-1", env.GetActor().GetOnBehalfOf())
	assert.Equal(t, "leads", env.GetActor().GetId())
	assert.Equal(t, "campaign-response:"+clickEventID(t, camp, click)+":engagement", env.GetCausationId(),
		"the causation names the campaign event")
}

func TestUnsubscribeSetsEmailOptOutWhereverThePersonIs(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	camp := startCampaignSide(t, n)
	h := startService(t, n, harnessOptions{})
	ctx := as(t, "acme", "rep-1")
	unsub := campaignv1.ResponseKind_RESPONSE_KIND_UNSUBSCRIBED

	created, err := h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: newLead("lead@example.com")})
	require.NoError(t, err)
	leadID := created.GetLead().GetId()
	ct, err := h.contacts.CreateContact(ctx, &leadsv1.CreateContactRequest{Contact: &leadsv1.Contact{
		FirstName: "Grace", LastName: "Hopper", Email: "grace@example.com"}})
	require.NoError(t, err)
	contactID := ct.GetContact().GetId()
	// A converted lead is frozen: its unsubscribe reaches the contact it became.
	sql := sqlLead(t, h.client, "conv@example.com", leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED)
	conv, err := h.client.ConvertLead(ctx, &leadsv1.ConvertLeadRequest{LeadId: sql.GetId()})
	require.NoError(t, err)
	convContact := conv.GetContactId()
	require.NotEmpty(t, convContact)
	// Wait for the conversion in the read model, as time would.
	_, err = h.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: sql.GetId(), Read: &commonv1.ReadOptions{MinSequence: conv.GetResult().GetSequence()}})
	require.NoError(t, err)

	last := camp.respond(t, camp.add(t, "camp-news", campaignv1.MemberType_MEMBER_TYPE_LEAD, leadID), "unsubscribed", unsub)
	camp.handled(t, last)
	last = camp.respond(t, camp.add(t, "camp-news", campaignv1.MemberType_MEMBER_TYPE_CONTACT, contactID), "unsubscribed", unsub)
	camp.handled(t, last)
	last = camp.respond(t, camp.add(t, "camp-news", campaignv1.MemberType_MEMBER_TYPE_LEAD, sql.GetId()), "unsubscribed", unsub)
	camp.handled(t, last)

	var got *leadsv1.Lead
	require.Eventually(t, func() bool {
		res, err := h.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: leadID})
		got = res.GetLead()
		return err == nil && got.GetEmailOptOut()
	}, 10*time.Second, 20*time.Millisecond, "the lead is opted out")
	assert.False(t, got.GetDoNotContact(), "an unsubscribe is from email only")
	assert.Less(t, got.GetScore().GetEngagement(), created.GetLead().GetScore().GetEngagement()+1,
		"an unsubscribe is negative engagement")

	for _, id := range []string{contactID, convContact} {
		require.Eventually(t, func() bool {
			res, err := h.contacts.GetContact(ctx, &leadsv1.GetContactRequest{ContactId: id})
			return err == nil && res.GetContact().GetEmailOptOut()
		}, 10*time.Second, 20*time.Millisecond, "contact %s is opted out", id)
	}
	// The converted lead itself stays as it was converted.
	res, err := h.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: sql.GetId()})
	require.NoError(t, err)
	assert.False(t, res.GetLead().GetEmailOptOut())
	assert.Equal(t, leadsv1.LeadStatus_LEAD_STATUS_CONVERTED, res.GetLead().GetStatus())

	// Redelivering every response changes nothing.
	msgs := h.leadsStreamMsgs(t)
	s, err := camp.js.Stream(ctx, "CRM_CAMPAIGN")
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		last = camp.redeliver(t, seq)
	}
	camp.handled(t, last)
	assert.Equal(t, msgs, h.leadsStreamMsgs(t), "redelivered unsubscribes append nothing")
}

func TestOptOutFlagsByMaskListAndCSVRoundTrip(t *testing.T) {
	t.Parallel()
	h := startService(t, testkit.StartNATS(t), harnessOptions{})
	ctx := as(t, "acme", "rep-1")
	l := newLead("dnc@example.com")
	l.DoNotContact = true
	created, err := h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: l})
	require.NoError(t, err)
	id := created.GetLead().GetId()
	assert.True(t, created.GetLead().GetDoNotContact(), "CreateLead takes the flag")
	plain, err := h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: newLead("plain@example.com")})
	require.NoError(t, err)

	upd, err := h.client.UpdateLead(ctx, &leadsv1.UpdateLeadRequest{LeadId: id,
		Lead:       &leadsv1.Lead{EmailOptOut: true, FirstName: "not in the mask"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"email_opt_out"}}})
	require.NoError(t, err)
	assert.True(t, upd.GetLead().GetEmailOptOut())
	assert.True(t, upd.GetLead().GetDoNotContact())
	assert.Equal(t, "Ada", upd.GetLead().GetFirstName())

	read := &commonv1.ReadOptions{MinSequence: upd.GetResult().GetSequence()}
	got, err := h.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: id, Read: read})
	require.NoError(t, err)
	assert.True(t, got.GetLead().GetEmailOptOut())
	assert.True(t, got.GetLead().GetDoNotContact())
	list, err := h.client.ListLeads(ctx, &leadsv1.ListLeadsRequest{Read: read})
	require.NoError(t, err)
	flags := map[string][2]bool{}
	for _, x := range list.GetLeads() {
		flags[x.GetId()] = [2]bool{x.GetEmailOptOut(), x.GetDoNotContact()}
	}
	assert.Equal(t, map[string][2]bool{id: {true, true}, plain.GetLead().GetId(): {false, false}}, flags)

	// CSV export → import into another tenant keeps the flags.
	export := func(ctx context.Context) string {
		stream, err := h.transfer.ExportRecords(ctx, &leadsv1.ExportRecordsRequest{Object: leadsv1.TransferObject_TRANSFER_OBJECT_LEAD,
			Leads: &leadsv1.ListLeadsRequest{OrderBy: leadsv1.LeadOrderBy_LEAD_ORDER_BY_CREATED_AT}, Read: read})
		require.NoError(t, err)
		var out []byte
		for {
			msg, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			out = append(out, msg.GetChunk()...)
		}
		return string(out)
	}
	csv := export(ctx)
	header, _, _ := strings.Cut(csv, "\n")
	assert.Contains(t, header, ",campaign_id,email_opt_out,do_not_contact,tags,", "the flags are export columns")
	assert.Contains(t, csv, "dnc@example.com")
	assert.Contains(t, csv, ",true,true,", "the opted-out lead's row")

	other := as(t, "globex", "rep-1")
	rep, _, err := (&transferHarness{h}).importFile(other, &leadsv1.ImportStart{Object: leadsv1.TransferObject_TRANSFER_OBJECT_LEAD,
		ImportId: "optout-rt"}, []byte(csv), 1<<20)
	require.NoError(t, err)
	require.NotNil(t, rep)
	require.EqualValues(t, 2, rep.GetCreated(), "%v", results(rep))
	var again string
	require.Eventually(t, func() bool {
		again = export(other)
		return strings.Count(again, "@example.com") == 2
	}, 10*time.Second, 20*time.Millisecond)
	// The import creates rows concurrently, so creation order may differ: compare the rows.
	lines := func(s string) []string { l := strings.Split(s, "\n"); slices.Sort(l); return l }
	assert.Equal(t, lines(csv), lines(again), "the round trip keeps every column, the flags included")

	// Clearing by mask.
	upd, err = h.client.UpdateLead(ctx, &leadsv1.UpdateLeadRequest{LeadId: id, Lead: &leadsv1.Lead{},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"do_not_contact", "email_opt_out"}}})
	require.NoError(t, err)
	assert.False(t, upd.GetLead().GetEmailOptOut())
	assert.False(t, upd.GetLead().GetDoNotContact())
}

// BenchmarkCampaignResponseReaction measures how fast the reaction turns responses into
// engagement: b.N opens spread over 50 leads are appended first, then the reaction runs alone
// until it has acknowledged the last one.
func BenchmarkCampaignResponseReaction(b *testing.B) {
	n := testkit.StartNATS(b)
	camp := startCampaignSide(b, n)
	h := startService(b, n, harnessOptions{NoWorkers: true})
	ctx := as(b, "acme", "rep-1")
	members := make([]member, 50)
	for i := range members {
		created, err := h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: newLead(fmt.Sprintf("bench-%d@example.com", i))})
		require.NoError(b, err)
		members[i] = camp.add(b, "camp-bench", campaignv1.MemberType_MEMBER_TYPE_LEAD, created.GetLead().GetId())
	}
	var last uint64
	for i := range b.N {
		last = camp.respond(b, members[i%len(members)], "opened", campaignv1.ResponseKind_RESPONSE_KIND_OPENED)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ResetTimer()
	start := time.Now()
	go func() { _ = h.svc.CampaignReactions.Run(runCtx) }()
	camp.handled(b, last)
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "responses/s")
}

// clickEventID is the event id of the campaign event stored at seq.
func clickEventID(t *testing.T, c *campaignSide, seq uint64) string {
	t.Helper()
	s, err := c.js.Stream(context.Background(), "CRM_CAMPAIGN")
	require.NoError(t, err)
	raw, err := s.GetMsg(context.Background(), seq)
	require.NoError(t, err)
	var env eventsv1.Envelope
	require.NoError(t, proto.Unmarshal(raw.Data, &env))
	return env.GetEventId()
}
