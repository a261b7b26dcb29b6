package protomap

import (
	"fmt"
	"slices"

	"github.com/evcrm/evcrm/libs/apperr"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/money/moneypb"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/contract"
)

// NewContractFromProto maps a CreateContract request to the command for contract id (chosen by
// the app). Only settable fields are read. Malformed dates and amounts are violations on their
// paths ("contract.start_date", "contract.value"). Defaults that need the opportunity (account,
// owner, value when not given — an unset value is the zero Money) are the app's to fill; the
// default renewal date is the domain's.
func NewContractFromProto(req *pipelinev1.CreateContractRequest, id string) (contract.NewContract, error) {
	p := req.GetContract()
	if p == nil {
		return contract.NewContract{}, required("contract", "invalid contract")
	}
	var v apperr.Violations
	c := contract.NewContract{ID: id, OpportunityID: p.GetOpportunityId(), AccountID: p.GetAccountId(),
		Details: requestContractDetails(p, "contract.", func(string) bool { return true }, &v)}
	if err := v.Err("invalid contract"); err != nil {
		return contract.NewContract{}, err
	}
	return c, nil
}

// contractNotUpdatable are Contract fields UpdateContract does not change, with the RPC that
// does ("" for output-only and create-only fields).
var contractNotUpdatable = map[string]string{
	"id": "", "version": "", "opportunity_id": "", "account_id": "", "termination_reason": "",
	"termination_effective_date": "", "created_at": "", "updated_at": "", "term_start": "",
	"status": "ActivateContract, TerminateContract or RenewContract",
}

// ContractUpdateFromProto maps an UpdateContract request. Mask paths are the domain's
// (contract.Paths); any other path is a violation ("update_mask.paths[i]"). Values of the named
// fields are checked ("contract.end_date", "contract.value"); fields not named are ignored. An
// empty mask is passed on: the domain rejects it.
func ContractUpdateFromProto(req *pipelinev1.UpdateContractRequest) (contract.Update, error) {
	var v apperr.Violations
	known := contract.Paths()
	var paths []string
	for i, path := range req.GetUpdateMask().GetPaths() {
		field := fmt.Sprintf("update_mask.paths[%d]", i)
		switch rpc, out := contractNotUpdatable[path]; {
		case slices.Contains(known, path):
			paths = append(paths, path)
		case out && rpc != "":
			v.Add(field, "%q is not changed by UpdateContract; use %s", path, rpc)
		case out:
			v.Add(field, "%q cannot be changed", path)
		default:
			v.Add(field, "unknown field %q", path)
		}
	}
	d := requestContractDetails(req.GetContract(), "contract.", func(p string) bool { return slices.Contains(paths, p) }, &v)
	if err := v.Err("invalid contract update"); err != nil {
		return contract.Update{}, err
	}
	return contract.Update{Paths: paths, Details: d}, nil
}

// requestContractDetails maps the changeable fields of a contract, adding violations for
// touched malformed dates and amounts (untouched ones are dropped).
func requestContractDetails(p *pipelinev1.Contract, prefix string, touched func(string) bool, v *apperr.Violations) contract.Details {
	var ignored apperr.Violations
	vs := func(path string) *apperr.Violations {
		if touched(path) {
			return v
		}
		return &ignored
	}
	return contract.Details{
		OwnerID:     p.GetOwnerId(),
		StartDate:   requestDate(p.GetStartDate(), prefix+contract.PathStartDate, vs(contract.PathStartDate)),
		EndDate:     requestDate(p.GetEndDate(), prefix+contract.PathEndDate, vs(contract.PathEndDate)),
		Value:       moneypb.RequestAmount(p.GetValue(), prefix+contract.PathValue, vs(contract.PathValue)),
		Terms:       p.GetTerms(),
		RenewalDate: requestDate(p.GetRenewalDate(), prefix+contract.PathRenewalDate, vs(contract.PathRenewalDate)),
		AutoRenew:   p.GetAutoRenew(),
	}
}

// TerminationFromProto maps a TerminateContract request; a malformed effective_date is a
// violation (empty: today, the domain's default).
func TerminationFromProto(req *pipelinev1.TerminateContractRequest) (contract.Termination, error) {
	d, err := DateFromProto(req.GetEffectiveDate(), "effective_date")
	if err != nil {
		return contract.Termination{}, err
	}
	return contract.Termination{Reason: req.GetReason(), EffectiveDate: d}, nil
}

// RenewalFromProto maps a RenewContract request: malformed dates ("end_date", "renewal_date")
// and a malformed value ("value") are violations; an unset value (nil) keeps the current one.
func RenewalFromProto(req *pipelinev1.RenewContractRequest) (contract.Renewal, error) {
	var v apperr.Violations
	r := contract.Renewal{NewEndDate: requestDate(req.GetEndDate(), "end_date", &v),
		NewRenewalDate: requestDate(req.GetRenewalDate(), "renewal_date", &v),
		NewValue:       requestMoneyPtr(req.GetValue(), "value", &v)}
	if err := v.Err("invalid renewal"); err != nil {
		return contract.Renewal{}, err
	}
	return r, nil
}
