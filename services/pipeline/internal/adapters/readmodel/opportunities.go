package readmodel

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

// OpportunitySort is the sort key of ListOpportunities; the id breaks ties. The zero value
// sorts by creation time.
type OpportunitySort int

// Opportunity sort keys.
const (
	SortCreated OpportunitySort = iota
	SortUpdated
	// SortCloseDate orders by expected close date.
	SortCloseDate
	// SortAmount orders by currency code, then by amount within a currency (amounts are never
	// converted).
	SortAmount
)

// OpportunityFilter selects a page of one tenant's opportunities. Every filter is optional; the
// values of a list filter are ORed, and all filters are ANDed.
type OpportunityFilter struct {
	PipelineIDs []string
	// StageIDs match in whichever pipeline has the stage.
	StageIDs   []string
	OwnerIDs   []string
	AccountIDs []string
	// Categories match the opportunity's forecast category (CLOSED for won deals, OMITTED for
	// lost ones with the default stages).
	Categories []pipelinedef.Category
	Statuses   []opportunity.Status
	// CloseFrom and CloseTo bound the expected close date, inclusive (closed deals keep
	// theirs); a zero Date is open.
	CloseFrom, CloseTo civil.Date
	// Currency keeps the opportunities in that currency. AmountMin and AmountMax bound the
	// amount, inclusive, and need Currency: amounts of different currencies do not compare.
	Currency             string
	AmountMin, AmountMax *decimal.Decimal
	// Tag is compared with the stored tags (trimmed, lower case).
	Tag        string
	CampaignID string
	// Scope keeps the caller's opportunities only (row-level security); the application sets
	// it. It is not part of the page token's fingerprint: it is applied to every page anyway.
	Scope Scope

	Sort OpportunitySort
	// Desc puts the largest, latest or last first.
	Desc bool
	// PageSize is 1…MaxPageSize, or 0 for DefaultPageSize.
	PageSize int
	// PageToken is the previous page's next token; it must come with the same filters and
	// order (the page size may change).
	PageToken string
}

type sortSpec struct {
	cols []string // key columns, the id excluded
}

var opportunitySorts = map[OpportunitySort]sortSpec{
	SortCreated:   {cols: []string{"o.created_at"}},
	SortUpdated:   {cols: []string{"o.updated_at"}},
	SortCloseDate: {cols: []string{"o.expected_close_date"}},
	SortAmount:    {cols: []string{"o.currency", "o.amount_units", "o.amount_nanos"}},
}

func (f *OpportunityFilter) validate() (sortSpec, error) {
	var v apperr.Violations
	spec, ok := opportunitySorts[f.Sort]
	if !ok {
		v.Add("order_by", "unknown sort key %d", f.Sort)
	}
	if (f.AmountMin != nil || f.AmountMax != nil) && f.Currency == "" {
		v.Add("currency", "is required with an amount range")
	}
	for _, a := range []struct {
		field string
		d     *decimal.Decimal
	}{{"min_amount", f.AmountMin}, {"max_amount", f.AmountMax}} {
		if a.d != nil {
			if _, err := unitsOf(*a.d); err != nil {
				v.Add(a.field, "%v", err)
			}
		}
	}
	checkDate(&v, "close_date_from", f.CloseFrom)
	checkDate(&v, "close_date_to", f.CloseTo)
	return spec, v.Err("invalid opportunity query")
}

// hash fingerprints everything that decides which rows a page holds and in which order.
func (f *OpportunityFilter) hash(tenant string) string {
	var h fingerprint
	h.Str(tenant)
	h.Set(f.PipelineIDs)
	h.Set(f.StageIDs)
	h.Set(f.OwnerIDs)
	h.Set(f.AccountIDs)
	intSet(&h, f.Categories)
	intSet(&h, f.Statuses)
	h.Str(dateText(f.CloseFrom))
	h.Str(dateText(f.CloseTo))
	h.Str(f.Currency)
	for _, d := range []*decimal.Decimal{f.AmountMin, f.AmountMax} {
		if d == nil {
			h.Str("-")
		} else {
			h.Str(d.String())
		}
	}
	h.Str(f.Tag)
	h.Str(f.CampaignID)
	h.Int(int64(f.Sort))
	h.Str(strconv.FormatBool(f.Desc))
	return h.Sum()
}

// GetOpportunity returns the opportunity, or an apperr NotFound error.
func (s *Store) GetOpportunity(ctx context.Context, tenant, id string) (opportunity.Opportunity, error) {
	var doc []byte
	err := s.db.R.QueryRowContext(ctx, `SELECT doc FROM opportunities WHERE tenant = ? AND id = ?`, tenant, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return opportunity.Opportunity{}, OpportunityNotFound(id)
	}
	if err != nil {
		return opportunity.Opportunity{}, readErr("get opportunity", err)
	}
	return decodeDoc[opportunity.Opportunity](doc)
}

// ListOpportunities returns one page of the tenant's opportunities that match f and the token
// of the next page ("" on the last page). Paging is by keyset on (sort key, id): a page costs
// the same at any depth, and rows written between pages neither shift nor repeat the rows after
// the cursor.
func (s *Store) ListOpportunities(ctx context.Context, tenant string, f OpportunityFilter) ([]opportunity.Opportunity, string, error) {
	spec, err := f.validate()
	if err != nil {
		return nil, "", err
	}
	size, err := checkPageSize(f.PageSize, DefaultPageSize)
	if err != nil {
		return nil, "", err
	}
	hash := f.hash(tenant)
	cur, err := decodeCursor(f.PageToken, "o", hash)
	if err != nil {
		return nil, "", err
	}

	query, args := listSQL(tenant, &f, spec, cur, size)
	rows, err := s.db.R.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", readErr("list opportunities", err)
	}
	defer rows.Close()
	out := make([]opportunity.Opportunity, 0, min(size, 64))
	var next cursor
	more := false
	for rows.Next() {
		if len(out) == size {
			more = true
			break
		}
		var doc []byte
		var created, updated, au, an int64
		var closeDate, currency string
		if err := rows.Scan(&doc, &created, &updated, &closeDate, &currency, &au, &an); err != nil {
			return nil, "", readErr("list opportunities", err)
		}
		o, err := decodeDoc[opportunity.Opportunity](doc)
		if err != nil {
			return nil, "", err
		}
		out = append(out, o)
		next = cursor{Kind: "o", Hash: hash, ID: o.ID}
		switch f.Sort {
		case SortCreated:
			next.N1 = created
		case SortUpdated:
			next.N1 = updated
		case SortCloseDate:
			next.Str = closeDate
		case SortAmount:
			next.Str, next.N1, next.N2 = currency, au, an
		}
	}
	if err := rows.Err(); err != nil {
		return nil, "", readErr("list opportunities", err)
	}
	if !more {
		return out, "", nil
	}
	return out, next.encode(), nil
}

// listSQL builds ListOpportunities' query for a page of size rows after cur.
func listSQL(tenant string, f *OpportunityFilter, spec sortSpec, cur *cursor, size int) (string, []any) {
	var w where
	w.add("o.tenant = ?", tenant)
	f.Scope.ownedBy(&w, "o.owner_id")
	in(&w, "o.pipeline_id", f.PipelineIDs)
	in(&w, "o.stage_id", f.StageIDs)
	in(&w, "o.owner_id", f.OwnerIDs)
	in(&w, "o.account_id", f.AccountIDs)
	in(&w, "o.forecast_category", ints(f.Categories))
	in(&w, "o.status", ints(f.Statuses))
	if !f.CloseFrom.IsZero() {
		w.add("o.expected_close_date >= ?", dateText(f.CloseFrom))
	}
	if !f.CloseTo.IsZero() {
		w.add("o.expected_close_date <= ?", dateText(f.CloseTo))
	}
	if f.Currency != "" {
		w.add("o.currency = ?", f.Currency)
	}
	if f.AmountMin != nil {
		u, _ := unitsOf(*f.AmountMin)
		w.add("(o.amount_units, o.amount_nanos) >= (?, ?)", u.units, int64(u.nanos))
	}
	if f.AmountMax != nil {
		u, _ := unitsOf(*f.AmountMax)
		w.add("(o.amount_units, o.amount_nanos) <= (?, ?)", u.units, int64(u.nanos))
	}
	if f.CampaignID != "" {
		w.add("o.primary_campaign_id = ?", f.CampaignID)
	}
	if f.Tag != "" {
		// A correlated probe of the tag set's primary key per candidate row keeps the walk in
		// sort order; IN (subquery) would first collect every opportunity with a common tag.
		w.add("EXISTS (SELECT 1 FROM opportunity_tags t WHERE t.tenant = o.tenant AND t.tag = ? AND t.opp_pk = o.pk)", f.Tag)
	}
	keys := append(append([]string(nil), spec.cols...), "o.id")
	if cur != nil {
		var vals []any
		switch f.Sort {
		case SortCreated, SortUpdated:
			vals = []any{cur.N1}
		case SortCloseDate:
			vals = []any{cur.Str}
		case SortAmount:
			vals = []any{cur.Str, cur.N1, cur.N2}
		}
		keysetAfter(&w, keys, append(vals, cur.ID), f.Desc)
	}
	query := `SELECT o.doc, o.created_at, o.updated_at, o.expected_close_date, o.currency, o.amount_units, o.amount_nanos
		FROM opportunities o WHERE ` + w.sql() + ` ORDER BY ` + orderBy(keys, f.Desc) + ` LIMIT ?`
	return query, append(w.args, size+1)
}

// checkDate adds a violation when d is set and not a calendar date.
func checkDate(v *apperr.Violations, field string, d civil.Date) {
	if !d.IsZero() && !d.Valid() {
		v.Add(field, "is not a calendar date")
	}
}

// keysetAfter adds the condition "after the cursor" in the order of keys: a row value
// comparison, which SQLite runs as one range seek on the index of that order.
func keysetAfter(w *where, keys []string, vals []any, desc bool) {
	op := ">"
	if desc {
		op = "<"
	}
	w.add("("+strings.Join(keys, ", ")+") "+op+" ("+placeholders(len(vals))+")", vals...)
}

func orderBy(keys []string, desc bool) string {
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	return strings.Join(keys, dir+", ") + dir
}

func ints[T ~int](vals []T) []int64 {
	out := make([]int64, len(vals))
	for i, v := range vals {
		out[i] = int64(v)
	}
	return out
}

func decodeDoc[T any](doc []byte) (T, error) {
	var v T
	if err := json.Unmarshal(doc, &v); err != nil {
		return v, fmt.Errorf("readmodel: decode stored document: %w", err)
	}
	return v, nil
}

func readErr(what string, err error) error { return fmt.Errorf("readmodel: %s: %w", what, err) }
