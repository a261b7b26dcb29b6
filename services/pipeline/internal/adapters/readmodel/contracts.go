package readmodel

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/contract"
)

// ContractSort is the sort key of ListContracts; the id breaks ties. The zero value sorts by
// creation time.
type ContractSort int

// Contract sort keys.
const (
	ContractSortCreated ContractSort = iota
	// ContractSortRenewalDate puts contracts without a renewal date last, in either direction.
	ContractSortRenewalDate
	ContractSortEndDate
)

// ContractFilter selects a page of one tenant's contracts. Every filter is optional; the values
// of a list filter are ORed, and all filters are ANDed.
type ContractFilter struct {
	Statuses      []contract.Status
	AccountIDs    []string
	OwnerIDs      []string
	OpportunityID string
	// RenewalFrom and RenewalTo bound the renewal date, inclusive; a zero Date is open. With
	// either set, contracts without a renewal date do not match.
	RenewalFrom, RenewalTo civil.Date
	// Scope keeps the contracts the caller owns or whose opportunity the caller owns
	// (row-level security); the application sets it.
	Scope Scope

	Sort ContractSort
	// Desc puts the latest first.
	Desc bool
	// PageSize is 1…MaxPageSize, or 0 for DefaultPageSize.
	PageSize int
	// PageToken is the previous page's next token; it must come with the same filters and
	// order.
	PageToken string
}

func (f *ContractFilter) hash(tenant string) string {
	var h fingerprint
	h.Str(tenant)
	intSet(&h, f.Statuses)
	h.Set(f.AccountIDs)
	h.Set(f.OwnerIDs)
	h.Str(f.OpportunityID)
	h.Str(dateText(f.RenewalFrom))
	h.Str(dateText(f.RenewalTo))
	h.Int(int64(f.Sort))
	h.Str(strconv.FormatBool(f.Desc))
	return h.Sum()
}

// contractWrite is a ContractChange ready to store.
type contractWrite struct {
	docWrite
	status                                            int64
	accountID, ownerID, opportunityID, renewal, endOn string
	createdAt                                         int64
}

func prepareContract(c ContractChange) (contractWrite, error) {
	d, err := prepareDoc(c.Tenant, c.State.ID, c.State.Version, c.Seq, c.State)
	if err != nil {
		return contractWrite{}, err
	}
	k := c.State
	return contractWrite{docWrite: d, status: int64(k.Status), accountID: k.AccountID, ownerID: k.OwnerID,
		opportunityID: k.OpportunityID, renewal: dateText(k.RenewalDate), endOn: dateText(k.EndDate),
		createdAt: timeToDB(k.CreatedAt)}, nil
}

func (w *writer) contract(c *contractWrite) error {
	_, err := w.exec(`INSERT INTO contracts (tenant, id, status, account_id, owner_id, opportunity_id, renewal_date,
			end_date, created_at, version, seq, doc) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (tenant, id) DO UPDATE SET status = excluded.status, account_id = excluded.account_id,
			owner_id = excluded.owner_id, opportunity_id = excluded.opportunity_id,
			renewal_date = excluded.renewal_date, end_date = excluded.end_date, created_at = excluded.created_at,
			version = excluded.version, seq = excluded.seq, doc = excluded.doc
		WHERE excluded.version > contracts.version`,
		c.tenant, c.id, c.status, c.accountID, c.ownerID, c.opportunityID, c.renewal, c.endOn, c.createdAt,
		c.version, c.seq, c.doc)
	return wrapErr("upsert contract", err)
}

// GetContract returns the contract, or an apperr NotFound error.
func (s *Store) GetContract(ctx context.Context, tenant, id string) (contract.Contract, error) {
	var doc []byte
	err := s.db.R.QueryRowContext(ctx, `SELECT doc FROM contracts WHERE tenant = ? AND id = ?`, tenant, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return contract.Contract{}, ContractNotFound(id)
	}
	if err != nil {
		return contract.Contract{}, readErr("get contract", err)
	}
	return decodeDoc[contract.Contract](doc)
}

// ListContracts returns one page of the tenant's contracts that match f and the token of the
// next page ("" on the last page), by keyset on (sort key, id). "Contracts nearing renewal" is
// Statuses ACTIVE with RenewalTo today, sorted by renewal date.
func (s *Store) ListContracts(ctx context.Context, tenant string, f ContractFilter) ([]contract.Contract, string, error) {
	var v apperr.Violations
	if f.Sort < ContractSortCreated || f.Sort > ContractSortEndDate {
		v.Add("order_by", "unknown sort key %d", f.Sort)
	}
	checkDate(&v, "renewal_date_from", f.RenewalFrom)
	checkDate(&v, "renewal_date_to", f.RenewalTo)
	if err := v.Err("invalid contract query"); err != nil {
		return nil, "", err
	}
	size, err := checkPageSize(f.PageSize, DefaultPageSize)
	if err != nil {
		return nil, "", err
	}
	hash := f.hash(tenant)
	cur, err := decodeCursor(f.PageToken, "c", hash)
	if err != nil {
		return nil, "", err
	}

	var w where
	w.add("c.tenant = ?", tenant)
	f.Scope.contractIn(&w)
	in(&w, "c.status", ints(f.Statuses))
	in(&w, "c.account_id", f.AccountIDs)
	in(&w, "c.owner_id", f.OwnerIDs)
	if f.OpportunityID != "" {
		w.add("c.opportunity_id = ?", f.OpportunityID)
	}
	if !f.RenewalFrom.IsZero() || !f.RenewalTo.IsZero() {
		w.add("c.renewal_date <> ''")
	}
	if !f.RenewalFrom.IsZero() {
		w.add("c.renewal_date >= ?", dateText(f.RenewalFrom))
	}
	if !f.RenewalTo.IsZero() {
		w.add("c.renewal_date <= ?", dateText(f.RenewalTo))
	}
	dir := " ASC"
	if f.Desc {
		dir = " DESC"
	}
	var order string
	switch f.Sort {
	case ContractSortCreated:
		order = "c.created_at" + dir + ", c.id" + dir
		if cur != nil {
			keysetAfter(&w, []string{"c.created_at", "c.id"}, []any{cur.N1, cur.ID}, f.Desc)
		}
	case ContractSortEndDate:
		order = "c.end_date" + dir + ", c.id" + dir
		if cur != nil {
			keysetAfter(&w, []string{"c.end_date", "c.id"}, []any{cur.Str, cur.ID}, f.Desc)
		}
	case ContractSortRenewalDate:
		// Missing renewal dates last whatever the direction: (missing, date, id) with missing
		// always ascending.
		order = "(c.renewal_date = '') ASC, c.renewal_date" + dir + ", c.id" + dir
		if cur != nil {
			missing := cur.Str == ""
			op := ">"
			if f.Desc {
				op = "<"
			}
			if missing {
				w.add("c.renewal_date = '' AND c.id "+op+" ?", cur.ID)
			} else {
				w.add("(c.renewal_date = '' OR (c.renewal_date, c.id) "+op+" (?, ?))", cur.Str, cur.ID)
			}
		}
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT c.doc, c.created_at, c.renewal_date, c.end_date FROM contracts c
		WHERE `+w.sql()+` ORDER BY `+order+` LIMIT ?`, append(w.args, size+1)...)
	if err != nil {
		return nil, "", readErr("list contracts", err)
	}
	defer rows.Close()
	var out []contract.Contract
	var next cursor
	more := false
	for rows.Next() {
		if len(out) == size {
			more = true
			break
		}
		var doc []byte
		var created int64
		var renewal, end string
		if err := rows.Scan(&doc, &created, &renewal, &end); err != nil {
			return nil, "", readErr("list contracts", err)
		}
		c, err := decodeDoc[contract.Contract](doc)
		if err != nil {
			return nil, "", err
		}
		out = append(out, c)
		next = cursor{Kind: "c", Hash: hash, ID: c.ID}
		switch f.Sort {
		case ContractSortCreated:
			next.N1 = created
		case ContractSortRenewalDate:
			next.Str = renewal
		case ContractSortEndDate:
			next.Str = end
		}
	}
	if err := rows.Err(); err != nil {
		return nil, "", readErr("list contracts", err)
	}
	if !more {
		return out, "", nil
	}
	return out, next.encode(), nil
}
