package protomap_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/eventstore"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/services/pipeline/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/contract"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinecfg"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

// codecCase runs one aggregate's codec over its fixtures: round trip, every payload field
// filled (but the listed ones), foreign payloads refused.
type codecCase[E interface {
	EventType() string
	OccurredAt() time.Time
}] struct {
	codec interface {
		eventstore.Codec[E]
		eventstore.OccurredAter[E]
	}
	events  []E
	types   int
	foreign proto.Message
}

func (c codecCase[E]) run(t *testing.T) {
	t.Run("round trip", func(t *testing.T) {
		t.Parallel()
		seen := map[string]bool{}
		for _, e := range c.events {
			seen[e.EventType()] = true
			msg, err := c.codec.Encode(e)
			require.NoError(t, err, e.EventType())
			assert.Equal(t, e.EventType(), eventstore.ShortType(string(msg.ProtoReflect().Descriptor().FullName())))
			assert.Empty(t, unsetFields(msg), "%s: every payload field is filled", e.EventType())
			got, err := c.codec.Decode(record(t, msg, c.codec.OccurredAt(e)))
			require.NoError(t, err, e.EventType())
			assertSame(t, e, got, e.EventType())
		}
		assert.Len(t, seen, c.types, "every event type has a fixture")
	})
	t.Run("foreign payload", func(t *testing.T) {
		t.Parallel()
		_, err := c.codec.Decode(record(t, c.foreign, t0))
		assert.Error(t, err)
	})
	t.Run("nil event", func(t *testing.T) {
		t.Parallel()
		var zero E
		_, err := c.codec.Encode(zero)
		assert.Error(t, err)
	})
}

func TestPipelineCodec(t *testing.T) {
	t.Parallel()
	occurred := at(time.Hour)
	codecCase[pipelinedef.Event]{
		codec: protomap.PipelineCodec{},
		events: []pipelinedef.Event{
			pipelinedef.PipelineDefined{Pipeline: fullPipeline(), At: occurred},
			pipelinedef.PipelineRevised{Pipeline: fullPipeline(), Added: []string{"a", "b"}, Removed: []string{"c"},
				Renamed: []string{"prospecting"}, At: occurred},
			pipelinedef.PipelineArchived{At: occurred},
		},
		types:   3,
		foreign: &pipelinev1.OpportunityCreated{},
	}.run(t)
}

func TestConfigCodec(t *testing.T) {
	t.Parallel()
	codecCase[pipelinecfg.Event]{
		codec:   protomap.ConfigCodec{},
		events:  []pipelinecfg.Event{pipelinecfg.PipelineConfigUpdated{Config: fullConfig(), Version: 7, At: at(time.Minute)}},
		types:   1,
		foreign: &pipelinev1.PipelineArchived{},
	}.run(t)
}

func TestContractCodec(t *testing.T) {
	t.Parallel()
	occurred := at(2 * day)
	codecCase[contract.Event]{
		codec: protomap.ContractCodec{},
		events: []contract.Event{
			contract.ContractCreated{Contract: fullContract(), At: occurred},
			contract.ContractActivated{At: occurred},
			contract.ContractUpdated{Changed: contract.Paths(), Before: contract.Details{Terms: "old"},
				After: fullContractDetails(), At: occurred},
			contract.ContractTerminated{Reason: "merger", EffectiveDate: date(2025, time.December, 31), At: occurred},
			contract.ContractExpired{At: occurred},
			contract.ContractRenewed{NewEndDate: date(2027, time.March, 31), NewRenewalDate: date(2027, time.March, 1),
				NewValue: eur("130000"), Automatic: true, At: occurred},
		},
		types:   6,
		foreign: &pipelinev1.QuoteSent{},
	}.run(t)
}

// The contract's own decisions, folded from the decoded log and in memory, agree (TermStart
// included, which Apply derives).
func TestContractFoldedFromTheLogEqualsTheFoldInMemory(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	steps := []func(c contract.Contract, now time.Time) ([]contract.Event, error){
		func(c contract.Contract, now time.Time) ([]contract.Event, error) {
			return contract.Create(c, contract.NewContract{ID: "k1", OpportunityID: "o1", Details: contract.Details{
				OwnerID: "olga", StartDate: date(2025, time.March, 1), EndDate: date(2025, time.May, 31), Value: eur("900"),
				AutoRenew: true}}, opportunity.StatusWon, now)
		},
		func(c contract.Contract, now time.Time) ([]contract.Event, error) { return contract.Activate(c, now) },
		func(c contract.Contract, now time.Time) ([]contract.Event, error) {
			return contract.UpdateDetails(c, contract.Update{Paths: []string{contract.PathTerms, contract.PathEndDate},
				Details: contract.Details{Terms: "net 30", EndDate: date(2025, time.June, 30)}}, now)
		},
		func(c contract.Contract, now time.Time) ([]contract.Event, error) {
			return contract.Expire(c, time.Date(2025, 11, 5, 0, 0, 0, 0, time.UTC))
		},
		func(c contract.Contract, now time.Time) ([]contract.Event, error) {
			return contract.Renew(c, contract.Renewal{NewEndDate: c.EndDate.AddDays(365), NewValue: ptr(eur("1000"))}, now)
		},
		func(c contract.Contract, now time.Time) ([]contract.Event, error) {
			return contract.Terminate(c, contract.Termination{Reason: "merger"}, now)
		},
	}
	var codec protomap.ContractCodec
	var mem, fromLog contract.Contract
	for i, step := range steps {
		now = now.Add(day)
		evs, err := step(mem, now)
		require.NoError(t, err, "step %d", i)
		require.NotEmpty(t, evs, "step %d", i)
		for _, e := range evs {
			msg, err := codec.Encode(e)
			require.NoError(t, err)
			got, err := codec.Decode(record(t, msg, codec.OccurredAt(e)))
			require.NoError(t, err)
			mem, fromLog = contract.Apply(mem, e), contract.Apply(fromLog, got)
		}
		assertSame(t, mem, fromLog, "after step %d", i)
	}
	assert.Equal(t, contract.StatusTerminated, fromLog.Status)
	assert.NotEqual(t, civil.Date{}, fromLog.TermStart)
}
