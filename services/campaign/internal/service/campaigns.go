package service

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/platform/lifecycle"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/libs/sqlitemodel"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/campaignmodel"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/campaignview"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/leadsclient"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/campaign/internal/app"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/member"
)

// memberCacheSize is how many members' states the repository keeps: a bulk response call
// decides on cached states, so a campaign's active members should fit (a member's state is a
// few hundred bytes).
const memberCacheSize = 200_000

// buildCampaigns builds campaigns, members and responses: their repositories, the leads
// client (shared with the other parts through s.leads), the campaign read model (campaign.db)
// and its projector.
func buildCampaigns(ctx context.Context, e env, deps *app.Deps, s *Service) error {
	camps, err := eventstore.NewRepository(e.es, campaignview.CampaignType, protomap.CampaignCodec{},
		func() campaign.Campaign { return campaign.Campaign{} }, campaign.Apply,
		eventstore.RepositoryOptions{Idempotency: e.idem, CacheSize: 10_000})
	if err != nil {
		return err
	}
	memberCodec := protomap.MemberCodec{KeyPrefix: app.KeyPrefix}
	members, err := eventstore.NewRepository(e.es, campaignview.MemberType, memberCodec,
		func() member.Member { return member.Member{} }, member.Apply,
		eventstore.RepositoryOptions{Idempotency: e.idem, CacheSize: memberCacheSize, MaxAttempts: 8})
	if err != nil {
		return err
	}
	if e.o.LeadsAddr != "" {
		lc, err := leadsclient.Dial(e.o.LeadsAddr)
		if err != nil {
			return fmt.Errorf("campaign: leads client: %w", err)
		}
		s.leads = lc
		s.closers = append(s.closers, lc.Close)
	}
	path := ""
	if e.o.DataDir != "" {
		path = filepath.Join(e.o.DataDir, "campaign.db")
	}
	store, err := campaignmodel.Open(ctx, path, sqlitemodel.Options{})
	if err != nil {
		return fmt.Errorf("campaign: read model: %w", err)
	}
	s.closers = append(s.closers, store.Close)
	view := campaignview.New(store, campaignview.Codecs{Campaign: protomap.CampaignCodec{}, Member: memberCodec})
	runner, err := projection.NewOrdered(e.js, projection.Config{
		Name:               "campaign-view",
		Sources:            []projection.Source{{Stream: campaignview.Stream, FilterSubjects: campaignview.ConsumerSubjects}},
		BatchSize:          1000,
		BatchWait:          20 * time.Millisecond,
		DeadLetterReplicas: e.o.Replicas,
		Logger:             e.o.Logger,
		Metrics:            e.o.Metrics,
	}, view)
	if err != nil {
		return errors.Join(err)
	}
	s.workers = append(s.workers, lifecycle.Worker{Name: "campaign-view", Run: runner.Run})
	deps.Campaigns = app.CampaignDeps{Campaigns: camps, Members: members, Views: view}
	if s.leads != nil {
		deps.Campaigns.People = s.leads
	}
	return nil
}
