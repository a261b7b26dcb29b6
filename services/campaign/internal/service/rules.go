package service

import (
	"context"

	"github.com/evcrm/evcrm/services/campaign/internal/app"
)

// buildRules builds the adapters of this part (helper C3 fills it in).
func buildRules(ctx context.Context, e env, deps *app.Deps, s *Service) error { return nil }
