package app

import (
	"context"

	"github.com/evcrm/evcrm/services/leads/internal/domain/dedupe"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/territory"
)

// LeadRow is a lead row: the create command, and the update to apply to an existing lead under
// DedupeUpdate (the row's non-empty, updatable fields).
type LeadRow struct {
	New    lead.NewLead
	Update lead.Update
}

func leadRowKeys(r LeadRow) []string {
	keys := dedupe.Keys(r.New.Details.Email, r.New.Details.Phone)
	for i, k := range keys {
		keys[i] = "lead/" + k
	}
	return keys
}

// importLead writes one lead row; busy reports a claim another writer holds for now.
func (r *importRun) importLead(ctx context.Context, id string, line int, row LeadRow) (RowResult, bool) {
	row.New.ID = id
	if r.o.DryRun {
		return r.dryRunLead(ctx, id, row), false
	}
	res, err := r.a.CreateLead(ctx, r.tenant, row.New, r.o.Dedupe == DedupeAllow, Write{})
	switch {
	case err == nil:
		return RowResult{Outcome: RowCreated, RecordID: res.Lead.ID}, false
	case ownCreate(err, id):
		return RowResult{Outcome: RowCreated, RecordID: id}, false
	case isBusy(err):
		return r.failed(err), true
	}
	existing, why, dup := duplicate(err, "DUPLICATE_LEAD")
	if !dup {
		return r.failed(err), false
	}
	// A duplicate out of the user's scope (claimError withholds its id) is skipped, never
	// updated: an import changes only the leads its user may change.
	if r.o.Dedupe != DedupeUpdate || existing == "" {
		return RowResult{Outcome: RowSkipped, RecordID: existing, Reason: duplicateOf(ImportLeads, existing, why)}, false
	}
	if len(row.Update.Paths) == 0 {
		return RowResult{Outcome: RowSkipped, RecordID: existing, Reason: duplicateOf(ImportLeads, existing, why) + "; the row has no field to update"}, false
	}
	if _, err := r.a.UpdateLead(ctx, r.tenant, existing, row.Update, Write{IdempotencyKey: r.idempotencyKey(line)}); err != nil {
		res := r.failed(err)
		res.RecordID = existing
		return res, isBusy(err)
	}
	return RowResult{Outcome: RowUpdated, RecordID: existing}, false
}

// dryRunLead validates the row as CreateLead would and checks for duplicates, writing nothing
// (no round-robin turn is taken either).
func (r *importRun) dryRunLead(ctx context.Context, id string, row LeadRow) RowResult {
	cfg, err := r.a.Config(ctx, r.tenant)
	if err != nil {
		return r.failed(err)
	}
	noTurn := func(territory.Territory) (string, error) { return "", nil }
	if _, err := lead.Create(lead.Lead{}, row.New, cfg.Policy(), noTurn, r.a.now(ctx)); err != nil {
		return r.failed(err)
	}
	if r.o.Dedupe == DedupeAllow {
		return RowResult{Outcome: RowCreated, RecordID: id}
	}
	keys := dedupe.Keys(row.New.Details.Email, row.New.Details.Phone)
	res := r.dryRunDuplicate(ctx, r.a.d.Keys, id, keys, ImportLeads, "a lead", len(row.Update.Paths) > 0)
	if res.RecordID == "" || res.RecordID == id {
		return res
	}
	// As the real run answers a duplicate out of the user's scope: skipped, not named.
	if ok, err := r.a.visibleLead(ctx, r.tenant, res.RecordID); err != nil {
		return r.failed(err)
	} else if !ok {
		return RowResult{Outcome: RowSkipped, Reason: duplicateOf(ImportLeads, "", "a lead with this email or phone exists")}
	}
	return res
}
