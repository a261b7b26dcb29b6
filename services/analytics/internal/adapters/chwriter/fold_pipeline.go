package chwriter

import (
	"context"

	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
)

// Outcomes of stage_transitions rows.
const (
	outcomeCreated  = "created"
	outcomeForward  = "forward"
	outcomeBackward = "backward"
	outcomeWon      = "won"
	outcomeLost     = "lost"
	outcomeReopened = "reopened"
)

// addOpportunity folds an opportunity event into its opportunities row and adds the
// stage_transitions row of a creation or stage change.
//
// Wins, losses and reopens are stage changes too (the pipeline service records the move into
// the WON or LOST stage before OpportunityWon/OpportunityLost, and the move back after
// OpportunityReopened), so each is one row: a move into a stage of category CLOSED is "won", a
// move into a stage of category OMITTED with probability 0 (the LOST stages' defaults) is
// "lost", and a move of an opportunity that is won or lost is "reopened".
//
// Unlike the other fact tables, a stage_transitions row depends on the opportunity's state
// before the event (its status, created_at, source), so it is written only when the event is
// folded; a replayed event, which the row already has, leaves the row written the first time.
func (b *batch) addOpportunity(ctx context.Context, d decoded) error {
	env := d.Envelope
	k := key(env.GetTenantId(), env.GetAggregateId())
	r := b.opps[k]
	if r == nil {
		r = &opportunity{Tenant: env.GetTenantId(), OpportunityID: env.GetAggregateId(),
			ExpectedCloseDate: epoch, CreatedAt: epoch, ClosedAt: epoch}
		b.opps[k] = r
	}
	apply, err := b.step(ctx, d, r.Version, r.Seq)
	if err != nil {
		return err
	}
	when := at(d)
	switch p := d.msg.(type) {
	case *pipelinev1.OpportunityCreated:
		if apply {
			o := p.GetOpportunity()
			r.Name, r.PipelineID, r.StageID, r.StageName = o.GetName(), o.GetPipelineId(), o.GetStageId(), o.GetStageName()
			r.Status, r.ForecastCategory = enumName(o.GetStatus()), enumName(o.GetForecastCategory())
			if r.Status == "" {
				r.Status = "open"
			}
			r.Probability = float64(o.GetProbability()) / 100
			r.AmountMicros, r.Currency = micros(o.GetAmount()), o.GetAmount().GetCurrencyCode()
			r.OwnerID, r.AccountID, r.LeadID = o.GetOwnerId(), o.GetAccountId(), o.GetLeadId()
			r.CampaignID, r.Source = o.GetPrimaryCampaignId(), enumName(o.GetSource())
			r.ExpectedCloseDate = date(o.GetExpectedCloseDate())
			r.CreatedAt = orTime(ts(o.GetCreatedAt()), when)
		}
		if apply {
			b.fact("stage_transitions", r.Tenant, r.OpportunityID, d.Sequence, env.GetEventId(), when,
				r.PipelineID, "", "", r.StageID, r.StageName, outcomeCreated, int64(0), r.AmountMicros,
				r.Currency, r.Probability, r.OwnerID, r.Source, r.CampaignID, r.CreatedAt)
		}
	case *pipelinev1.OpportunityStageChanged:
		if !apply {
			break
		}
		outcome := outcomeForward
		switch {
		case r.Status == "won" || r.Status == "lost":
			outcome = outcomeReopened
		case p.GetToForecastCategory() == pipelinev1.ForecastCategory_FORECAST_CATEGORY_CLOSED:
			outcome = outcomeWon
		case p.GetToForecastCategory() == pipelinev1.ForecastCategory_FORECAST_CATEGORY_OMITTED && p.GetProbability() == 0:
			outcome = outcomeLost
		case p.GetDirection() == pipelinev1.StageChangeDirection_STAGE_CHANGE_DIRECTION_BACKWARD:
			outcome = outcomeBackward
		}
		prob := float64(p.GetProbability()) / 100
		b.fact("stage_transitions", r.Tenant, r.OpportunityID, d.Sequence, env.GetEventId(), when,
			p.GetPipelineId(), p.GetFromStageId(), p.GetFromStageName(), p.GetToStageId(), p.GetToStageName(),
			outcome, seconds(p.GetTimeInPreviousStage()), micros(p.GetAmount()), p.GetAmount().GetCurrencyCode(),
			prob, p.GetOwnerId(), r.Source, r.CampaignID, r.CreatedAt)
		r.PipelineID, r.StageID, r.StageName = p.GetPipelineId(), p.GetToStageId(), p.GetToStageName()
		r.ForecastCategory, r.Probability = enumName(p.GetToForecastCategory()), prob
		if p.GetAmount() != nil {
			r.AmountMicros, r.Currency = micros(p.GetAmount()), p.GetAmount().GetCurrencyCode()
		}
		if p.GetOwnerId() != "" {
			r.OwnerID = p.GetOwnerId()
		}
		if outcome == outcomeReopened {
			r.Status, r.ClosedAt = "open", epoch
		}
	}
	if !apply {
		return nil
	}
	switch p := d.msg.(type) {
	case *pipelinev1.OpportunityDetailsUpdated:
		a := p.GetAfter()
		for _, f := range p.GetChangedFields() {
			switch f {
			case "name":
				r.Name = a.GetName()
			case "account_id":
				r.AccountID = a.GetAccountId()
			case "source":
				r.Source = enumName(a.GetSource())
			case "primary_campaign_id":
				r.CampaignID = a.GetPrimaryCampaignId()
			}
		}
	case *pipelinev1.OpportunityAmountChanged:
		r.AmountMicros, r.Currency = micros(p.GetAmount()), p.GetAmount().GetCurrencyCode()
	case *pipelinev1.OpportunityCloseDateChanged:
		r.ExpectedCloseDate = date(p.GetExpectedCloseDate())
	case *pipelinev1.OpportunityProbabilityChanged:
		r.Probability = float64(p.GetProbability()) / 100
	case *pipelinev1.OpportunityForecastCategoryChanged:
		r.ForecastCategory = enumName(p.GetForecastCategory())
	case *pipelinev1.OpportunityOwnerChanged:
		r.OwnerID = p.GetOwnerId()
	case *pipelinev1.OpportunityWon:
		r.Status, r.ClosedAt = "won", when
		if p.GetAmount() != nil {
			r.AmountMicros, r.Currency = micros(p.GetAmount()), p.GetAmount().GetCurrencyCode()
		}
	case *pipelinev1.OpportunityLost:
		r.Status, r.ClosedAt = "lost", when
	}
	r.Seq, r.Version = d.Sequence, max(env.GetAggregateVersion(), r.Version+1)
	b.dirty[key("opportunities", k)] = true
	return nil
}
