package chwriter

import (
	"context"

	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
)

// addCampaign folds a campaign event into its campaigns row and adds the costs row of a cost.
func (b *batch) addCampaign(ctx context.Context, d decoded) error {
	env := d.Envelope
	k := key(env.GetTenantId(), env.GetAggregateId())
	r := b.camps[k]
	if r == nil {
		r = &campaign{Tenant: env.GetTenantId(), CampaignID: env.GetAggregateId(), StartDate: epoch,
			EndDate: epoch, CreatedAt: epoch}
		b.camps[k] = r
	}
	apply, err := b.step(ctx, d, r.Version, r.Seq)
	if err != nil {
		return err
	}
	when := at(d)
	if p, ok := d.msg.(*campaignv1.CampaignCostRecorded); ok {
		e := p.GetEntry()
		day := date(e.GetDate())
		if day.Equal(epoch) {
			day = when.Truncate(24 * 60 * 60 * 1e9)
		}
		b.fact("costs", r.Tenant, r.CampaignID, d.Sequence, env.GetEventId(), day, when,
			micros(e.GetAmount()), e.GetAmount().GetCurrencyCode(), enumName(p.GetChannel()))
	}
	if !apply {
		return nil
	}
	switch p := d.msg.(type) {
	case *campaignv1.CampaignCreated:
		c := p.GetCampaign()
		r.Name, r.Channel, r.Status = c.GetName(), enumName(c.GetChannel()), enumName(c.GetStatus())
		r.ParentCampaignID, r.OwnerID = c.GetParentCampaignId(), c.GetOwnerId()
		r.StartDate, r.EndDate = date(c.GetStartDate()), date(c.GetEndDate())
		r.BudgetMicros, r.ActualCostMicros = micros(c.GetBudget()), micros(c.GetActualCost())
		r.Currency = c.GetBudget().GetCurrencyCode()
		if r.Currency == "" {
			r.Currency = c.GetActualCost().GetCurrencyCode()
		}
		r.CreatedAt = orTime(ts(c.GetCreatedAt()), when)
	case *campaignv1.CampaignUpdated:
		a := p.GetAfter()
		for _, f := range p.GetChangedFields() {
			switch f {
			case "name":
				r.Name = a.GetName()
			case "channel":
				r.Channel = enumName(a.GetChannel())
			case "status":
				r.Status = enumName(a.GetStatus())
			case "parent_campaign_id":
				r.ParentCampaignID = a.GetParentCampaignId()
			case "owner_id":
				r.OwnerID = a.GetOwnerId()
			case "start_date":
				r.StartDate = date(a.GetStartDate())
			case "end_date":
				r.EndDate = date(a.GetEndDate())
			case "budget":
				r.BudgetMicros = micros(a.GetBudget())
				if c := a.GetBudget().GetCurrencyCode(); c != "" {
					r.Currency = c
				}
			}
		}
	case *campaignv1.CampaignStatusChanged:
		r.Status = enumName(p.GetTo())
	case *campaignv1.CampaignCostRecorded:
		r.ActualCostMicros = micros(p.GetActualCost())
		if r.Currency == "" {
			r.Currency = p.GetActualCost().GetCurrencyCode()
		}
	}
	r.Seq, r.Version = d.Sequence, max(env.GetAggregateVersion(), r.Version+1)
	b.dirty[key("campaigns", k)] = true
	return nil
}

// addMember folds a member event into its members row and adds the responses row of a
// response. The fold follows the campaign service's own (domain/member.Apply): the status is
// that of the latest response by time, responded and unsubscribed stick once set.
func (b *batch) addMember(ctx context.Context, d decoded) error {
	env := d.Envelope
	campaignID, memberType, personID := memberKey(d)
	if campaignID == "" {
		return nil
	}
	k := key(env.GetTenantId(), campaignID, memberType, personID)
	r := b.members[k]
	if r == nil {
		r = &member{Tenant: env.GetTenantId(), CampaignID: campaignID, MemberType: memberType,
			PersonID: personID, MemberID: env.GetAggregateId(), AddedAt: epoch,
			FirstRespondedAt: epoch, LastResponseAt: epoch}
		b.members[k] = r
	}
	apply, err := b.step(ctx, d, r.Version, r.Seq)
	if err != nil {
		return err
	}
	when := at(d)
	switch p := d.msg.(type) {
	case *campaignv1.CampaignMemberAdded:
		if apply {
			m := p.GetMember()
			r.MemberID = env.GetAggregateId()
			r.AddedAt = orTime(ts(m.GetAddedAt()), when)
			// A member may be added with a status (imports): keep what the event says.
			if r.Status == "" {
				r.Status = m.GetStatus()
			}
			r.Responded |= b2u(m.GetResponded())
			r.Unsubscribed |= b2u(m.GetUnsubscribed())
		}
	case *campaignv1.CampaignMemberResponded:
		respAt := orTime(ts(p.GetOccurredAt()), when)
		b.fact("responses", r.Tenant, campaignID, d.Sequence, env.GetEventId(), memberType, personID,
			respAt, p.GetStatus(), enumName(p.GetKind()), b2u(p.GetResponded()), b2u(p.GetFirstResponse()),
			enumName(p.GetChannel()))
		if apply {
			if r.Status == "" || !respAt.Before(r.LastResponseAt) {
				r.Status, r.LastResponseAt = p.GetStatus(), respAt
			}
			if p.GetResponded() {
				if r.Responded == 0 || respAt.Before(r.FirstRespondedAt) {
					r.FirstRespondedAt = respAt
				}
				r.Responded = 1
			}
			if p.GetKind() == campaignv1.ResponseKind_RESPONSE_KIND_UNSUBSCRIBED {
				r.Unsubscribed = 1
			}
		}
	}
	if !apply {
		return nil
	}
	r.Seq, r.Version = d.Sequence, max(env.GetAggregateVersion(), r.Version+1)
	b.dirty[key("members", k)] = true
	return nil
}
