package app

import (
	"context"
	"slices"
	"strings"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/reqctx"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
)

// maxCampaignDepth bounds the walk up the parent chain: programs nest a few levels, and the
// walk must end even if the log somehow holds a cycle.
const maxCampaignDepth = 32

// CampaignView is a campaign with its member counts (GetCampaign).
type CampaignView struct {
	Campaign campaign.Campaign
	Counts   Counts
}

// CreateCampaign creates a PLANNED campaign. Field violations name the Campaign's fields under
// "campaign".
func (a *App) CreateCampaign(ctx context.Context, tenant string, d campaign.Details, w Write) (campaign.Campaign, eventstore.Result, error) {
	if d.ParentCampaignID != "" {
		if err := a.checkParent(ctx, tenant, "", d.ParentCampaignID); err != nil {
			return campaign.Campaign{}, eventstore.Result{}, err
		}
	}
	id := a.d.NewID()
	now := a.now(ctx)
	ref := a.d.Campaigns.Campaigns.Ref(tenant, id)
	c, res, err := a.d.Campaigns.Campaigns.Run(ctx, ref, eventstore.Command{Name: "CreateCampaign", IdempotencyKey: w.IdempotencyKey, New: true},
		func(c campaign.Campaign) ([]campaign.Event, error) {
			return campaign.Create(c, id, d, now)
		})
	if err != nil {
		return campaign.Campaign{}, eventstore.Result{}, apperr.RenameFields(err, campaignField)
	}
	a.campaigns.put(tenant, c)
	return c, res, nil
}

// campaignField names a domain violation as the request does: the campaign's own fields are
// under "campaign", the rest (update_mask, entry, status, note) are request fields already.
func campaignField(f string) string {
	head := f
	if i := strings.IndexAny(f, ".["); i >= 0 {
		head = f[:i]
	}
	if slices.Contains(campaign.Paths(), head) {
		return "campaign." + f
	}
	return f
}

// GetCampaign returns a campaign with its member counts per status.
func (a *App) GetCampaign(ctx context.Context, tenant, id string, r Read) (CampaignView, error) {
	if !campaign.ValidID(id) {
		return CampaignView{}, apperr.InvalidFields("invalid campaign id", apperr.FieldViolation{Field: "campaign_id", Description: "required"})
	}
	if err := waitRead(ctx, a.d.Campaigns.Views, r); err != nil {
		return CampaignView{}, err
	}
	c, err := a.d.Campaigns.Views.GetCampaign(ctx, tenant, id)
	if err != nil {
		return CampaignView{}, err
	}
	n, err := a.d.Campaigns.Views.Counts(ctx, tenant, id)
	if err != nil {
		return CampaignView{}, err
	}
	return CampaignView{Campaign: c, Counts: n}, nil
}

// UpdateCampaign changes the fields named by paths. A new parent must not make the campaign
// its own ancestor.
func (a *App) UpdateCampaign(ctx context.Context, tenant, id string, u campaign.Update, w Write) (campaign.Campaign, eventstore.Result, error) {
	if !campaign.ValidID(id) {
		return campaign.Campaign{}, eventstore.Result{}, apperr.InvalidFields("invalid campaign id", apperr.FieldViolation{Field: "campaign_id", Description: "required"})
	}
	for _, p := range u.Paths {
		if p == campaign.PathParentCampaignID && u.Details.ParentCampaignID != "" {
			if err := a.checkParent(ctx, tenant, id, u.Details.ParentCampaignID); err != nil {
				return campaign.Campaign{}, eventstore.Result{}, err
			}
		}
	}
	now := a.now(ctx)
	return a.runCampaign(ctx, tenant, id, eventstore.Command{Name: "UpdateCampaign", IdempotencyKey: w.IdempotencyKey, ExpectedVersion: w.ExpectedVersion},
		func(c campaign.Campaign) ([]campaign.Event, error) {
			c.ID = id
			return campaign.UpdateDetails(c, u, now)
		})
}

// ChangeCampaignStatus moves a campaign in its lifecycle.
func (a *App) ChangeCampaignStatus(ctx context.Context, tenant, id string, to campaign.Status, note string, w Write) (campaign.Campaign, eventstore.Result, error) {
	now := a.now(ctx)
	return a.runCampaign(ctx, tenant, id, eventstore.Command{Name: "ChangeCampaignStatus", IdempotencyKey: w.IdempotencyKey, ExpectedVersion: w.ExpectedVersion},
		func(c campaign.Campaign) ([]campaign.Event, error) {
			c.ID = id
			return campaign.ChangeStatus(c, to, note, now)
		})
}

// RecordCampaignCost records money spent on a campaign.
func (a *App) RecordCampaignCost(ctx context.Context, tenant, id string, e campaign.CostEntry, w Write) (campaign.Campaign, eventstore.Result, error) {
	now := a.now(ctx)
	return a.runCampaign(ctx, tenant, id, eventstore.Command{Name: "RecordCampaignCost", IdempotencyKey: w.IdempotencyKey, ExpectedVersion: w.ExpectedVersion},
		func(c campaign.Campaign) ([]campaign.Event, error) {
			c.ID = id
			return campaign.RecordCost(c, e, now)
		})
}

// ListCampaigns lists campaigns with filters, a page at a time.
func (a *App) ListCampaigns(ctx context.Context, tenant string, f CampaignFilter, r Read) ([]campaign.Campaign, string, error) {
	var v apperr.Violations
	if f.PageSize < 0 || f.PageSize > 1000 {
		v.Add("page_size", "1 to 1000")
	}
	if f.ActiveFrom != "" && !campaign.ValidDate(f.ActiveFrom) {
		v.Add("active_from", "want YYYY-MM-DD")
	}
	if f.ActiveTo != "" && !campaign.ValidDate(f.ActiveTo) {
		v.Add("active_to", "want YYYY-MM-DD")
	}
	if err := v.Err("invalid campaign query"); err != nil {
		return nil, "", err
	}
	if err := waitRead(ctx, a.d.Campaigns.Views, r); err != nil {
		return nil, "", err
	}
	return a.d.Campaigns.Views.ListCampaigns(ctx, tenant, f)
}

func (a *App) runCampaign(ctx context.Context, tenant, id string, cmd eventstore.Command, decide func(campaign.Campaign) ([]campaign.Event, error)) (campaign.Campaign, eventstore.Result, error) {
	if !campaign.ValidID(id) {
		return campaign.Campaign{}, eventstore.Result{}, apperr.InvalidFields("invalid campaign id", apperr.FieldViolation{Field: "campaign_id", Description: "required"})
	}
	c, res, err := a.d.Campaigns.Campaigns.Run(ctx, a.d.Campaigns.Campaigns.Ref(tenant, id), cmd, decide)
	if err != nil {
		return campaign.Campaign{}, eventstore.Result{}, apperr.RenameFields(err, campaignField)
	}
	a.campaigns.put(tenant, c)
	return c, res, nil
}

// loadCampaign reads a campaign from the log (fresh).
func (a *App) loadCampaign(ctx context.Context, tenant, id string) (campaign.Campaign, error) {
	agg, err := a.d.Campaigns.Campaigns.Load(ctx, a.d.Campaigns.Campaigns.Ref(tenant, id))
	if err != nil {
		return campaign.Campaign{}, err
	}
	if !agg.State.Exists() {
		return campaign.Campaign{}, apperr.NotFoundf("campaign", id)
	}
	a.campaigns.put(tenant, agg.State)
	return agg.State, nil
}

// cachedCampaign is loadCampaign through the short-lived cache (member commands).
func (a *App) cachedCampaign(ctx context.Context, tenant, id string) (campaign.Campaign, error) {
	if c, ok := a.campaigns.get(tenant, id); ok {
		return c, nil
	}
	return a.loadCampaign(ctx, tenant, id)
}

// checkParent walks up from parent: every campaign on the way must exist and none may be
// self (id; "" for a campaign being created, which cannot be anyone's ancestor yet).
func (a *App) checkParent(ctx context.Context, tenant, self, parent string) error {
	field := "campaign." + campaign.PathParentCampaignID
	if !campaign.ValidID(parent) {
		return nil // the domain reports the malformed id
	}
	cur := parent
	for range maxCampaignDepth {
		if cur == self {
			return apperr.InvalidFields("invalid parent", apperr.FieldViolation{Field: field, Description: "the parent chain would form a cycle"})
		}
		c, err := a.loadCampaign(ctx, tenant, cur)
		if apperr.KindOf(err) == apperr.NotFound {
			return apperr.InvalidFields("invalid parent", apperr.FieldViolation{Field: field, Description: "no campaign " + cur})
		}
		if err != nil {
			return err
		}
		if c.ParentCampaignID == "" {
			return nil
		}
		cur = c.ParentCampaignID
	}
	return apperr.InvalidFields("invalid parent", apperr.FieldViolation{Field: field, Description: "the parent chain is too deep"})
}

// withTenant makes sure calls to other services carry the tenant.
func withTenant(ctx context.Context, tenant string) context.Context {
	if _, ok := reqctx.Tenant(ctx); ok {
		return ctx
	}
	return reqctx.WithTenant(ctx, tenant)
}
