package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/evcrm/evcrm/libs/apperr"
)

// keyLookup is implemented by uniqueness indexes that can say who holds a key without
// claiming it (adapters/uniqueness.Index); dry runs use it to report duplicates.
type keyLookup interface {
	Lookup(ctx context.Context, tenant, key string) (string, bool, error)
}

// lookupHolder returns the record holding any of keys, asking the dry run's own earlier rows
// first and then the index.
func (r *importRun) lookupHolder(ctx context.Context, idx KeyIndex, id string, keys []string) (holder, kind string, found bool, err error) {
	if h, k, ok := r.dryClaim(id, keys); ok {
		kind, _, _ = strings.Cut(k, "_")
		return h, kind, true, nil
	}
	l, ok := idx.(keyLookup)
	if !ok {
		return "", "", false, nil
	}
	for _, k := range keys {
		h, ok, err := l.Lookup(ctx, r.tenant, k)
		if err != nil {
			return "", "", false, err
		}
		if ok && h != id {
			kind, _, _ = strings.Cut(k, "_")
			return h, kind, true, nil
		}
	}
	return "", "", false, nil
}

// failed turns an error of a command into a failed row: field violations keep their paths
// (without the request's "lead."/"contact."/"account." prefix) and gain their column.
func (r *importRun) failed(err error) RowResult {
	ae, ok := apperr.As(err)
	if !ok || ae.Kind == apperr.Internal || ae.Kind == apperr.Unavailable {
		return RowResult{Outcome: RowFailed, Reason: "could not be written now; re-run the import with the same import_id to retry this row"}
	}
	res := RowResult{Outcome: RowFailed, Reason: ae.Message}
	for _, f := range ae.Fields {
		field := trimObjectPrefix(f.Field)
		res.Errors = append(res.Errors, RowError{Field: field, Column: r.o.ColumnOf(field), Description: f.Description})
	}
	return res
}

func trimObjectPrefix(field string) string {
	for _, p := range []string{"lead.", "contact.", "account."} {
		if s, ok := strings.CutPrefix(field, p); ok {
			return s
		}
	}
	return field
}

// duplicateOf is the reason of a row matching an existing record.
// A lead out of the importing user's row-level scope is not named (id "").
func duplicateOf(o ImportObject, id, why string) string {
	if id == "" {
		return fmt.Sprintf("duplicate of a %s outside your scope (%s)", o, why)
	}
	if why == "" {
		return fmt.Sprintf("duplicate of %s %s", o, id)
	}
	return fmt.Sprintf("duplicate of %s %s (%s)", o, id, why)
}

// isBusy reports a uniqueness claim held pending by a concurrent writer: worth a retry.
func isBusy(err error) bool {
	ae, ok := apperr.As(err)
	return ok && ae.Reason == "DUPLICATE_CHECK_BUSY"
}

// ownCreate reports an AlreadyExists for the row's own id: an earlier run of the same import
// created it.
func ownCreate(err error, id string) bool {
	ae, ok := apperr.As(err)
	return ok && ae.Kind == apperr.AlreadyExists && ae.ExistingID == id && ae.Reason == ""
}

// duplicate returns the existing record's id when err is a dedupe rejection with reason.
func duplicate(err error, reason string) (string, string, bool) {
	ae, ok := apperr.As(err)
	if !ok || ae.Kind != apperr.AlreadyExists || ae.Reason != reason {
		return "", "", false
	}
	return ae.ExistingID, ae.Message, true
}

// createOrUpdate writes a contact or account row: create returns the new record's id; when
// the create is a dedupe rejection with dupReason, the row is skipped, or under DedupeUpdate
// (hasUpdate: the row names fields to update) update writes it to the existing record.
// Leads add a reason of their own for a row with nothing to update, so they keep their flow.
func (r *importRun) createOrUpdate(id string, line int, o ImportObject, dupReason string, hasUpdate bool,
	create func() (string, error), update func(existing string, w Write) error) (RowResult, bool) {
	created, err := create()
	switch {
	case err == nil:
		return RowResult{Outcome: RowCreated, RecordID: created}, false
	case ownCreate(err, id):
		return RowResult{Outcome: RowCreated, RecordID: id}, false
	case isBusy(err):
		return r.failed(err), true
	}
	existing, why, dup := duplicate(err, dupReason)
	if !dup {
		return r.failed(err), false
	}
	// existing is "" for a record out of the importing user's row-level scope (the claim
	// error does not name it): the row is skipped, never written to that record.
	if r.o.Dedupe != DedupeUpdate || !hasUpdate || existing == "" {
		return RowResult{Outcome: RowSkipped, RecordID: existing, Reason: duplicateOf(o, existing, why)}, false
	}
	if err := update(existing, Write{IdempotencyKey: r.idempotencyKey(line)}); err != nil {
		res := r.failed(err)
		res.RecordID = existing
		return res, isBusy(err)
	}
	return RowResult{Outcome: RowUpdated, RecordID: existing}, false
}

// dryRunDuplicate is the outcome a dry run reports for a valid row: created unless a record
// (noun: "a contact") already holds one of keys, then updated or skipped as the dedupe policy
// and hasUpdate (the row names fields to update) say.
func (r *importRun) dryRunDuplicate(ctx context.Context, idx KeyIndex, id string, keys []string, o ImportObject, noun string, hasUpdate bool) RowResult {
	holder, kind, found, err := r.lookupHolder(ctx, idx, id, keys)
	if err != nil {
		return r.failed(err)
	}
	switch {
	case !found:
		return RowResult{Outcome: RowCreated, RecordID: id}
	case r.o.Dedupe == DedupeUpdate && hasUpdate:
		return RowResult{Outcome: RowUpdated, RecordID: holder}
	}
	why := ""
	if kind != "" {
		why = noun + " with this " + kind + " exists"
	}
	return RowResult{Outcome: RowSkipped, RecordID: holder, Reason: duplicateOf(o, holder, why)}
}
