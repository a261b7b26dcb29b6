package readmodel

import (
	"time"

	"github.com/evcrm/evcrm/services/pipeline/internal/domain/contract"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

// Batch is what one projector batch did to the read model: the state after the batch of every
// aggregate it touched. Apply stores it in one transaction with the stream's checkpoint.
type Batch struct {
	Opportunities []OpportunityChange
	Pipelines     []PipelineChange
	Contracts     []ContractChange
}

// OpportunityChange is one opportunity after a batch.
type OpportunityChange struct {
	Tenant string
	// State is the opportunity after the batch's last event of it. A State whose Version is
	// not above the stored one (a redelivery) changes nothing.
	State opportunity.Opportunity
	// Seq is the stream sequence of that event.
	Seq uint64
	// RecordedAt is when the log recorded that event (the stream's timestamp, not the event's
	// OccurredAt): the as-of forecast sees State from this instant on.
	RecordedAt time.Time
	// History lists the states the batch produced before State, oldest first, one per event,
	// each with the recorded time of its event (it may end with State itself). The as-of table
	// needs every intermediate state: the forecast as of an instant between two events of the
	// batch is the one between them. Leave it empty when the batch has one event of the
	// opportunity. Points not above the stored version are skipped, like State.
	History []HistoryPoint
}

// HistoryPoint is one state of an opportunity and when the log recorded the event that
// produced it.
type HistoryPoint struct {
	State      opportunity.Opportunity
	RecordedAt time.Time
}

// PipelineChange is one pipeline after a batch. A State whose Version is not above the stored
// one changes nothing.
type PipelineChange struct {
	Tenant string
	State  pipelinedef.State
	Seq    uint64
}

// ContractChange is one contract after a batch. A State whose Version is not above the stored
// one changes nothing.
type ContractChange struct {
	Tenant string
	State  contract.Contract
	Seq    uint64
}
