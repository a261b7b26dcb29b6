package opportunity

import (
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/input"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/quote"
)

// QuoteDraft is the content of a quote version: what CreateQuote and ReviseQuote take. Amounts
// are in the opportunity's currency (an empty currency means it).
type QuoteDraft struct {
	// QuoteID is chosen by the caller (a UUIDv7) on create and names the quote on revise.
	QuoteID        string
	Name           string
	Lines          []quote.Line
	TaxRatePercent decimal.Decimal
	// ValidUntil is the last day the quote can be accepted; not before today.
	ValidUntil civil.Date
}

// QuoteRef names a quote version. Version 0 means the latest; a version that is not the latest
// is FailedPrecondition QUOTE_SUPERSEDED, so nobody accepts a price the customer never saw.
type QuoteRef struct {
	QuoteID string
	Version uint32
}

// buildQuote validates d as version v of a quote of o and returns it with totals computed.
func buildQuote(o Opportunity, d QuoteDraft, v uint32, now time.Time) (quote.Quote, error) {
	q := quote.Normalize(quote.Quote{QuoteID: strings.TrimSpace(d.QuoteID), Version: v, Name: d.Name,
		Currency: o.Amount.Currency, Lines: d.Lines, TaxRatePercent: d.TaxRatePercent, ValidUntil: d.ValidUntil,
		Status: quote.StatusDraft, CreatedAt: now, StatusChangedAt: now})
	var vs apperr.Violations
	if !input.ValidID(q.QuoteID) {
		vs.Add("quote_id", input.IDMessage)
	}
	quote.Validate(q, &vs)
	if q.ValidUntil.Valid() && q.Expired(today(now)) {
		vs.Add("valid_until", "must not be before today (%s)", today(now))
	}
	if err := vs.Err("invalid quote"); err != nil {
		return quote.Quote{}, err
	}
	return quote.Compute(q), nil
}

// CreateQuote decides CreateQuote: version 1 of a new quote, a draft, in the opportunity's
// currency. An existing quote id is AlreadyExists.
func CreateQuote(o Opportunity, d QuoteDraft, now time.Time) ([]Event, error) {
	if err := writable(o); err != nil {
		return nil, err
	}
	q, err := buildQuote(o, d, 1, now)
	if err != nil {
		return nil, err
	}
	if _, ok := o.Quote(q.QuoteID); ok {
		return nil, apperr.Exists(fmt.Sprintf("quote %q already exists", q.QuoteID), q.QuoteID)
	}
	if len(o.LatestQuotes()) >= MaxQuotes {
		return nil, apperr.Precondition(ReasonTooManyQuotes, "an opportunity has at most %d quotes", MaxQuotes)
	}
	return []Event{QuoteCreated{Quote: q, At: now}}, nil
}

// ReviseQuote decides ReviseQuote: a new version (a draft) of a draft or sent quote; the
// previous version becomes superseded. Content equal to the latest version's yields no events.
func ReviseQuote(o Opportunity, d QuoteDraft, now time.Time) ([]Event, error) {
	if err := writable(o); err != nil {
		return nil, err
	}
	cur, err := findQuote(o, QuoteRef{QuoteID: strings.TrimSpace(d.QuoteID)})
	if err != nil {
		return nil, err
	}
	if !cur.Status.Open() {
		return nil, quoteStatusErr(cur, "revised")
	}
	q, err := buildQuote(o, d, cur.Version+1, now)
	if err != nil {
		return nil, err
	}
	if q.SameContent(cur) {
		return nil, nil
	}
	if cur.Version >= MaxQuoteVersions {
		return nil, apperr.Precondition(ReasonTooManyQuotes, "a quote has at most %d versions", MaxQuoteVersions)
	}
	return []Event{QuoteRevised{Quote: q, PreviousVersion: cur.Version, At: now}}, nil
}

// SendQuote decides sending a draft quote. Sending a sent quote yields no events; a draft whose
// validity passed must be revised first.
func SendQuote(o Opportunity, ref QuoteRef, now time.Time) ([]Event, error) {
	if err := writable(o); err != nil {
		return nil, err
	}
	q, err := findQuote(o, ref)
	if err != nil {
		return nil, err
	}
	switch {
	case q.Status == quote.StatusSent:
		return nil, nil
	case q.Status != quote.StatusDraft:
		return nil, quoteStatusErr(q, "sent")
	case q.Expired(today(now)):
		return nil, apperr.Precondition(ReasonQuoteExpired, "quote %s was valid until %s: revise it with a new validity", q.QuoteID, q.ValidUntil)
	}
	return []Event{QuoteSent{QuoteID: q.QuoteID, Version: q.Version, At: now}}, nil
}

// AcceptQuote decides the customer's acceptance of a sent quote within its validity. The
// quote's total becomes the opportunity's amount (OpportunityAmountChanged, reason
// AmountQuoteAccepted) when it differs. Other quotes of the opportunity stay as they are.
// Accepting an accepted quote yields no events.
func AcceptQuote(o Opportunity, ref QuoteRef, now time.Time) ([]Event, error) {
	if err := writable(o); err != nil {
		return nil, err
	}
	q, err := findQuote(o, ref)
	if err != nil {
		return nil, err
	}
	switch {
	case q.Status == quote.StatusAccepted:
		return nil, nil
	case q.Status == quote.StatusExpired || (q.Status == quote.StatusSent && q.Expired(today(now))):
		return nil, apperr.Precondition(ReasonQuoteExpired, "quote %s was valid until %s: it can no longer be accepted", q.QuoteID, q.ValidUntil)
	case q.Status != quote.StatusSent:
		return nil, quoteStatusErr(q, "accepted")
	}
	b := builder{o: o}
	b.emit(QuoteAccepted{QuoteID: q.QuoteID, Version: q.Version, Total: q.Total, At: now})
	if !q.Total.Equal(o.Amount) {
		b.emit(OpportunityAmountChanged{Old: o.Amount, New: q.Total, Reason: AmountQuoteAccepted, QuoteID: q.QuoteID, At: now})
	}
	return b.events, nil
}

// RejectQuote decides the customer's rejection of a sent quote. Rejecting a rejected quote
// yields no events.
func RejectQuote(o Opportunity, ref QuoteRef, reason string, now time.Time) ([]Event, error) {
	if err := writable(o); err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	if msg := input.CheckText(reason, MaxNoteLen, true); msg != "" {
		return nil, apperr.InvalidFields("invalid rejection", apperr.FieldViolation{Field: "reason", Description: msg})
	}
	q, err := findQuote(o, ref)
	if err != nil {
		return nil, err
	}
	switch q.Status {
	case quote.StatusRejected:
		return nil, nil
	case quote.StatusSent:
	default:
		return nil, quoteStatusErr(q, "rejected")
	}
	return []Event{QuoteRejected{QuoteID: q.QuoteID, Version: q.Version, Reason: reason, At: now}}, nil
}

// ExpireQuotes decides the expiry sweep: QuoteExpired for the latest version of every draft or
// sent quote whose validity ended before today. None due yields no events.
func ExpireQuotes(o Opportunity, now time.Time) ([]Event, error) {
	if err := writable(o); err != nil {
		return nil, err
	}
	var events []Event
	for _, q := range o.LatestQuotes() {
		if q.Status.Open() && q.Expired(today(now)) {
			events = append(events, QuoteExpired{QuoteID: q.QuoteID, Version: q.Version, At: now})
		}
	}
	return events, nil
}

// findQuote returns the latest version of the referenced quote, checking a given version is it.
func findQuote(o Opportunity, ref QuoteRef) (quote.Quote, error) {
	q, ok := o.Quote(ref.QuoteID)
	if !ok {
		return quote.Quote{}, &apperr.Error{Kind: apperr.NotFound, Reason: ReasonQuoteNotFound,
			Message: fmt.Sprintf("quote %q not found", ref.QuoteID)}
	}
	switch {
	case ref.Version == 0 || ref.Version == q.Version:
		return q, nil
	case ref.Version < q.Version:
		return quote.Quote{}, apperr.Precondition(ReasonQuoteSuperseded, "quote %s version %d was superseded by version %d", q.QuoteID, ref.Version, q.Version)
	}
	return quote.Quote{}, &apperr.Error{Kind: apperr.NotFound, Reason: ReasonQuoteNotFound,
		Message: fmt.Sprintf("quote %q has no version %d", ref.QuoteID, ref.Version)}
}

func quoteStatusErr(q quote.Quote, what string) error {
	return apperr.Precondition(ReasonQuoteStatus, "quote %s version %d is %s: it cannot be %s", q.QuoteID, q.Version, q.Status, what)
}
