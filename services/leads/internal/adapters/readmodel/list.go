package readmodel

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// SortField is what List orders by; the lead id breaks ties.
type SortField string

// Sort fields. The zero value sorts by creation time.
const (
	SortCreatedAt  SortField = "created_at"
	SortUpdatedAt  SortField = "updated_at"
	SortTotalScore SortField = "total_score"
	SortLastName   SortField = "last_name" // case-insensitive (lower-cased), then id
)

// SortDirection orders List results. The zero value is descending (newest,
// highest, Z first), the usual default of a work list.
type SortDirection int

// Sort directions.
const (
	Descending SortDirection = iota
	Ascending
)

// ListQuery selects a page of one tenant's leads. Every filter is optional;
// set filters are ORed within, and all filters are ANDed.
type ListQuery struct {
	Tenant string // required

	Statuses     []string
	Owners       []string
	Territories  []string
	Sources      []string
	Temperatures []string
	Tag          string
	CampaignID   string

	MinTotalScore *int // inclusive
	MaxTotalScore *int // inclusive

	// Ranges are [From, To): From inclusive, To exclusive; zero = open.
	CreatedFrom, CreatedTo time.Time
	UpdatedFrom, UpdatedTo time.Time

	Sort      SortField
	Direction SortDirection

	PageSize  int    // 0 = DefaultPageSize, else 1..MaxPageSize
	PageToken string // from the previous page; must come with the same query

	// Scope is the caller's row-level scope; nil lists every lead of the tenant.
	Scope *Scope
}

type sortSpec struct {
	column string
	isText bool
}

var sortColumns = map[SortField]sortSpec{
	SortCreatedAt:  {column: "created_at"},
	SortUpdatedAt:  {column: "updated_at"},
	SortTotalScore: {column: "total_score"},
	SortLastName:   {column: "last_name_key", isText: true},
}

func (q *ListQuery) normalize() (sortSpec, error) {
	if q.Tenant == "" {
		return sortSpec{}, fmt.Errorf("%w: tenant is required", ErrBadQuery)
	}
	if q.Sort == "" {
		q.Sort = SortCreatedAt
	}
	spec, ok := sortColumns[q.Sort]
	if !ok {
		return sortSpec{}, fmt.Errorf("%w: unknown sort field %q", ErrBadQuery, q.Sort)
	}
	if q.Direction != Descending && q.Direction != Ascending {
		return sortSpec{}, fmt.Errorf("%w: unknown sort direction %d", ErrBadQuery, q.Direction)
	}
	return spec, nil
}

// hash fingerprints everything that decides which rows a page holds and in
// which order; the page size may change between pages.
func (q *ListQuery) hash() string {
	var f fingerprint
	f.Str(q.Tenant)
	f.Set(q.Statuses)
	f.Set(q.Owners)
	f.Set(q.Territories)
	f.Set(q.Sources)
	f.Set(q.Temperatures)
	f.Str(q.Tag)
	f.Str(q.CampaignID)
	optInt(&f, q.MinTotalScore)
	optInt(&f, q.MaxTotalScore)
	fpTime(&f, q.CreatedFrom)
	fpTime(&f, q.CreatedTo)
	fpTime(&f, q.UpdatedFrom)
	fpTime(&f, q.UpdatedTo)
	f.Str(string(q.Sort))
	f.Str(fmt.Sprint(q.Direction))
	return f.Sum()
}

// List returns one page of leads matching q and the token of the next page
// ("" on the last page). Paging is by keyset on (sort key, id): a page costs
// the same at any depth, and rows written between pages neither shift nor
// repeat the rows that follow the cursor.
func (s *Store) List(ctx context.Context, q ListQuery) ([]LeadRow, string, error) {
	if err := s.checkOpen(); err != nil {
		return nil, "", err
	}
	spec, err := q.normalize()
	if err != nil {
		return nil, "", err
	}
	size, err := pageSize(q.PageSize)
	if err != nil {
		return nil, "", err
	}
	hash := q.hash()
	cur, err := decodeCursor(q.PageToken, "l", hash)
	if err != nil {
		return nil, "", err
	}
	if cur != nil && (cur.ID == "" || (spec.isText && cur.Int != 0) || (!spec.isText && cur.Str != "")) {
		return nil, "", ErrBadPageToken
	}

	// A rare tag is cheaper to start from than to find by walking the sort
	// index: read its leads (at most tagDriveMax) and sort them. A common
	// tag is probed per row during the walk.
	driveByTag := false
	if q.Tag != "" {
		var n int
		if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM lead_tags
			WHERE tenant = ? AND tag = ? LIMIT ?)`, q.Tenant, q.Tag, s.tagDriveMax+1).Scan(&n); err != nil {
			return nil, "", fmt.Errorf("readmodel: list: %w", err)
		}
		driveByTag = n <= s.tagDriveMax
	}

	var b sqlBuilder
	from := "leads l"
	if driveByTag {
		// CROSS JOIN fixes the loop order: tag rows outside, leads by pk.
		from = "lead_tags t CROSS JOIN leads l"
		b.where("t.tenant = ? AND t.tag = ? AND l.pk = t.lead_pk", q.Tenant, q.Tag)
	}
	b.where("l.tenant = ?", q.Tenant)
	q.Scope.where(&b)
	b.in("l.status", q.Statuses)
	b.in("l.owner", q.Owners)
	b.in("l.territory", q.Territories)
	b.in("l.source", q.Sources)
	b.in("l.temperature", q.Temperatures)
	if q.CampaignID != "" {
		b.where("l.campaign_id = ?", q.CampaignID)
	}
	if q.Tag != "" && !driveByTag {
		// Correlated probe of lead_tags' primary key per candidate row, so
		// the walk stays in sort order; an IN (subquery) would first
		// materialise every lead carrying a common tag.
		b.where("EXISTS (SELECT 1 FROM lead_tags t WHERE t.tenant = l.tenant AND t.tag = ? AND t.lead_pk = l.pk)", q.Tag)
	}
	if q.MinTotalScore != nil {
		b.where("l.total_score >= ?", *q.MinTotalScore)
	}
	if q.MaxTotalScore != nil {
		b.where("l.total_score <= ?", *q.MaxTotalScore)
	}
	if !q.CreatedFrom.IsZero() {
		b.where("l.created_at >= ?", timeToDB(q.CreatedFrom))
	}
	if !q.CreatedTo.IsZero() {
		b.where("l.created_at < ?", timeToDB(q.CreatedTo))
	}
	if !q.UpdatedFrom.IsZero() {
		b.where("l.updated_at >= ?", timeToDB(q.UpdatedFrom))
	}
	if !q.UpdatedTo.IsZero() {
		b.where("l.updated_at < ?", timeToDB(q.UpdatedTo))
	}
	op, dir := "<", "DESC"
	if q.Direction == Ascending {
		op, dir = ">", "ASC"
	}
	col := "l." + spec.column
	if cur != nil {
		var key any = cur.Int
		if spec.isText {
			key = cur.Str
		}
		// A row value comparison is one range seek on the sort index.
		b.where("("+col+", l.id) "+op+" (?, ?)", key, cur.ID)
	}
	sqlText := "SELECT " + selectColumns + " FROM " + from + " WHERE " + strings.Join(b.conds, " AND ") +
		" ORDER BY " + col + " " + dir + ", l.id " + dir + " LIMIT ?"
	args := append(b.args, size+1)

	rows, err := s.r.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, "", fmt.Errorf("readmodel: list: %w", err)
	}
	defer rows.Close()
	out := make([]LeadRow, 0, size)
	var last scanned
	more := false
	for rows.Next() {
		if len(out) == size {
			more = true
			break
		}
		r, err := scanLead(rows)
		if err != nil {
			return nil, "", fmt.Errorf("readmodel: list: %w", err)
		}
		out = append(out, r.LeadRow)
		last = r
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("readmodel: list: %w", err)
	}
	if !more {
		return out, "", nil
	}
	next := cursor{Kind: "l", Hash: hash, ID: last.ID}
	switch q.Sort {
	case SortCreatedAt:
		next.Int = last.createdNs
	case SortUpdatedAt:
		next.Int = last.updatedNs
	case SortTotalScore:
		next.Int = int64(last.TotalScore)
	case SortLastName:
		next.Str = last.lastNameKey
	}
	return out, next.encode(), nil
}

// tagDriveMax is the largest tag (in leads) List starts from; above it the
// tag is common enough that walking the sort index finds a page sooner.
const tagDriveMax = 5000

type sqlBuilder struct {
	conds []string
	args  []any
}

func (b *sqlBuilder) where(cond string, args ...any) {
	b.conds = append(b.conds, cond)
	b.args = append(b.args, args...)
}

func (b *sqlBuilder) in(col string, vals []string) {
	switch len(vals) {
	case 0:
	case 1:
		b.where(col+" = ?", vals[0])
	default:
		ph := strings.Repeat("?,", len(vals))
		args := make([]any, len(vals))
		for i, v := range vals {
			args[i] = v
		}
		b.where(col+" IN ("+ph[:len(ph)-1]+")", args...)
	}
}
