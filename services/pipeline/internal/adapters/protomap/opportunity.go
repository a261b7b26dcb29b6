package protomap

import (
	"slices"
	"time"

	"github.com/evcrm/evcrm/libs/customfield"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
)

// OpportunityToProto maps the state of an opportunity, stage history and close details
// included (durations of finished stays only: a record has no "now"). Quotes are not part of
// the message (ListQuotes and GetQuote serve them; map them with QuoteToProto). It fails only
// when an amount has no wire form, which the domain's checks rule out.
func OpportunityToProto(o opportunity.Opportunity) (*pipelinev1.Opportunity, error) {
	var e encoder
	p := e.opportunity(o)
	return p, e.err
}

func (e *encoder) opportunity(o opportunity.Opportunity) *pipelinev1.Opportunity {
	p := DetailsToProto(o.Details)
	p.Id = o.ID
	p.Version = o.Version
	p.LeadId = o.LeadID
	p.OwnerId = o.OwnerID
	p.PipelineId = o.PipelineID
	p.StageId = o.StageID
	p.StageName = o.StageName
	p.Amount = e.money(o.Amount)
	p.Probability = u32(o.Probability)
	p.ProbabilityOverridden = o.ProbabilityOverridden
	p.StageProbability = u32(o.StageProbability)
	p.StageForecastCategory = CategoryToProto(o.StageCategory)
	p.ExpectedCloseDate = DateToProto(o.ExpectedCloseDate)
	p.ForecastCategory = CategoryToProto(o.ForecastCategory)
	p.ForecastCategoryOverridden = o.CategoryOverridden
	p.ContactRoles = ContactRolesToProto(o.ContactRoles)
	p.Status = StatusToProto(o.Status)
	p.Close = CloseToProto(o.Close)
	p.StageEnteredAt = ts(o.StageEnteredAt)
	p.CreatedAt = ts(o.CreatedAt)
	p.UpdatedAt = ts(o.UpdatedAt)
	p.StageHistory = StageHistoryToProto(o.StageHistory, time.Time{})
	return p
}

// OpportunityFromProto is the lossless inverse of OpportunityToProto for what the service wrote
// (OpportunityCreated, read-model records): no validation, enum numbers the tables lack are
// unspecified, empty lists and maps are nil, and Quotes stay nil. It fails on a value that
// cannot be mapped at all (a malformed date or amount).
func OpportunityFromProto(p *pipelinev1.Opportunity) (opportunity.Opportunity, error) {
	var d decoder
	o := d.opportunity(p)
	if d.err != nil {
		return opportunity.Opportunity{}, d.err
	}
	return o, nil
}

func (d *decoder) opportunity(p *pipelinev1.Opportunity) opportunity.Opportunity {
	return opportunity.Opportunity{
		ID:                    p.GetId(),
		Version:               p.GetVersion(),
		Details:               DetailsFromProto(p),
		LeadID:                p.GetLeadId(),
		OwnerID:               p.GetOwnerId(),
		PipelineID:            p.GetPipelineId(),
		StageID:               p.GetStageId(),
		StageName:             p.GetStageName(),
		Amount:                d.money(p.GetAmount(), "opportunity amount"),
		Probability:           fromU32(p.GetProbability()),
		ProbabilityOverridden: p.GetProbabilityOverridden(),
		StageProbability:      fromU32(p.GetStageProbability()),
		StageCategory:         categories.domain(p.GetStageForecastCategory()),
		ExpectedCloseDate:     d.date(p.GetExpectedCloseDate(), "expected close date"),
		ForecastCategory:      categories.domain(p.GetForecastCategory()),
		CategoryOverridden:    p.GetForecastCategoryOverridden(),
		ContactRoles:          contactRolesFromProto(p.GetContactRoles()),
		Status:                statuses.domain(p.GetStatus()),
		Close:                 d.close(p.GetClose()),
		StageEnteredAt:        fromTS(p.GetStageEnteredAt()),
		CreatedAt:             fromTS(p.GetCreatedAt()),
		UpdatedAt:             fromTS(p.GetUpdatedAt()),
		StageHistory:          StageHistoryFromProto(p.GetStageHistory()),
	}
}

// DetailsToProto maps the descriptive fields into an Opportunity message with nothing else set:
// the partial opportunities of OpportunityDetailsUpdated (before, after).
func DetailsToProto(d opportunity.Details) *pipelinev1.Opportunity {
	p := &pipelinev1.Opportunity{
		Name:              d.Name,
		AccountId:         d.AccountID,
		PrimaryContactId:  d.PrimaryContactID,
		NextStep:          d.NextStep,
		Description:       d.Description,
		Source:            SourceToProto(d.Source),
		PrimaryCampaignId: d.PrimaryCampaignID,
		Competitors:       cloneOrNil(d.Competitors),
		Tags:              cloneOrNil(d.Tags),
	}
	if len(d.CustomFields) > 0 {
		p.CustomFields = make(map[string]*pipelinev1.CustomValue, len(d.CustomFields))
		for name, v := range d.CustomFields {
			p.CustomFields[name] = CustomValueToProto(v)
		}
	}
	return p
}

// DetailsFromProto is the lossless inverse of DetailsToProto (no validation; an empty custom
// field map is nil, a custom value without a value is the zero Value).
func DetailsFromProto(p *pipelinev1.Opportunity) opportunity.Details {
	d := opportunity.Details{
		Name:              p.GetName(),
		AccountID:         p.GetAccountId(),
		PrimaryContactID:  p.GetPrimaryContactId(),
		NextStep:          p.GetNextStep(),
		Description:       p.GetDescription(),
		Source:            sources.domain(p.GetSource()),
		PrimaryCampaignID: p.GetPrimaryCampaignId(),
		Competitors:       cloneOrNil(p.GetCompetitors()),
		Tags:              cloneOrNil(p.GetTags()),
	}
	if len(p.GetCustomFields()) > 0 {
		d.CustomFields = make(map[string]customfield.Value, len(p.GetCustomFields()))
		for name, v := range p.GetCustomFields() {
			d.CustomFields[name] = CustomValueFromProto(v)
		}
	}
	return d
}

// CustomValueToProto maps a typed custom value; a value of no (unspecified) type has no value
// set.
func CustomValueToProto(v customfield.Value) *pipelinev1.CustomValue {
	switch v.Type {
	case customfield.TypeString:
		return &pipelinev1.CustomValue{Value: &pipelinev1.CustomValue_StringValue{StringValue: v.String}}
	case customfield.TypeNumber:
		return &pipelinev1.CustomValue{Value: &pipelinev1.CustomValue_NumberValue{NumberValue: v.Number}}
	case customfield.TypeBool:
		return &pipelinev1.CustomValue{Value: &pipelinev1.CustomValue_BoolValue{BoolValue: v.Bool}}
	case customfield.TypeDate:
		return &pipelinev1.CustomValue{Value: &pipelinev1.CustomValue_DateValue{DateValue: v.Date}}
	}
	return &pipelinev1.CustomValue{}
}

// CustomValueFromProto maps a custom value; one with no value set is the zero Value (of
// unspecified type). Requests reject that case.
func CustomValueFromProto(p *pipelinev1.CustomValue) customfield.Value {
	switch x := p.GetValue().(type) {
	case *pipelinev1.CustomValue_StringValue:
		return customfield.StringValue(x.StringValue)
	case *pipelinev1.CustomValue_NumberValue:
		return customfield.NumberValue(x.NumberValue)
	case *pipelinev1.CustomValue_BoolValue:
		return customfield.BoolValue(x.BoolValue)
	case *pipelinev1.CustomValue_DateValue:
		return customfield.DateValue(x.DateValue)
	}
	return customfield.Value{}
}

// ContactRolesToProto maps contact roles; none is nil.
func ContactRolesToProto(rs []opportunity.ContactRole) []*pipelinev1.OpportunityContactRole {
	if len(rs) == 0 {
		return nil
	}
	out := make([]*pipelinev1.OpportunityContactRole, 0, len(rs))
	for _, r := range rs {
		out = append(out, &pipelinev1.OpportunityContactRole{ContactId: r.ContactID, Role: RoleToProto(r.Role),
			IsPrimary: r.Primary})
	}
	return out
}

// contactRolesFromProto maps recorded contact roles as they are; none is nil.
func contactRolesFromProto(ps []*pipelinev1.OpportunityContactRole) []opportunity.ContactRole {
	if len(ps) == 0 {
		return nil
	}
	out := make([]opportunity.ContactRole, 0, len(ps))
	for _, p := range ps {
		out = append(out, opportunity.ContactRole{ContactID: p.GetContactId(), Role: roles.domain(p.GetRole()),
			Primary: p.GetIsPrimary()})
	}
	return out
}

// CloseToProto maps how a deal closed; the zero Closing (open) is an unset field.
func CloseToProto(c opportunity.Closing) *pipelinev1.CloseDetails {
	if c == (opportunity.Closing{}) {
		return nil
	}
	return &pipelinev1.CloseDetails{CloseDate: DateToProto(c.ClosedOn), LostReason: LostReasonToProto(c.LostReason),
		Competitor: c.Competitor, Note: c.Note}
}

func (d *decoder) close(p *pipelinev1.CloseDetails) opportunity.Closing {
	return opportunity.Closing{ClosedOn: d.date(p.GetCloseDate(), "close date"), Note: p.GetNote(),
		LostReason: lostReasons.domain(p.GetLostReason()), Competitor: p.GetCompetitor()}
}

// StageHistoryToProto maps stage visits, oldest first. Finished stays get their duration; the
// current one (no LeftAt) gets the time up to now, or none when now is zero (records and
// events). GetOpportunityResponse.stage_history passes the time of the answer.
func StageHistoryToProto(vs []opportunity.StageVisit, now time.Time) []*pipelinev1.StageHistoryEntry {
	if len(vs) == 0 {
		return nil
	}
	out := make([]*pipelinev1.StageHistoryEntry, 0, len(vs))
	for _, v := range vs {
		p := &pipelinev1.StageHistoryEntry{StageId: v.StageID, StageName: v.StageName, EnteredAt: ts(v.EnteredAt),
			LeftAt: ts(v.LeftAt), MovedBy: v.MovedBy}
		if !v.LeftAt.IsZero() || !now.IsZero() {
			p.Duration = dur(v.Duration(now))
		}
		out = append(out, p)
	}
	return out
}

// StageHistoryFromProto is the inverse of StageHistoryToProto (durations are derived, so they
// are not read back); none is nil.
func StageHistoryFromProto(ps []*pipelinev1.StageHistoryEntry) []opportunity.StageVisit {
	if len(ps) == 0 {
		return nil
	}
	out := make([]opportunity.StageVisit, 0, len(ps))
	for _, p := range ps {
		out = append(out, opportunity.StageVisit{StageID: p.GetStageId(), StageName: p.GetStageName(),
			EnteredAt: fromTS(p.GetEnteredAt()), LeftAt: fromTS(p.GetLeftAt()), MovedBy: p.GetMovedBy()})
	}
	return out
}

// cloneOrNil copies s; an empty s is nil (proto does not tell empty from absent).
func cloneOrNil[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}
