package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StreamSpec names one stream and the aggregate types it holds.
type StreamSpec struct {
	Name string
	// AggregateTypes stored in the stream; each yields the subject filter crm.*.<type>.>.
	AggregateTypes []string
	Description    string
}

// Subjects are the stream's subject filters.
func (s StreamSpec) Subjects() []string {
	out := make([]string, len(s.AggregateTypes))
	for i, t := range s.AggregateTypes {
		out[i] = "crm.*." + t + ".>"
	}
	return out
}

// The streams of DESIGN.md §3, one per owning service. Aggregate types a service adds later are
// appended here, and EnsureStreams updates the stream's subjects.
var (
	LeadsStream = StreamSpec{
		Name:           "CRM_LEADS",
		AggregateTypes: []string{"lead", "contact", "account", "activity", "task", "leadconfig"},
		Description:    "Events of the leads service: leads, contacts, accounts, activities, tasks.",
	}
	PipelineStream = StreamSpec{
		Name:           "CRM_PIPELINE",
		AggregateTypes: []string{"opportunity", "pipeline", "contract", "pipelineconfig"},
		Description:    "Events of the pipeline service: opportunities (with their quotes), pipelines, contracts, configuration.",
	}
	CampaignStream = StreamSpec{
		Name:           "CRM_CAMPAIGN",
		AggregateTypes: []string{"campaign", "segment", "rule", "member", "rulerun", "enrollment"},
		Description:    "Events of the campaign service: campaigns, members, segments, automation rules.",
	}
)

// DefaultStreams are all CRM event streams.
func DefaultStreams() []StreamSpec { return []StreamSpec{LeadsStream, PipelineStream, CampaignStream} }

// StreamOptions are the deployment-dependent settings of the event streams.
type StreamOptions struct {
	// Replicas is 1 for development and single nodes, 3 for production clusters.
	Replicas int
	// Duplicates is the JetStream deduplication window for Nats-Msg-Id. Commands' idempotency keys
	// are kept far longer in the idempotency store; this window only catches resent messages.
	Duplicates time.Duration
	// CreateOnly creates the streams that are missing and leaves existing ones as they are: for
	// a service that consumes another service's stream. The owner keeps its stream's
	// configuration current; a consumer of another version must not rewrite it (and, with the
	// least-privilege NATS users of libs/natsperm, may not).
	CreateOnly bool
}

func (o StreamOptions) withDefaults() StreamOptions {
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.Duplicates <= 0 {
		o.Duplicates = 2 * time.Minute
	}
	return o
}

// StreamConfig is the JetStream configuration of an event stream: file storage kept forever
// (the log is the system of record), no deletes or purges, nothing discarded, atomic batches and
// direct gets allowed.
func StreamConfig(spec StreamSpec, o StreamOptions) jetstream.StreamConfig {
	o = o.withDefaults()
	return jetstream.StreamConfig{
		Name:               spec.Name,
		Description:        spec.Description,
		Subjects:           spec.Subjects(),
		Retention:          jetstream.LimitsPolicy,
		Storage:            jetstream.FileStorage,
		Replicas:           o.Replicas,
		MaxAge:             0,
		MaxMsgs:            -1,
		MaxBytes:           -1,
		MaxMsgsPerSubject:  -1,
		Discard:            jetstream.DiscardNew,
		Duplicates:         o.Duplicates,
		DenyDelete:         true,
		DenyPurge:          true,
		AllowDirect:        true,
		AllowAtomicPublish: true,
	}
}

// EnsureStreams creates the streams or updates their configuration to what this version
// expects (only creates them with StreamOptions.CreateOnly). It is safe to run from every
// replica at start.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, o StreamOptions, specs ...StreamSpec) error {
	if len(specs) == 0 {
		specs = DefaultStreams()
	}
	for _, spec := range specs {
		cfg := StreamConfig(spec, o)
		_, err := js.CreateStream(ctx, cfg)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			if o.CreateOnly {
				continue
			}
			_, err = js.UpdateStream(ctx, cfg)
		}
		if err != nil {
			return fmt.Errorf("eventstore: ensure stream %s: %w", spec.Name, err)
		}
	}
	return nil
}
