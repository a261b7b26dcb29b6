// Package protomap maps between the campaign service's domain packages and the crm.campaign.v1
// protobuf types: the event codecs of the aggregates, state mappers (*ToProto and their
// inverses) and request mappers that report undecodable input (unknown enum numbers, malformed
// amounts) as apperr Invalid errors with the request's field paths. Each part of the service
// has its own files (campaign*.go, member*.go, segment*.go, rule*.go).
package protomap

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/evcrm/evcrm/libs/apperr"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/libs/money/moneypb"
	"github.com/evcrm/evcrm/libs/protoconv"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
)

// CampaignToProto maps a campaign state.
func CampaignToProto(c campaign.Campaign) *campaignv1.Campaign {
	p := DetailsToProto(c.Details)
	p.Id = c.ID
	p.Version = c.Version
	p.Status = campaignv1.CampaignStatus(c.Status)
	p.ActualCost = moneyToProto(c.ActualCost)
	p.CreatedAt = protoconv.Timestamp(c.CreatedAt)
	p.UpdatedAt = protoconv.Timestamp(c.UpdatedAt)
	return p
}

// DetailsToProto maps the client-set fields of a campaign.
func DetailsToProto(d campaign.Details) *campaignv1.Campaign {
	p := &campaignv1.Campaign{
		Name:             d.Name,
		Description:      d.Description,
		Channel:          campaignv1.CampaignChannel(d.Channel),
		StartDate:        d.StartDate,
		EndDate:          d.EndDate,
		Budget:           moneyToProto(d.Budget),
		ExpectedRevenue:  moneyToProto(d.ExpectedRevenue),
		ParentCampaignId: d.ParentCampaignID,
		OwnerId:          d.OwnerID,
		TargetSegmentId:  d.TargetSegmentID,
	}
	if d.ExpectedResponsePercent != "" {
		p.ExpectedResponsePercent = &commonv1.Decimal{Value: d.ExpectedResponsePercent}
	}
	for _, s := range d.MemberStatuses {
		p.MemberStatuses = append(p.MemberStatuses, &campaignv1.MemberStatus{Name: s.Name, Kind: campaignv1.ResponseKind(s.Kind), Responded: s.Responded})
	}
	return p
}

// CampaignFromProto is the inverse of CampaignToProto for values it wrote (events, stored
// rows); it does not validate.
func CampaignFromProto(p *campaignv1.Campaign) (campaign.Campaign, error) {
	d, err := detailsFromProto(p, "")
	if err != nil {
		return campaign.Campaign{}, err
	}
	cost, err := moneyFromProto(p.GetActualCost())
	if err != nil {
		return campaign.Campaign{}, fmt.Errorf("actual_cost: %w", err)
	}
	return campaign.Campaign{
		ID: p.GetId(), Version: p.GetVersion(), Details: d, Status: campaign.Status(p.GetStatus()), ActualCost: cost,
		CreatedAt: protoconv.Time(p.GetCreatedAt()), UpdatedAt: protoconv.Time(p.GetUpdatedAt()),
	}, nil
}

// DetailsFromProto maps the client-set fields of a request's campaign; prefix is the path of
// the campaign in the request ("campaign"). Unknown enum numbers and amounts that are not
// decimals are Invalid with their paths; ranges and business rules are the domain's.
func DetailsFromProto(p *campaignv1.Campaign, prefix string) (campaign.Details, error) {
	var v apperr.Violations
	at := func(f string) string { return prefix + "." + f }
	if _, ok := campaignv1.CampaignChannel_name[int32(p.GetChannel())]; !ok {
		v.Add(at("channel"), "unknown channel %d", p.GetChannel())
	}
	for i, s := range p.GetMemberStatuses() {
		if _, ok := campaignv1.ResponseKind_name[int32(s.GetKind())]; !ok {
			v.Add(fmt.Sprintf("%s[%d].kind", at("member_statuses"), i), "unknown kind %d", s.GetKind())
		}
	}
	for _, m := range []struct {
		path string
		m    *commonv1.Money
	}{{"budget", p.GetBudget()}, {"expected_revenue", p.GetExpectedRevenue()}} {
		if _, err := moneyFromProto(m.m); err != nil {
			v.Add(at(m.path), "%v", err)
		}
	}
	if e := p.GetExpectedResponsePercent(); e != nil && e.GetValue() != "" {
		if _, err := decimal.NewFromString(e.GetValue()); err != nil {
			v.Add(at("expected_response_percent.value"), "not a decimal")
		}
	}
	if err := v.Err("invalid campaign"); err != nil {
		return campaign.Details{}, err
	}
	return detailsFromProto(p, prefix)
}

func detailsFromProto(p *campaignv1.Campaign, prefix string) (campaign.Details, error) {
	budget, err := moneyFromProto(p.GetBudget())
	if err != nil {
		return campaign.Details{}, fmt.Errorf("%sbudget: %w", prefix, err)
	}
	rev, err := moneyFromProto(p.GetExpectedRevenue())
	if err != nil {
		return campaign.Details{}, fmt.Errorf("%sexpected_revenue: %w", prefix, err)
	}
	d := campaign.Details{
		Name: p.GetName(), Description: p.GetDescription(), Channel: campaign.Channel(p.GetChannel()),
		StartDate: p.GetStartDate(), EndDate: p.GetEndDate(), Budget: budget, ExpectedRevenue: rev,
		ParentCampaignID: p.GetParentCampaignId(), OwnerID: p.GetOwnerId(), TargetSegmentID: p.GetTargetSegmentId(),
	}
	if e := p.GetExpectedResponsePercent().GetValue(); e != "" {
		if x, err := decimal.NewFromString(e); err == nil {
			d.ExpectedResponsePercent = x.String()
		} else {
			d.ExpectedResponsePercent = e
		}
	}
	for _, s := range p.GetMemberStatuses() {
		d.MemberStatuses = append(d.MemberStatuses, campaign.MemberStatus{Name: s.GetName(), Kind: campaign.Kind(s.GetKind()), Responded: s.GetResponded()})
	}
	return d, nil
}

// moneyToProto maps an amount; the zero Money is nil. Every amount of a campaign came in
// through moneyFromProto (at most 9 fraction digits, within MaxAmount) and totals stay within
// money.MaxAmount (RecordCost), so each has a wire form; one without is a bug upstream.
func moneyToProto(m money.Money) *commonv1.Money {
	p, err := moneypb.ToProto(m)
	if err != nil {
		panic(fmt.Sprintf("campaign: %v", err))
	}
	return p
}

// moneyFromProto maps an amount (moneypb.FromProto); nil is the zero Money. The campaign's
// totals are kept within money.MaxAmount, so an amount beyond it is refused here too.
func moneyFromProto(p *commonv1.Money) (money.Money, error) {
	m, err := moneypb.FromProto(p)
	if err != nil {
		return money.Money{}, err
	}
	if m.Amount.Abs().GreaterThan(money.MaxAmount) {
		return money.Money{}, fmt.Errorf("amount too large")
	}
	return m, nil
}

// CostEntryToProto maps a cost entry.
func CostEntryToProto(e campaign.CostEntry) *campaignv1.CostEntry {
	return &campaignv1.CostEntry{Amount: moneyToProto(e.Amount), Date: e.Date, Description: e.Description}
}

// CostEntryFromProto maps a request's cost entry (field paths under "entry").
func CostEntryFromProto(p *campaignv1.CostEntry) (campaign.CostEntry, error) {
	m, err := moneyFromProto(p.GetAmount())
	if err != nil {
		return campaign.CostEntry{}, apperr.InvalidFields("invalid amount", apperr.FieldViolation{Field: "entry.amount", Description: err.Error()})
	}
	return campaign.CostEntry{Amount: m, Date: p.GetDate(), Description: p.GetDescription()}, nil
}

// StatusFromProto maps a requested campaign status; unknown numbers are a violation of field.
func StatusFromProto(s campaignv1.CampaignStatus, field string) (campaign.Status, error) {
	if _, ok := campaignv1.CampaignStatus_name[int32(s)]; !ok || s == campaignv1.CampaignStatus_CAMPAIGN_STATUS_UNSPECIFIED {
		return 0, apperr.InvalidFields("invalid status", apperr.FieldViolation{Field: field, Description: "required: one of the CampaignStatus values"})
	}
	return campaign.Status(s), nil
}
