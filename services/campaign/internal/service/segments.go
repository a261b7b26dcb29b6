package service

import (
	"context"

	"github.com/evcrm/evcrm/services/campaign/internal/app"
)

// buildSegments builds the adapters of this part (helper C2 fills it in).
func buildSegments(ctx context.Context, e env, deps *app.Deps, s *Service) error { return nil }
