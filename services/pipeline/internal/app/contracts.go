package app

import (
	"context"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/services/pipeline/internal/adapters/readmodel"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/contract"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/forecast"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/input"
)

// ContractOutcome is a contract after a command.
type ContractOutcome = Outcome[contract.Contract]

// CreateContract drafts a contract for a won opportunity. The account, owner and value default
// to the opportunity's. The opportunity is read from the log, so a deal won a moment ago can be
// contracted at once.
func (a *App) CreateContract(ctx context.Context, tenant string, cmd contract.NewContract, w Write) (ContractOutcome, error) {
	fresh := cmd.ID == ""
	if fresh {
		cmd.ID = a.d.NewID()
	} else if !input.ValidID(cmd.ID) {
		return ContractOutcome{}, invalidID("id") // the command's field, as the domain names it
	}
	if !input.ValidID(cmd.OpportunityID) {
		return ContractOutcome{}, invalidID("opportunity_id")
	}
	opp, err := a.d.Opportunities.Load(ctx, a.d.Opportunities.Ref(tenant, cmd.OpportunityID))
	if err != nil {
		return ContractOutcome{}, err
	}
	o := opp.State
	if !opportunityInScope(ctx, o) {
		return ContractOutcome{}, apperr.NotFoundf("opportunity", cmd.OpportunityID)
	}
	if cmd.AccountID == "" {
		cmd.AccountID = o.AccountID
	}
	if cmd.Details.OwnerID == "" {
		cmd.Details.OwnerID = o.OwnerID
	}
	if cmd.Details.Value.Amount.IsZero() && cmd.Details.Value.Currency == "" {
		cmd.Details.Value = o.Amount
	}
	return execute(ctx, a, a.d.Contracts, a.d.Contracts.Ref(tenant, cmd.ID), eventstore.Command{Name: "CreateContract", New: fresh}, w,
		func(c contract.Contract, now time.Time) ([]contract.Event, error) {
			return contract.Create(c, cmd, o.Status, now)
		})
}

// onContract runs a decision on an existing contract in the caller's scope; one out of it is
// answered as a missing one (scope.go).
func (a *App) onContract(ctx context.Context, tenant, id, name string, w Write, decide func(contract.Contract, time.Time) ([]contract.Event, error)) (ContractOutcome, error) {
	if !input.ValidID(id) {
		return ContractOutcome{}, invalidID("contract_id")
	}
	inScope := func(c contract.Contract) (bool, error) {
		if !c.Exists() {
			return false, nil
		}
		return contractInScope(ctx, c, a.loggedOwner(ctx, tenant))
	}
	ref := a.d.Contracts.Ref(tenant, id)
	expected := w.ExpectedVersion // compared after the scope, as onOpportunity does
	w.ExpectedVersion = nil
	out, err := execute(ctx, a, a.d.Contracts, ref, eventstore.Command{Name: name}, w,
		func(c contract.Contract, now time.Time) ([]contract.Event, error) {
			if ok, err := inScope(c); err != nil || !ok {
				return nil, orNotFound(err, apperr.NotFoundf("contract", id))
			}
			if err := eventstore.ExpectVersion(c.Version, expected); err != nil {
				return nil, err
			}
			return decide(c, now)
		})
	if err == nil && out.Result.Replayed {
		if ok, err := inScope(out.State); err != nil || !ok {
			return ContractOutcome{}, orNotFound(err, apperr.NotFoundf("contract", id))
		}
	}
	return out, err
}

// orNotFound is err when there is one, else notFound: a failure to find out is not an answer.
func orNotFound(err, notFound error) error {
	if err != nil {
		return err
	}
	return notFound
}

// UpdateContract changes the fields named by cmd.Paths.
func (a *App) UpdateContract(ctx context.Context, tenant, id string, cmd contract.Update, w Write) (ContractOutcome, error) {
	return a.onContract(ctx, tenant, id, "UpdateContract", w, func(c contract.Contract, now time.Time) ([]contract.Event, error) {
		return contract.UpdateDetails(c, cmd, now)
	})
}

// ActivateContract puts a draft contract in force.
func (a *App) ActivateContract(ctx context.Context, tenant, id string, w Write) (ContractOutcome, error) {
	return a.onContract(ctx, tenant, id, "ActivateContract", w, contract.Activate)
}

// TerminateContract ends a contract early.
func (a *App) TerminateContract(ctx context.Context, tenant, id string, cmd contract.Termination, w Write) (ContractOutcome, error) {
	return a.onContract(ctx, tenant, id, "TerminateContract", w, func(c contract.Contract, now time.Time) ([]contract.Event, error) {
		return contract.Terminate(c, cmd, now)
	})
}

// RenewContract extends a contract by a new term.
func (a *App) RenewContract(ctx context.Context, tenant, id string, cmd contract.Renewal, w Write) (ContractOutcome, error) {
	return a.onContract(ctx, tenant, id, "RenewContract", w, func(c contract.Contract, now time.Time) ([]contract.Event, error) {
		return contract.Renew(c, cmd, now)
	})
}

// GetContract returns one contract from the read model.
func (a *App) GetContract(ctx context.Context, tenant, id string, r Read) (contract.Contract, error) {
	if !input.ValidID(id) {
		return contract.Contract{}, invalidID("contract_id")
	}
	if err := a.waitRead(ctx, r); err != nil {
		return contract.Contract{}, err
	}
	c, err := a.d.Views.GetContract(ctx, tenant, id)
	if err != nil {
		return contract.Contract{}, err
	}
	ok, err := contractInScope(ctx, c, a.viewedOwner(ctx, tenant))
	if err != nil {
		return contract.Contract{}, err
	}
	if !ok {
		return contract.Contract{}, readmodel.ContractNotFound(id)
	}
	return c, nil
}

// ListContracts lists contracts from the read model (e.g. those nearing renewal).
func (a *App) ListContracts(ctx context.Context, tenant string, f ContractFilter, r Read) ([]contract.Contract, string, error) {
	if err := a.waitRead(ctx, r); err != nil {
		return nil, "", err
	}
	f.Scope = scopeOf(ctx)
	return a.d.Views.ListContracts(ctx, tenant, f)
}

// Forecast returns the weighted forecast, now or as the log knew it at q.AsOf.
func (a *App) Forecast(ctx context.Context, tenant string, q ForecastQuery, r Read) (forecast.Forecast, error) {
	if err := a.waitRead(ctx, r); err != nil {
		return forecast.Forecast{}, err
	}
	if !q.AsOf.IsZero() && q.AsOf.After(a.now(ctx)) {
		return forecast.Forecast{}, apperr.InvalidFields("as_of is in the future",
			apperr.FieldViolation{Field: "as_of", Description: "must not be in the future"})
	}
	q.Scope = scopeOf(ctx)
	return a.d.Views.Forecast(ctx, tenant, q)
}
