package service

import (
	"context"

	"github.com/evcrm/evcrm/services/campaign/internal/app"
)

// buildCampaigns builds the adapters of this part (helper C1 fills it in).
func buildCampaigns(ctx context.Context, e env, deps *app.Deps, s *Service) error { return nil }
