package service

import (
	"github.com/nats-io/nats.go/jetstream"

	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/services/leads/internal/app"
	"github.com/evcrm/evcrm/services/leads/internal/ports/reactions"
)

// newCampaignReactions builds the durable consumer that turns the campaign service's member
// responses into engagement and opt-outs on leads and contacts. Every replica shares it (one
// name), so a response is handled once across them; the commands' idempotency keys cover
// redeliveries and replays. The leads service does not create CRM_CAMPAIGN: the campaign
// service owns it, and the runner waits for it to appear.
func newCampaignReactions(js jetstream.JetStream, a *app.App, o Options) (*projection.Runner, error) {
	return projection.NewDurable(js, projection.Config{
		Name:    reactions.CampaignResponsesName,
		Sources: []projection.Source{reactions.CampaignResponsesSource},
		// Large batches: the reaction applies different people's responses concurrently, and
		// campaigns report responses in bulk.
		BatchSize:          500,
		DeadLetterReplicas: o.Replicas,
		Logger:             o.Logger,
		Metrics:            o.Metrics,
	}, reactions.NewCampaignResponses(a, o.Logger))
}
