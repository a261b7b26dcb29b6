// Package campaignview keeps the campaign read model (adapters/campaignmodel) up to date from
// the campaign and member aggregates of the CRM_CAMPAIGN stream and answers the application's
// campaign and member queries from it. It folds each aggregate's events with the domain's own
// Apply, so a stored state is the aggregate's state.
package campaignview

import (
	"context"
	"errors"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/campaignmodel"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/member"
)

// Stream is the stream the view is built from.
const Stream = "CRM_CAMPAIGN"

// Aggregate types the view follows.
const (
	CampaignType = "campaign"
	MemberType   = "member"
)

// Subjects are the subjects the view follows.
var Subjects = []string{"crm.*.campaign.>", "crm.*.member.>"}

// ConsumerSubjects is what the projector's consumer reads: nil, the whole stream. Campaigns and
// members are nearly all of it (segments, enrollments and rules are a trickle), and a consumer
// with several filter subjects costs the server a multi-filter match per message
// (LoadNextMsgMulti) — measured at a quarter of the CPU of a bulk RecordResponses run. Handle
// skips the other aggregates, and the checkpoint then covers every sequence, so reads wait
// for no Coverage lookups.
var ConsumerSubjects []string

// Codecs decode the events the view folds.
type Codecs struct {
	Campaign eventstore.Codec[campaign.Event]
	Member   eventstore.Codec[member.Event]
}

// View is the projector (a projection.CheckpointHandler) and the query side.
type View struct {
	projection.ReadWaiter
	*campaignmodel.Store
	codecs Codecs
}

// New returns the view over store.
func New(store *campaignmodel.Store, codecs Codecs) *View {
	return &View{Store: store, codecs: codecs, ReadWaiter: projection.NewReadWaiter(store, Stream)}
}

// WaitFor is the read-your-writes wait (the ReadWaiter's, not the store's per-stream one).
func (v *View) WaitFor(ctx context.Context, seq uint64) error { return v.ReadWaiter.WaitFor(ctx, seq) }

type key struct{ tenant, id string }

type batch struct {
	camps     map[key]*campaignmodel.CampaignChange
	campOrder []key
	mems      map[key]*campaignmodel.MemberChange
	memOrder  []key
	touches   []campaignmodel.TouchRow
}

// Handle folds a batch into the states it touches and stores them with the batch's last
// sequence in one transaction. An event that does not decode is poison (dead-lettered); its
// aggregate keeps its state.
func (v *View) Handle(ctx context.Context, events []projection.Event) error {
	if len(events) == 0 {
		return nil
	}
	b := batch{camps: map[key]*campaignmodel.CampaignChange{}, mems: map[key]*campaignmodel.MemberChange{}}
	if err := v.preloadMembers(ctx, &b, events); err != nil {
		return err
	}
	var poison []error
	for _, e := range events {
		env := e.Envelope
		k := key{env.GetTenantId(), env.GetAggregateId()}
		rec := eventstore.Recorded{Envelope: env, Subject: e.Subject, Stream: e.Stream, Sequence: e.Sequence, Stored: e.Stored}
		var err error
		switch env.GetAggregateType() {
		case CampaignType:
			err = v.campaign(ctx, &b, k, rec, e)
		case MemberType:
			err = v.member(ctx, &b, k, rec, e)
		}
		var pe *projection.PoisonError
		if errors.As(err, &pe) {
			poison = append(poison, err)
			continue
		}
		if err != nil {
			return err
		}
	}
	var out campaignmodel.Batch
	for _, k := range b.campOrder {
		out.Campaigns = append(out.Campaigns, *b.camps[k])
	}
	for _, k := range b.memOrder {
		out.Members = append(out.Members, *b.mems[k])
	}
	out.Touches = b.touches
	if err := v.Store.Apply(ctx, events[0].Stream, events[len(events)-1].Sequence, out); err != nil {
		return err
	}
	return errors.Join(poison...)
}

func (v *View) campaign(ctx context.Context, b *batch, k key, rec eventstore.Recorded, e projection.Event) error {
	c, ok := b.camps[k]
	if !ok {
		c = &campaignmodel.CampaignChange{Tenant: k.tenant}
		if rec.Envelope.GetAggregateVersion() != 1 {
			s, err := v.Store.GetCampaign(ctx, k.tenant, k.id)
			if err != nil && apperr.KindOf(err) != apperr.NotFound {
				return err
			}
			c.State = s
		}
		b.camps[k] = c
		b.campOrder = append(b.campOrder, k)
	}
	if rec.Envelope.GetAggregateVersion() <= c.State.Version {
		return nil // already applied (a replayed batch)
	}
	ev, err := v.codecs.Campaign.Decode(rec)
	if err != nil {
		return projection.Poison(e, "decode campaign event: "+err.Error())
	}
	c.State = campaign.Apply(c.State, ev)
	c.Seq = e.Sequence
	return nil
}

// preloadMembers reads the stored states of the batch's members that are not new, in a few
// queries: a bulk response run touches thousands of members per batch.
func (v *View) preloadMembers(ctx context.Context, b *batch, events []projection.Event) error {
	want := map[string][]string{}
	seen := map[key]bool{}
	for _, e := range events {
		env := e.Envelope
		k := key{env.GetTenantId(), env.GetAggregateId()}
		if env.GetAggregateType() != MemberType || seen[k] {
			continue
		}
		seen[k] = true
		if env.GetAggregateVersion() != 1 {
			want[k.tenant] = append(want[k.tenant], k.id)
		}
	}
	for tenant, ids := range want {
		got, err := v.Store.GetMembers(ctx, tenant, ids)
		if err != nil {
			return err
		}
		for _, id := range ids {
			k := key{tenant, id}
			b.mems[k] = &campaignmodel.MemberChange{Tenant: tenant, State: got[id]}
			b.memOrder = append(b.memOrder, k)
		}
	}
	return nil
}

func (v *View) member(ctx context.Context, b *batch, k key, rec eventstore.Recorded, e projection.Event) error {
	c, ok := b.mems[k]
	if !ok {
		c = &campaignmodel.MemberChange{Tenant: k.tenant}
		if rec.Envelope.GetAggregateVersion() != 1 {
			s, err := v.Store.GetMember(ctx, k.tenant, k.id)
			if err != nil && apperr.KindOf(err) != apperr.NotFound {
				return err
			}
			c.State = s
		}
		b.mems[k] = c
		b.memOrder = append(b.memOrder, k)
	}
	if rec.Envelope.GetAggregateVersion() <= c.State.Version {
		return nil
	}
	ev, err := v.codecs.Member.Decode(rec)
	if err != nil {
		return projection.Poison(e, "decode member event: "+err.Error())
	}
	c.State = member.Apply(c.State, ev)
	c.Seq = e.Sequence
	t := campaignmodel.TouchRow{Tenant: k.tenant, Type: c.State.Type, PersonID: c.State.PersonID, Seq: e.Sequence}
	switch ev := ev.(type) {
	case member.Added:
		t.Touch = campaignmodel.Touch{CampaignID: ev.Member.CampaignID, Channel: ev.Member.Channel, At: ev.At}
	case member.Responded:
		t.Touch = campaignmodel.Touch{CampaignID: ev.CampaignID, Channel: ev.Channel, Status: ev.Status, Kind: ev.Kind,
			Responded: ev.Responded, At: ev.At}
	}
	b.touches = append(b.touches, t)
	return nil
}
