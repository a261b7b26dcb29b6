package app

import (
	"context"
	"time"

	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
	"github.com/evcrm/evcrm/services/leads/internal/domain/tenantcfg"
	"github.com/evcrm/evcrm/services/leads/internal/domain/territory"
)

// Config returns the tenant's lead configuration (defaults for a tenant that never changed it).
func (a *App) Config(ctx context.Context, tenant string) (tenantcfg.Config, error) {
	a.mu.Lock()
	c, ok := a.configs[tenant]
	a.mu.Unlock()
	if ok && time.Since(c.at) < a.d.ConfigTTL {
		return c.cfg, nil
	}
	agg, err := a.d.Configs.Load(ctx, a.configRef(tenant))
	if err != nil {
		return tenantcfg.Config{}, err
	}
	a.remember(tenant, agg.State)
	return agg.State, nil
}

func (a *App) remember(tenant string, cfg tenantcfg.Config) {
	a.mu.Lock()
	a.configs[tenant] = cachedConfig{cfg: cfg, at: time.Now()}
	a.mu.Unlock()
}

func (a *App) forget(tenant string) {
	a.mu.Lock()
	delete(a.configs, tenant)
	a.mu.Unlock()
}

// The configuration is one aggregate per tenant, its id the tenant id.
func (a *App) configRef(tenant string) eventstore.Ref { return a.d.Configs.Ref(tenant, tenant) }

// ConfigResult is the outcome of a configuration command.
type ConfigResult struct {
	Config tenantcfg.Config
	Result eventstore.Result
}

func (a *App) execConfig(ctx context.Context, tenant, name string, w Write, decide func(tenantcfg.Config, time.Time) ([]tenantcfg.Event, error)) (ConfigResult, error) {
	cmd := eventstore.Command{Name: name, IdempotencyKey: w.IdempotencyKey, ExpectedVersion: w.ExpectedVersion}
	c, res, err := a.d.Configs.Run(ctx, a.configRef(tenant), cmd,
		func(c tenantcfg.Config) ([]tenantcfg.Event, error) { return decide(c, a.now(ctx)) })
	a.forget(tenant)
	if err != nil {
		return ConfigResult{}, err
	}
	return ConfigResult{Config: c, Result: res}, nil
}

// UpdateScoringModel replaces the scoring model; the domain assigns the next version.
func (a *App) UpdateScoringModel(ctx context.Context, tenant string, m scoring.Model, w Write) (ConfigResult, error) {
	return a.execConfig(ctx, tenant, "UpdateScoringModel", w, func(c tenantcfg.Config, now time.Time) ([]tenantcfg.Event, error) {
		return tenantcfg.UpdateScoringModel(c, m, now)
	})
}

// UpsertTerritory creates or replaces a territory.
func (a *App) UpsertTerritory(ctx context.Context, tenant string, t territory.Territory, w Write) (ConfigResult, error) {
	return a.execConfig(ctx, tenant, "UpsertTerritory", w, func(c tenantcfg.Config, now time.Time) ([]tenantcfg.Event, error) {
		return tenantcfg.UpsertTerritory(c, t, now)
	})
}

// DeleteTerritory removes a territory.
func (a *App) DeleteTerritory(ctx context.Context, tenant, id string, w Write) (ConfigResult, error) {
	return a.execConfig(ctx, tenant, "DeleteTerritory", w, func(c tenantcfg.Config, now time.Time) ([]tenantcfg.Event, error) {
		return tenantcfg.RemoveTerritory(c, id, now)
	})
}

// DefineCustomField declares a custom field of obj (lead, contact, account), or changes the
// label/required flag of one.
func (a *App) DefineCustomField(ctx context.Context, tenant string, obj tenantcfg.Object, def customfield.Definition, w Write) (ConfigResult, error) {
	return a.execConfig(ctx, tenant, "DefineCustomField", w, func(c tenantcfg.Config, now time.Time) ([]tenantcfg.Event, error) {
		if _, exists := c.Fields(obj)[def.Name]; exists {
			return tenantcfg.UpdateCustomField(c, obj, def, now)
		}
		return tenantcfg.DefineCustomField(c, obj, def, now)
	})
}

// DeleteCustomField removes a custom field definition of obj.
func (a *App) DeleteCustomField(ctx context.Context, tenant string, obj tenantcfg.Object, name string, w Write) (ConfigResult, error) {
	return a.execConfig(ctx, tenant, "DeleteCustomField", w, func(c tenantcfg.Config, now time.Time) ([]tenantcfg.Event, error) {
		return tenantcfg.RemoveCustomField(c, obj, name, now)
	})
}

// UpdateSettings replaces the lifecycle settings.
func (a *App) UpdateSettings(ctx context.Context, tenant string, s lead.Settings, w Write) (ConfigResult, error) {
	return a.execConfig(ctx, tenant, "UpdateLeadSettings", w, func(c tenantcfg.Config, now time.Time) ([]tenantcfg.Event, error) {
		return tenantcfg.SetSettings(c, s, now)
	})
}
