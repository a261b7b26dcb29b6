package service

import (
	"github.com/nats-io/nats.go/jetstream"

	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/services/leads/internal/app"
	"github.com/evcrm/evcrm/services/leads/internal/ports/reactions"
)

// newOpportunityReactions builds the durable consumer that records the pipeline service's won
// opportunities on the leads they were converted from (LeadOpportunityWon). Every replica
// shares it (one name), so a win is handled once across them; the command's idempotency key
// and the lead's set of won opportunities cover redeliveries and replays. The leads service
// does not create CRM_PIPELINE: the pipeline service owns it, and the runner waits for it to
// appear. A new consumer starts at the beginning of the stream, so the first start after an
// upgrade records the wins of the past too.
func newOpportunityReactions(js jetstream.JetStream, a *app.App, o Options) (*projection.Runner, error) {
	return projection.NewDurable(js, projection.Config{
		Name:               reactions.OpportunityWinsName,
		Sources:            []projection.Source{reactions.OpportunityWinsSource},
		DeadLetterReplicas: o.Replicas,
		Logger:             o.Logger,
		Metrics:            o.Metrics,
	}, reactions.NewOpportunityWins(a, o.Logger, reactions.WinOptions{Backfill: o.AllowBackfill}))
}
