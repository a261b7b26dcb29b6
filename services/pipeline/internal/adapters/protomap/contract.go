package protomap

import (
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/contract"
)

// ContractToProto maps the state of a contract. It fails only when the value has no wire
// form, which the domain's checks rule out.
func ContractToProto(c contract.Contract) (*pipelinev1.Contract, error) {
	var e encoder
	p := e.contract(c)
	return p, e.err
}

func (e *encoder) contract(c contract.Contract) *pipelinev1.Contract {
	p := e.contractDetails(c.Details)
	p.Id = c.ID
	p.Version = c.Version
	p.OpportunityId = c.OpportunityID
	p.AccountId = c.AccountID
	p.TermStart = DateToProto(c.TermStart)
	p.Status = ContractStatusToProto(c.Status)
	p.TerminationReason = c.TerminationReason
	p.TerminationEffectiveDate = DateToProto(c.TerminatedOn)
	p.CreatedAt = ts(c.CreatedAt)
	p.UpdatedAt = ts(c.UpdatedAt)
	return p
}

// ContractFromProto is the lossless inverse of ContractToProto for what the service wrote
// (ContractCreated, read-model records), without validation. It fails on a value that cannot
// be mapped (a malformed date or amount).
func ContractFromProto(p *pipelinev1.Contract) (contract.Contract, error) {
	var d decoder
	c := contract.Contract{
		ID:                p.GetId(),
		Version:           p.GetVersion(),
		OpportunityID:     p.GetOpportunityId(),
		AccountID:         p.GetAccountId(),
		Details:           d.contractDetails(p),
		TermStart:         d.date(p.GetTermStart(), "term start"),
		Status:            contractStatuses.domain(p.GetStatus()),
		TerminationReason: p.GetTerminationReason(),
		TerminatedOn:      d.date(p.GetTerminationEffectiveDate(), "termination date"),
		CreatedAt:         fromTS(p.GetCreatedAt()),
		UpdatedAt:         fromTS(p.GetUpdatedAt()),
	}
	if d.err != nil {
		return contract.Contract{}, d.err
	}
	return c, nil
}

// contractDetails maps the fields ContractUpdated changes into a Contract message with nothing
// else set (the partial contracts of ContractUpdated).
func (e *encoder) contractDetails(d contract.Details) *pipelinev1.Contract {
	return &pipelinev1.Contract{
		OwnerId:     d.OwnerID,
		StartDate:   DateToProto(d.StartDate),
		EndDate:     DateToProto(d.EndDate),
		Value:       e.money(d.Value),
		Terms:       d.Terms,
		RenewalDate: DateToProto(d.RenewalDate),
		AutoRenew:   d.AutoRenew,
	}
}

func (d *decoder) contractDetails(p *pipelinev1.Contract) contract.Details {
	return contract.Details{
		OwnerID:     p.GetOwnerId(),
		StartDate:   d.date(p.GetStartDate(), "start date"),
		EndDate:     d.date(p.GetEndDate(), "end date"),
		Value:       d.money(p.GetValue(), "contract value"),
		Terms:       p.GetTerms(),
		RenewalDate: d.date(p.GetRenewalDate(), "renewal date"),
		AutoRenew:   p.GetAutoRenew(),
	}
}
