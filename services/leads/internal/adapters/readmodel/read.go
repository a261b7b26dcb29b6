package readmodel

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// selectColumns are read by scanLead, in this order.
const selectColumns = `l.tenant, l.id, l.first_name, l.last_name, l.last_name_key, l.email, l.phone, l.company,
	l.job_title, l.country, l.region, l.city, l.industry, l.source, l.campaign_id, l.owner, l.territory, l.status,
	l.temperature, l.fit_score, l.engagement_score, l.total_score, l.tags, l.created_at, l.updated_at, l.version, l.seq, l.doc`

// scanned is a row plus the raw sort keys a cursor is built from.
type scanned struct {
	LeadRow
	lastNameKey string
	createdNs   int64
	updatedNs   int64
}

func scanLead(sc interface{ Scan(...any) error }, extra ...any) (scanned, error) {
	var r scanned
	var tags string
	var version, seq int64
	dest := append(extra,
		&r.Tenant, &r.ID, &r.FirstName, &r.LastName, &r.lastNameKey, &r.Email, &r.Phone, &r.Company,
		&r.JobTitle, &r.Country, &r.Region, &r.City, &r.Industry, &r.Source, &r.CampaignID, &r.Owner, &r.Territory, &r.Status,
		&r.Temperature, &r.FitScore, &r.EngagementScore, &r.TotalScore, &tags, &r.createdNs, &r.updatedNs, &version, &seq, &r.Doc)
	if err := sc.Scan(dest...); err != nil {
		return r, err
	}
	r.Tags = splitTags(tags)
	r.CreatedAt, r.UpdatedAt = timeFromDB(r.createdNs), timeFromDB(r.updatedNs)
	r.Version, r.Sequence = uint64(version), uint64(seq)
	return r, nil
}

// Get returns one lead; ErrNotFound when the tenant has no lead with that id.
func (s *Store) Get(ctx context.Context, tenant, id string) (LeadRow, error) {
	if err := s.checkOpen(); err != nil {
		return LeadRow{}, err
	}
	row := s.r.QueryRowContext(ctx, `SELECT `+selectColumns+` FROM leads l WHERE l.tenant = ? AND l.id = ?`, tenant, id)
	r, err := scanLead(row)
	if errors.Is(err, sql.ErrNoRows) {
		return LeadRow{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return LeadRow{}, fmt.Errorf("readmodel: get %s/%s: %w", tenant, id, err)
	}
	return r.LeadRow, nil
}
