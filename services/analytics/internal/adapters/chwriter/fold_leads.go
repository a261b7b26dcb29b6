package chwriter

import (
	"context"
	"time"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
)

// addLead folds a lead event into its leads row and adds its lead_transitions or conversions
// row. Facts are written even for an event the row already has (a replay): they collapse by key.
func (b *batch) addLead(ctx context.Context, d decoded) error {
	env := d.Envelope
	k := key(env.GetTenantId(), env.GetAggregateId())
	r := b.leads[k]
	if r == nil {
		r = &lead{Tenant: env.GetTenantId(), LeadID: env.GetAggregateId(), CreatedAt: epoch,
			UpdatedAt: epoch, ConvertedAt: epoch, MQLAt: epoch, SALAt: epoch, SQLAt: epoch, WonAt: epoch}
		b.leads[k] = r
	}
	apply, err := b.step(ctx, d, r.Version, r.Seq)
	if err != nil {
		return err
	}
	when := at(d)
	switch p := d.msg.(type) {
	case *leadsv1.LeadStatusChanged:
		if apply {
			r.Status = enumName(p.GetTo())
			r.Source, r.CampaignID = enumName(p.GetSource()), p.GetCampaignId()
			r.OwnerID, r.TerritoryID = p.GetOwnerId(), p.GetTerritoryId()
			r.reach(funnelRank[p.GetTo()], when)
			if c := p.GetConverted(); c != nil {
				r.AccountID, r.ContactID, r.OpportunityID = c.GetAccountId(), c.GetContactId(), c.GetOpportunityId()
				r.reach(rankConverted, orTime(ts(c.GetConvertedAt()), when))
			}
		}
		b.fact("lead_transitions", r.Tenant, r.LeadID, d.Sequence, env.GetEventId(), when,
			enumName(p.GetFrom()), enumName(p.GetTo()), seconds(p.GetTimeInPrevious()), b2u(p.GetAutomatic()),
			enumName(p.GetSource()), p.GetCampaignId(), p.GetOwnerId(), p.GetTerritoryId(), r.CreatedAt)
	case *leadsv1.LeadConverted:
		if apply {
			r.AccountID, r.ContactID, r.OpportunityID = p.GetAccountId(), p.GetContactId(), p.GetOpportunityId()
			r.reach(rankConverted, when)
		}
		b.fact("conversions", r.Tenant, r.LeadID, d.Sequence, when, p.GetAccountId(), p.GetContactId(),
			p.GetOpportunityId(), enumName(p.GetSource()), p.GetCampaignId(), p.GetOwnerId())
	}
	if !apply {
		return nil
	}
	switch p := d.msg.(type) {
	case *leadsv1.LeadCreated:
		l := p.GetLead()
		r.Status, r.Source, r.CampaignID = enumName(l.GetStatus()), enumName(l.GetSource()), l.GetCampaignId()
		r.OwnerID, r.TerritoryID, r.Country, r.Industry = l.GetOwnerId(), l.GetTerritoryId(), l.GetCountry(), l.GetIndustry()
		r.TotalScore = l.GetScore().GetTotal()
		r.CreatedAt = orTime(ts(l.GetCreatedAt()), when)
		r.MergedIntoID = l.GetMergedIntoId()
	case *leadsv1.LeadDetailsUpdated:
		a := p.GetAfter()
		for _, f := range p.GetChangedFields() {
			switch f {
			case "country":
				r.Country = a.GetCountry()
			case "industry":
				r.Industry = a.GetIndustry()
			case "source":
				r.Source = enumName(a.GetSource())
			case "campaign_id":
				r.CampaignID = a.GetCampaignId()
			}
		}
	case *leadsv1.LeadAssigned:
		r.OwnerID = p.GetOwnerId()
	case *leadsv1.LeadTerritoryChanged:
		r.TerritoryID = p.GetTerritoryId()
	case *leadsv1.LeadScored:
		r.TotalScore = p.GetScore().GetTotal()
	case *leadsv1.LeadMergedInto:
		r.MergedIntoID = p.GetSurvivorLeadId()
	case *leadsv1.LeadOpportunityWon:
		// The win's business time, not when the leads service's reaction appended the event.
		r.reach(rankWon, orTime(ts(p.GetWonAt()), when))
	}
	r.Seq, r.Version, r.UpdatedAt = d.Sequence, max(env.GetAggregateVersion(), r.Version+1), when
	b.dirty[key("leads", k)] = true
	return nil
}

// The funnel's steps after created, in order (docs/analytics.md, GetFunnel).
const (
	rankMQL = iota + 1
	rankSAL
	rankSQL
	rankConverted
	rankWon
)

// funnelRank is the step a status transition reaches; 0 for the statuses off the funnel (new,
// working, nurturing, disqualified, recycled).
var funnelRank = map[leadsv1.LeadStatus]int{
	leadsv1.LeadStatus_LEAD_STATUS_MARKETING_QUALIFIED: rankMQL,
	leadsv1.LeadStatus_LEAD_STATUS_SALES_ACCEPTED:      rankSAL,
	leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED:     rankSQL,
	leadsv1.LeadStatus_LEAD_STATUS_CONVERTED:           rankConverted,
}

// reach records that the lead reached the step of rank at t, and with it every earlier step it
// had not reached by then (a lead that skipped a status reached it at the time of the skip).
// Each step keeps its earliest time: min() is what neither a redelivery nor a replay nor
// backfilled history arriving out of time order moves.
func (r *lead) reach(rank int, t time.Time) {
	if rank == 0 || !t.After(epoch) {
		return
	}
	steps := [...]*time.Time{&r.MQLAt, &r.SALAt, &r.SQLAt, &r.ConvertedAt, &r.WonAt}
	for _, s := range steps[:rank] {
		if s.Equal(epoch) || t.Before(*s) {
			*s = t
		}
	}
}

// addContact folds a contact event into its contacts row.
func (b *batch) addContact(ctx context.Context, d decoded) error {
	env := d.Envelope
	k := key(env.GetTenantId(), env.GetAggregateId())
	r := b.contacts[k]
	if r == nil {
		r = &contact{Tenant: env.GetTenantId(), ContactID: env.GetAggregateId(), CreatedAt: epoch}
		b.contacts[k] = r
	}
	apply, err := b.step(ctx, d, r.Version, r.Seq)
	if err != nil || !apply {
		return err
	}
	switch p := d.msg.(type) {
	case *leadsv1.ContactCreated:
		c := p.GetContact()
		r.AccountID, r.SourceLead = c.GetAccountId(), c.GetSourceLeadId()
		r.CreatedAt = orTime(ts(c.GetCreatedAt()), at(d))
	case *leadsv1.ContactUpdated:
		if contains(p.GetChangedFields(), "account_id") {
			r.AccountID = p.GetAfter().GetAccountId()
		}
	}
	r.Seq, r.Version = d.Sequence, max(env.GetAggregateVersion(), r.Version+1)
	b.dirty[key("contacts", k)] = true
	return nil
}
