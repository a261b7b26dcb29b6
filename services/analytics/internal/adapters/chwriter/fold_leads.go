package chwriter

import (
	"context"

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
			UpdatedAt: epoch, ConvertedAt: epoch}
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
			if c := p.GetConverted(); c != nil {
				r.AccountID, r.ContactID, r.OpportunityID = c.GetAccountId(), c.GetContactId(), c.GetOpportunityId()
				r.ConvertedAt = orTime(ts(c.GetConvertedAt()), when)
			} else if p.GetTo() == leadsv1.LeadStatus_LEAD_STATUS_CONVERTED && r.ConvertedAt.Equal(epoch) {
				r.ConvertedAt = when
			}
		}
		b.fact("lead_transitions", r.Tenant, r.LeadID, d.Sequence, env.GetEventId(), when,
			enumName(p.GetFrom()), enumName(p.GetTo()), seconds(p.GetTimeInPrevious()), b2u(p.GetAutomatic()),
			enumName(p.GetSource()), p.GetCampaignId(), p.GetOwnerId(), p.GetTerritoryId(), r.CreatedAt)
	case *leadsv1.LeadConverted:
		if apply {
			r.AccountID, r.ContactID, r.OpportunityID = p.GetAccountId(), p.GetContactId(), p.GetOpportunityId()
			if r.ConvertedAt.Equal(epoch) {
				r.ConvertedAt = when
			}
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
	}
	r.Seq, r.Version, r.UpdatedAt = d.Sequence, max(env.GetAggregateVersion(), r.Version+1), when
	b.dirty[key("leads", k)] = true
	return nil
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
