package app

import (
	"context"

	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

// Opportunities opens opportunities in the pipeline service (DESIGN §1: a request that needs an
// answer now goes over gRPC). The adapter is internal/adapters/pipelineclient.
//
// Create must be safe to repeat: the pipeline service answers a repeat of IdempotencyKey with
// the first outcome, and an existing ID with apperr AlreadyExists naming it. Errors are apperr
// values: Unavailable when pipeline cannot be reached (or did not answer in time), Invalid with
// field violations named as ConvertLeadRequest names them ("opportunity.name", "owner_id"),
// Conflict when another executor holds the idempotency key.
type Opportunities interface {
	Create(ctx context.Context, tenant, actor string, o NewOpportunity) (id string, err error)
}

// NewOpportunity is the opportunity a conversion opens.
type NewOpportunity struct {
	// ID is the opportunity id the conversion derived (ConversionIDs.Opportunity).
	ID string
	// IdempotencyKey is derived from the conversion, so every retry of it sends the same key.
	IdempotencyKey string
	Name           string
	AccountID      string
	ContactID      string
	LeadID         string
	// OwnerID empty: the pipeline service makes the caller the owner.
	OwnerID string
	// Amount zero: the pipeline's default currency, amount 0.
	Amount lead.Money
	// ExpectedCloseDate is YYYY-MM-DD.
	ExpectedCloseDate string
	// PipelineID and StageID empty: the pipeline service's defaults.
	PipelineID string
	StageID    string
	// Source and CampaignID are the lead's, for attribution.
	Source     lead.Source
	CampaignID string
}
