package natsperm

import (
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/pii"
	"github.com/evcrm/evcrm/libs/projection"
)

// Service is what one service does with NATS. The fields name streams and buckets; the
// subjects follow from them (see [ForService]).
type Service struct {
	// Name is the service and its NATS user name.
	Name string
	// Owns are the event streams the service appends to, creates and updates.
	Owns []eventstore.StreamSpec
	// Creates are other services' streams the service may create (never update) so that it can
	// start before their owners: it consumes them. Create is idempotent when the configuration
	// matches; a different one is refused by the server, so a stale service cannot rewrite the
	// owner's stream.
	Creates []eventstore.StreamSpec
	// Reads are the streams the service consumes or reads directly (its own included).
	Reads []eventstore.StreamSpec
	// Buckets are the JetStream KV buckets the service creates and uses.
	Buckets []string
	// ShreddingBuckets are KV buckets (also in Buckets) whose messages the service may delete
	// one by one with the stream's secure erase: the data keys of libs/pii, which erasure must
	// remove from disk, not only from the bucket's view. Nobody may delete events.
	ShreddingBuckets []string
}

// IdempotencyBucket is the KV bucket of eventstore.Idempotency (its default bucket name). The
// three writing services share it; keys are per tenant and client key, not per service.
const IdempotencyBucket = "CRM_IDEMPOTENCY"

// DeadLetterStream is the stream every projection writes its dead letters to.
const DeadLetterStream = projection.DefaultDeadLetterStream

// Services is the permission table: what each service needs, found in its code (EnsureStreams
// calls, projection.Source values, CreateOrUpdateKeyValue buckets). A service that starts
// using a new stream or bucket must be added here, or its calls are refused in deployment;
// the tests of this package run the services' libraries with these users to catch that.
var Services = []Service{
	{
		Name: "leads",
		Owns: []eventstore.StreamSpec{eventstore.LeadsStream},
		// Views on its own stream, reactions to opportunity wins (CRM_PIPELINE) and campaign
		// responses (CRM_CAMPAIGN).
		Reads: []eventstore.StreamSpec{eventstore.LeadsStream, eventstore.PipelineStream, eventstore.CampaignStream},
		// Idempotency, the uniqueness indexes of leads, accounts and contacts, the round-robin
		// owner counter, and the people's data keys (crypto-shredding, libs/pii).
		Buckets:          []string{IdempotencyBucket, "CRM_LEAD_KEYS", "CRM_ACCOUNT_KEYS", "CRM_CONTACT_KEYS", "CRM_LEAD_ROUND_ROBIN", pii.DefaultBucket},
		ShreddingBuckets: []string{pii.DefaultBucket},
	},
	{
		Name:    "pipeline",
		Owns:    []eventstore.StreamSpec{eventstore.PipelineStream},
		Reads:   []eventstore.StreamSpec{eventstore.PipelineStream},
		Buckets: []string{IdempotencyBucket},
	},
	{
		Name: "campaign",
		Owns: []eventstore.StreamSpec{eventstore.CampaignStream},
		// The rule engine ensures the streams it triggers on (services/campaign rules.go).
		Creates: []eventstore.StreamSpec{eventstore.LeadsStream, eventstore.PipelineStream},
		Reads:   []eventstore.StreamSpec{eventstore.LeadsStream, eventstore.PipelineStream, eventstore.CampaignStream},
		// Idempotency, segment names, rule chains (cycle detection).
		Buckets: []string{IdempotencyBucket, "CRM_SEGMENT_NAMES", "CRM_RULE_CHAINS"},
	},
	{
		Name: "analytics",
		// The projector ensures all three streams at start (eventstore.EnsureStreams with no
		// specs) and consumes them; it appends nothing.
		Creates: eventstore.DefaultStreams(),
		Reads:   eventstore.DefaultStreams(),
		// The rebuild lease.
		Buckets: []string{"ANALYTICS_LOCKS"},
	},
}
