// Package leadview keeps the leads read model (adapters/readmodel, SQLite) up to date from the
// CRM_LEADS stream and answers the application's queries from it. The projector folds each
// lead's events with the domain's own Apply, so the read model's state is the aggregate's state;
// the row's document is the domain lead as JSON (the read model is rebuildable, so its document
// format may change with any release: a rebuild rewrites it).
package leadview

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/readmodel"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

// Stream is the stream the view is built from.
const Stream = "CRM_LEADS"

// caughtUp is how recently the newest event of a batch was stored for the projector to count as
// caught up with the stream (it ends the read model's bulk load of a rebuild). The projector's
// lag at steady state is milliseconds; catching up on history, it is minutes or more.
const caughtUp = 5 * time.Second

// Codec decodes lead events (protomap.LeadCodec).
type Codec = eventstore.Codec[lead.Event]

// View is both the projector (a projection.CheckpointHandler) and the query side.
type View struct {
	projection.ReadWaiter
	store *readmodel.Store
	codec Codec
}

// New returns the view over store.
func New(store *readmodel.Store, codec Codec) *View {
	return &View{store: store, codec: codec, ReadWaiter: projection.NewReadWaiter(store, Stream)}
}

// Checkpoint is the last applied sequence per stream, stored with the rows.
func (v *View) Checkpoint(ctx context.Context) (map[string]uint64, error) {
	return v.store.Checkpoint(ctx)
}

// Handle folds a batch of lead events into the rows of the leads they touch and stores them
// with the batch's last sequence in one transaction. An event whose payload does not decode is
// poison: it goes to the dead-letter stream and the lead's row stays as it was.
func (v *View) Handle(ctx context.Context, events []projection.Event) error {
	if len(events) == 0 {
		return nil
	}
	if time.Since(events[len(events)-1].Stored) < caughtUp {
		// Live events: a rebuild has caught up. The read model's bulk load, if it runs one,
		// ends before this batch, whose writers then read it back with every index.
		if err := v.store.EndBulkLoad(ctx); err != nil {
			return err
		}
	}
	type leadKey struct{ tenant, id string }
	leads := map[leadKey]lead.Lead{} // state of each lead the batch touches
	seqs := map[leadKey]uint64{}
	var order []leadKey
	var poison []error
	for _, e := range events {
		env := e.Envelope
		if env.GetAggregateType() != "lead" {
			continue
		}
		ev, err := v.codec.Decode(eventstore.Recorded{Envelope: env, Subject: e.Subject, Stream: e.Stream, Sequence: e.Sequence, Stored: e.Stored})
		if err != nil {
			poison = append(poison, projection.Poison(e, "decode lead event: "+err.Error()))
			continue
		}
		key := leadKey{env.GetTenantId(), env.GetAggregateId()}
		l, ok := leads[key]
		if !ok {
			// A lead's first event has no row to read. Should it be a redelivery, the read
			// model ignores an upsert older than the stored row, so the newer state stays.
			if env.GetAggregateVersion() != 1 {
				if l, err = v.load(ctx, env.GetTenantId(), env.GetAggregateId()); err != nil {
					return err
				}
			}
			order = append(order, key)
		}
		if env.GetAggregateVersion() <= l.Version {
			continue // already applied (a replayed batch)
		}
		leads[key] = lead.Apply(l, ev)
		seqs[key] = e.Sequence
	}
	rows := make([]readmodel.LeadRow, 0, len(order))
	for _, key := range order {
		l, ok := leads[key]
		if !ok || !l.Exists() {
			continue
		}
		row, err := toRow(l, key.tenant, seqs[key])
		if err != nil {
			return err
		}
		rows = append(rows, row)
	}
	if err := v.store.Apply(ctx, events[0].Stream, events[len(events)-1].Sequence, rows, nil); err != nil {
		return err
	}
	return errors.Join(poison...)
}

func (v *View) load(ctx context.Context, tenant, id string) (lead.Lead, error) {
	row, err := v.store.Get(ctx, tenant, id)
	if errors.Is(err, readmodel.ErrNotFound) {
		return lead.Lead{}, nil
	}
	if err != nil {
		return lead.Lead{}, err
	}
	return fromRow(row)
}

func toRow(l lead.Lead, tenant string, seq uint64) (readmodel.LeadRow, error) {
	doc, err := json.Marshal(l)
	if err != nil {
		return readmodel.LeadRow{}, fmt.Errorf("leadview: encode lead %s: %w", l.ID, err)
	}
	return readmodel.LeadRow{
		ID: l.ID, Tenant: tenant,
		FirstName: l.FirstName, LastName: l.LastName, Email: l.Email, Phone: l.Phone,
		Company: l.Company, JobTitle: l.JobTitle, Country: l.Country, Region: l.Region, City: l.City,
		Industry: l.Industry, Source: l.Source.String(), CampaignID: l.CampaignID, Owner: l.OwnerID,
		Territory: l.TerritoryID, Status: l.Status.String(), Temperature: l.Score.Temperature.String(),
		FitScore: int(l.Score.Fit), EngagementScore: int(l.Score.Engagement), TotalScore: int(l.Score.Total),
		Tags: l.Tags, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt, Version: l.Version, Sequence: seq, Doc: doc,
	}, nil
}

func fromRow(row readmodel.LeadRow) (lead.Lead, error) {
	var l lead.Lead
	if err := json.Unmarshal(row.Doc, &l); err != nil {
		return lead.Lead{}, fmt.Errorf("leadview: decode lead %s: %w", row.ID, err)
	}
	return l, nil
}

func fromRows(rows []readmodel.LeadRow) ([]lead.Lead, error) {
	out := make([]lead.Lead, len(rows))
	for i, r := range rows {
		l, err := fromRow(r)
		if err != nil {
			return nil, err
		}
		out[i] = l
	}
	return out, nil
}

// Get returns one lead.
func (v *View) Get(ctx context.Context, tenant, id string) (lead.Lead, error) {
	row, err := v.store.Get(ctx, tenant, id)
	if errors.Is(err, readmodel.ErrNotFound) {
		return lead.Lead{}, apperr.NotFoundf("lead", id)
	}
	if err != nil {
		return lead.Lead{}, err
	}
	return fromRow(row)
}

// List lists leads.
func (v *View) List(ctx context.Context, q readmodel.ListQuery) ([]lead.Lead, string, error) {
	rows, next, err := v.store.List(ctx, q)
	if err != nil {
		return nil, "", queryError(err)
	}
	leads, err := fromRows(rows)
	return leads, next, err
}

// Search searches leads.
func (v *View) Search(ctx context.Context, q readmodel.SearchQuery) ([]lead.Lead, string, error) {
	rows, next, err := v.store.Search(ctx, q)
	if err != nil {
		return nil, "", queryError(err)
	}
	leads, err := fromRows(rows)
	return leads, next, err
}

func queryError(err error) error {
	switch {
	case errors.Is(err, readmodel.ErrBadPageToken):
		return apperr.InvalidFields("invalid page token", apperr.FieldViolation{Field: "page_token", Description: "malformed, or from a query with other filters or order"})
	case errors.Is(err, readmodel.ErrBadPageSize):
		return apperr.InvalidFields("invalid page size", apperr.FieldViolation{Field: "page_size", Description: fmt.Sprintf("must be between 1 and %d", readmodel.MaxPageSize)})
	}
	return err
}
