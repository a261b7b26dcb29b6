package protomap

import (
	"slices"

	"github.com/evcrm/evcrm/libs/customfield"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
)

// LeadToProto maps the whole state of a lead. Zero values (unknown money, zero times, zero
// score or engagement) are unset fields.
func LeadToProto(l lead.Lead) *leadsv1.Lead {
	p := DetailsToProto(l.Details)
	p.Id = l.ID
	p.Version = l.Version
	p.Tags = slices.Clone(l.Tags)
	p.OwnerId = l.OwnerID
	p.AssignmentReason = AssignmentReasonToProto(l.AssignmentReason)
	p.TerritoryId = l.TerritoryID
	p.Status = StatusToProto(l.Status)
	p.StatusChangedAt = ts(l.StatusChangedAt)
	p.QualificationPath = QualificationPathToProto(l.QualificationPath)
	p.DisqualifyReason = DisqualifyReasonToProto(l.DisqualifyReason)
	p.Remarket = l.Remarket
	p.Score = ScoreToProto(l.Score)
	p.Engagement = EngagementToProto(l.Engagement)
	p.LastEngagedAt = ts(l.LastEngagedAt)
	p.Bant = BantToProto(l.Bant)
	p.CreatedAt = ts(l.CreatedAt)
	p.UpdatedAt = ts(l.UpdatedAt)
	p.MergedIntoId = l.MergedIntoID
	p.MergedFromIds = slices.Clone(l.MergedFromIDs)
	p.Converted = ConvertedToProto(l.Converted)
	return p
}

// LeadFromProto is the lossless inverse of LeadToProto (it decodes LeadCreated and read-model
// rows). It does not validate: enum numbers are cast as they are. Empty lists and maps are nil.
func LeadFromProto(p *leadsv1.Lead) lead.Lead {
	return lead.Lead{
		ID:                p.GetId(),
		Version:           p.GetVersion(),
		Details:           DetailsFromProto(p),
		Tags:              cloneOrNil(p.GetTags()),
		OwnerID:           p.GetOwnerId(),
		AssignmentReason:  AssignmentReasonFromProto(p.GetAssignmentReason()),
		TerritoryID:       p.GetTerritoryId(),
		Status:            lead.Status(p.GetStatus()),
		StatusChangedAt:   fromTS(p.GetStatusChangedAt()),
		QualificationPath: lead.QualificationPath(p.GetQualificationPath()),
		DisqualifyReason:  lead.DisqualifyReason(p.GetDisqualifyReason()),
		Remarket:          p.GetRemarket(),
		Score:             ScoreFromProto(p.GetScore()),
		Engagement:        EngagementFromProto(p.GetEngagement()),
		LastEngagedAt:     fromTS(p.GetLastEngagedAt()),
		Bant:              bantFromProto(p.GetBant()),
		CreatedAt:         fromTS(p.GetCreatedAt()),
		UpdatedAt:         fromTS(p.GetUpdatedAt()),
		MergedIntoID:      p.GetMergedIntoId(),
		MergedFromIDs:     cloneOrNil(p.GetMergedFromIds()),
		Converted:         ConvertedFromProto(p.GetConverted()),
	}
}

// DetailsToProto maps the descriptive fields into a Lead message with nothing else set: the
// partial leads of LeadDetailsUpdated (before, after) and LeadMerged (values).
func DetailsToProto(d lead.Details) *leadsv1.Lead {
	p := &leadsv1.Lead{
		FirstName:     d.FirstName,
		LastName:      d.LastName,
		Email:         d.Email,
		Phone:         d.Phone,
		Company:       d.Company,
		JobTitle:      d.JobTitle,
		Website:       d.Website,
		Country:       d.Country,
		Region:        d.Region,
		City:          d.City,
		Industry:      d.Industry,
		EmployeeCount: d.EmployeeCount,
		AnnualRevenue: MoneyToProto(d.AnnualRevenue),
		Source:        SourceToProto(d.Source),
		SourceDetail:  d.SourceDetail,
		CampaignId:    d.CampaignID,
		EmailOptOut:   d.EmailOptOut,
		DoNotContact:  d.DoNotContact,
	}
	if d.UTM != (lead.UTM{}) {
		p.Utm = &leadsv1.Utm{Source: d.UTM.Source, Medium: d.UTM.Medium, Campaign: d.UTM.Campaign,
			Term: d.UTM.Term, Content: d.UTM.Content}
	}
	if len(d.CustomFields) > 0 {
		p.CustomFields = make(map[string]*leadsv1.CustomValue, len(d.CustomFields))
		for name, v := range d.CustomFields {
			p.CustomFields[name] = CustomValueToProto(v)
		}
	}
	return p
}

// DetailsFromProto is the lossless inverse of DetailsToProto (no validation; an empty custom
// field map is nil).
func DetailsFromProto(p *leadsv1.Lead) lead.Details {
	u := p.GetUtm()
	d := lead.Details{
		FirstName:     p.GetFirstName(),
		LastName:      p.GetLastName(),
		Email:         p.GetEmail(),
		Phone:         p.GetPhone(),
		Company:       p.GetCompany(),
		JobTitle:      p.GetJobTitle(),
		Website:       p.GetWebsite(),
		Country:       p.GetCountry(),
		Region:        p.GetRegion(),
		City:          p.GetCity(),
		Industry:      p.GetIndustry(),
		EmployeeCount: p.GetEmployeeCount(),
		AnnualRevenue: moneyFromProto(p.GetAnnualRevenue()),
		Source:        lead.Source(p.GetSource()),
		SourceDetail:  p.GetSourceDetail(),
		UTM: lead.UTM{Source: u.GetSource(), Medium: u.GetMedium(), Campaign: u.GetCampaign(),
			Term: u.GetTerm(), Content: u.GetContent()},
		CampaignID:   p.GetCampaignId(),
		EmailOptOut:  p.GetEmailOptOut(),
		DoNotContact: p.GetDoNotContact(),
	}
	if len(p.GetCustomFields()) > 0 {
		d.CustomFields = make(map[string]customfield.Value, len(p.GetCustomFields()))
		for name, v := range p.GetCustomFields() {
			d.CustomFields[name] = CustomValueFromProto(v)
		}
	}
	return d
}

// CustomValueToProto maps a typed custom value; a value of no (unspecified) type has no
// value set.
func CustomValueToProto(v customfield.Value) *leadsv1.CustomValue {
	switch v.Type {
	case customfield.TypeString:
		return &leadsv1.CustomValue{Value: &leadsv1.CustomValue_StringValue{StringValue: v.String}}
	case customfield.TypeNumber:
		return &leadsv1.CustomValue{Value: &leadsv1.CustomValue_NumberValue{NumberValue: v.Number}}
	case customfield.TypeBool:
		return &leadsv1.CustomValue{Value: &leadsv1.CustomValue_BoolValue{BoolValue: v.Bool}}
	case customfield.TypeDate:
		return &leadsv1.CustomValue{Value: &leadsv1.CustomValue_DateValue{DateValue: v.Date}}
	}
	return &leadsv1.CustomValue{}
}

// CustomValueFromProto maps a custom value; one with no value set is the zero Value (of
// unspecified type). Requests reject that case (see NewLeadFromProto).
func CustomValueFromProto(p *leadsv1.CustomValue) customfield.Value {
	switch x := p.GetValue().(type) {
	case *leadsv1.CustomValue_StringValue:
		return customfield.StringValue(x.StringValue)
	case *leadsv1.CustomValue_NumberValue:
		return customfield.NumberValue(x.NumberValue)
	case *leadsv1.CustomValue_BoolValue:
		return customfield.BoolValue(x.BoolValue)
	case *leadsv1.CustomValue_DateValue:
		return customfield.DateValue(x.DateValue)
	}
	return customfield.Value{}
}

// ScoreToProto maps a score; the zero Score (never scored) is an unset field.
func ScoreToProto(s scoring.Score) *leadsv1.Score {
	if s == (scoring.Score{}) {
		return nil
	}
	return &leadsv1.Score{Fit: s.Fit, Engagement: s.Engagement, Total: s.Total,
		Temperature: TemperatureToProto(s.Temperature), ModelVersion: s.ModelVersion,
		ScoredAt: ts(s.ScoredAt)}
}

// ScoreFromProto is the inverse of ScoreToProto.
func ScoreFromProto(p *leadsv1.Score) scoring.Score {
	return scoring.Score{Fit: p.GetFit(), Engagement: p.GetEngagement(), Total: p.GetTotal(),
		Temperature: TemperatureFromProto(p.GetTemperature()), ModelVersion: p.GetModelVersion(),
		ScoredAt: fromTS(p.GetScoredAt())}
}

// EngagementToProto maps a running engagement total; the zero total is an unset field.
func EngagementToProto(e scoring.Engagement) *leadsv1.Engagement {
	if e.IsZero() {
		return nil
	}
	return &leadsv1.Engagement{Value: e.Value, AsOf: ts(e.AsOf)}
}

// EngagementFromProto is the inverse of EngagementToProto.
func EngagementFromProto(p *leadsv1.Engagement) scoring.Engagement {
	return scoring.Engagement{Value: p.GetValue(), AsOf: fromTS(p.GetAsOf())}
}

// ConvertedToProto maps the records of a conversion; unset when the lead is not converted.
func ConvertedToProto(c lead.ConvertedRecords) *leadsv1.ConvertedRecords {
	if c == (lead.ConvertedRecords{}) {
		return nil
	}
	return &leadsv1.ConvertedRecords{ContactId: c.ContactID, AccountId: c.AccountID,
		OpportunityId: c.OpportunityID, ConvertedAt: ts(c.ConvertedAt)}
}

// ConvertedFromProto is the inverse of ConvertedToProto.
func ConvertedFromProto(p *leadsv1.ConvertedRecords) lead.ConvertedRecords {
	return lead.ConvertedRecords{ContactID: p.GetContactId(), AccountID: p.GetAccountId(),
		OpportunityID: p.GetOpportunityId(), ConvertedAt: fromTS(p.GetConvertedAt())}
}

// cloneOrNil copies s; an empty s is nil (proto does not tell empty from absent).
func cloneOrNil[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}
