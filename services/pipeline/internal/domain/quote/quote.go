// Package quote holds the types of quotes (CPQ, light) and their arithmetic. Quotes live inside
// the opportunity aggregate: the decisions that create, revise, send, accept, reject and expire
// them are in package opportunity.
//
// # Arithmetic
//
// Every amount of a quote is in the quote's currency, which is the opportunity's currency; a
// line's unit price and discount amount in another currency are refused. All arithmetic is
// exact decimal arithmetic; "rounded" below always means rounded to the currency's ISO 4217
// minor unit (2 places for EUR/USD, 0 for JPY/KRW, 3 for BHD/KWD/OMR/JOD/TND/IQD/LYD), half away
// from zero (0.125 → 0.13, 0.5 JPY → 1). Percent means "divided by 100", which is exact.
//
//   - line subtotal = quantity × unit price, rounded. Unit prices may have up to 9 decimal
//     places (per-unit prices below the minor unit are common), quantities too.
//   - line discount = subtotal × discount percent / 100, rounded; or the discount amount as
//     given (it must already be in minor units and at most the line subtotal). A line has at
//     most one of the two; without either its discount is 0.
//   - line net = line subtotal − line discount (never negative).
//   - quote subtotal, discount total and net total = the sums of the lines' subtotals,
//     discounts and nets (sums of rounded values, so no further rounding; net total = subtotal
//     − discount total exactly).
//   - tax = net total × tax rate percent / 100, rounded once at quote level (not per line, so
//     per-line rounding errors do not add up in the tax).
//   - total = net total + tax.
//
// Percents (discount and tax rate) are 0…100 with up to 9 decimal places. Every amount must fit
// the wire form (int64 units).
package quote

import (
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
)

// Status is a quote version's position in its life. Numbering follows the proto enum of the
// same name.
type Status int

// Quote statuses.
//
//	DRAFT → SENT → ACCEPTED | REJECTED | EXPIRED
//	DRAFT → EXPIRED
//	DRAFT, SENT → SUPERSEDED (by a revision, which starts as a new DRAFT version)
const (
	StatusUnspecified Status = iota
	StatusDraft
	StatusSent
	StatusAccepted
	StatusRejected
	StatusExpired
	StatusSuperseded
)

var statusNames = [...]string{"UNSPECIFIED", "DRAFT", "SENT", "ACCEPTED", "REJECTED", "EXPIRED", "SUPERSEDED"}

// String returns the upper-case name, e.g. "SENT".
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "status(" + strconv.Itoa(int(s)) + ")"
}

// Open reports whether a quote in s is still in play: it may be revised, sent (draft) and it
// expires when its validity passes.
func (s Status) Open() bool { return s == StatusDraft || s == StatusSent }

// Line is one line item. LineID, SKU, Description, Quantity, UnitPrice and the discount are
// input; Subtotal, Discount and Net are computed (Compute).
type Line struct {
	// LineID identifies the line within the quote ([A-Za-z0-9_-]{1,64}); lines without one are
	// numbered "1", "2", … by position.
	LineID string
	// SKU is the product code, free text.
	SKU         string
	Description string
	// Quantity is > 0, up to 9 decimal places.
	Quantity decimal.Decimal
	// UnitPrice is ≥ 0 in the quote's currency, up to 9 decimal places.
	UnitPrice money.Money
	// DiscountPercent (0…100) or DiscountAmount (≤ the line subtotal) — at most one is set.
	// The pointers are never written through; states share them.
	DiscountPercent *decimal.Decimal
	DiscountAmount  *money.Money

	Subtotal money.Money
	Discount money.Money
	Net      money.Money
}

// Quote is one version of a quote. QuoteID and Version address it; the content (name, lines,
// tax rate, validity) is what a revision changes; the totals are computed.
type Quote struct {
	QuoteID string
	// Version is 1 for the first version, +1 per revision.
	Version uint32
	Name    string
	// Currency is the opportunity's currency when the version was made.
	Currency       string
	Lines          []Line
	TaxRatePercent decimal.Decimal
	// ValidUntil is the last day the quote can be accepted.
	ValidUntil civil.Date
	Status     Status
	// CreatedAt is when this version was made; StatusChangedAt when it got its status.
	CreatedAt       time.Time
	StatusChangedAt time.Time

	Subtotal      money.Money
	DiscountTotal money.Money
	NetTotal      money.Money
	TaxTotal      money.Money
	Total         money.Money
}

// Clone returns q with its own line slice.
func (q Quote) Clone() Quote {
	q.Lines = slices.Clone(q.Lines)
	return q
}

// Expired reports whether q's validity has passed on day today (it can no longer be accepted).
func (q Quote) Expired(today civil.Date) bool { return q.ValidUntil.Before(today) }

// SameContent reports whether q and o have the same name, lines, tax rate and validity (what a
// revision changes), comparing decimals by value.
func (q Quote) SameContent(o Quote) bool {
	if q.Name != o.Name || !q.TaxRatePercent.Equal(o.TaxRatePercent) || q.ValidUntil != o.ValidUntil ||
		len(q.Lines) != len(o.Lines) {
		return false
	}
	for i, l := range q.Lines {
		m := o.Lines[i]
		if l.LineID != m.LineID || l.SKU != m.SKU || l.Description != m.Description ||
			!l.Quantity.Equal(m.Quantity) || !l.UnitPrice.Equal(m.UnitPrice) ||
			!equalPtr(l.DiscountPercent, m.DiscountPercent, decimal.Decimal.Equal) ||
			!equalPtr(l.DiscountAmount, m.DiscountAmount, money.Money.Equal) {
			return false
		}
	}
	return true
}

func equalPtr[T any](a, b *T, eq func(T, T) bool) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return eq(*a, *b)
}
