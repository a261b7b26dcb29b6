package opportunity_test

import (
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/quote"
)

// offer is a two-line quote: 3 × 19.99 less 10 % (53.97) and 2 × 100 less 20.00 (180.00), net
// 233.97, 19 % tax 44.45 (44.4543), total 278.42.
func offer(id string) opportunity.QuoteDraft {
	ten := decimal.NewFromInt(10)
	off := eur("20")
	return opportunity.QuoteDraft{QuoteID: id, Name: " Offer ", ValidUntil: date(2025, 3, 31), TaxRatePercent: decimal.NewFromInt(19),
		Lines: []quote.Line{
			{SKU: "SEAT", Description: "Seat licence", Quantity: decimal.NewFromInt(3), UnitPrice: eur("19.99"), DiscountPercent: &ten},
			{SKU: "ONBOARD", Quantity: decimal.NewFromInt(2), UnitPrice: money.Money{Amount: decimal.NewFromInt(100)}, DiscountAmount: &off},
		}}
}

// quoted returns a fresh opportunity with quote q1 (offer) in status s: draft, sent, …
func quoted(t *testing.T, s quote.Status) opportunity.Opportunity {
	t.Helper()
	o := create(t)
	evs, err := opportunity.CreateQuote(o, offer("q1"), t0)
	o = apply(t, o, evs, err)
	ref := opportunity.QuoteRef{QuoteID: "q1"}
	switch s {
	case quote.StatusDraft:
		return o
	case quote.StatusExpired:
		evs, err = opportunity.ExpireQuotes(o, t0.AddDate(0, 1, 0))
		return apply(t, o, evs, err)
	}
	evs, err = opportunity.SendQuote(o, ref, t0)
	o = apply(t, o, evs, err)
	switch s {
	case quote.StatusAccepted:
		evs, err = opportunity.AcceptQuote(o, ref, t0)
		o = apply(t, o, evs, err)
	case quote.StatusRejected:
		evs, err = opportunity.RejectQuote(o, ref, "too expensive", t0)
		o = apply(t, o, evs, err)
	case quote.StatusSuperseded:
		evs, err = opportunity.ReviseQuote(o, draft("q1", "99"), t0)
		o = apply(t, o, evs, err)
	}
	return o
}

func TestCreateQuote(t *testing.T) {
	t.Parallel()
	t.Run("totals in the opportunity's currency", func(t *testing.T) {
		t.Parallel()
		o := create(t)
		evs, err := opportunity.CreateQuote(o, offer("q1"), t0)
		require.NoError(t, err)
		require.Equal(t, []string{"QuoteCreated"}, types(evs))
		q := evs[0].(opportunity.QuoteCreated).Quote
		assert.Equal(t, "q1", q.QuoteID)
		assert.EqualValues(t, 1, q.Version)
		assert.Equal(t, "Offer", q.Name)
		assert.Equal(t, "EUR", q.Currency)
		assert.Equal(t, quote.StatusDraft, q.Status)
		assert.Equal(t, t0, q.CreatedAt)
		assert.Equal(t, []string{"1", "2"}, []string{q.Lines[0].LineID, q.Lines[1].LineID})
		assert.Equal(t, "EUR 53.97", q.Lines[0].Net.String())
		assert.Equal(t, "EUR 180.00", q.Lines[1].Net.String())
		assert.Equal(t, [5]string{"EUR 259.97", "EUR 26.00", "EUR 233.97", "EUR 44.45", "EUR 278.42"},
			[5]string{q.Subtotal.String(), q.DiscountTotal.String(), q.NetTotal.String(), q.TaxTotal.String(), q.Total.String()})
		n := opportunity.ApplyAll(o, evs...)
		got, ok := n.Quote("q1")
		require.True(t, ok)
		assert.True(t, got.Total.Equal(q.Total))
		assert.Equal(t, "EUR 10000.00", n.Amount.String(), "a quote alone does not change the amount")
	})
	t.Run("bad input", func(t *testing.T) {
		t.Parallel()
		o := create(t)
		d := offer("q 1")
		d.Lines = append(d.Lines, quote.Line{SKU: "X", Quantity: decimal.NewFromInt(1), UnitPrice: money.MustParse("USD", "5")})
		d.Lines[1].Quantity = decimal.Zero
		pct := decimal.NewFromInt(101)
		d.Lines[0].DiscountPercent = &pct
		d.ValidUntil = date(2025, 3, 2)
		evs, err := opportunity.CreateQuote(o, d, t0)
		assert.Nil(t, evs)
		assert.Equal(t, []string{"quote_id", "lines[0].discount_percent", "lines[1].quantity", "lines[2].unit_price", "valid_until"},
			violations(t, err))
	})
	t.Run("existing quote id", func(t *testing.T) {
		t.Parallel()
		_, err := opportunity.CreateQuote(quoted(t, quote.StatusDraft), offer("q1"), t0)
		assert.Equal(t, apperr.AlreadyExists, apperr.KindOf(err))
	})
	t.Run("JPY opportunity", func(t *testing.T) {
		t.Parallel()
		cmd := newOpp()
		cmd.Amount = money.MustParse("JPY", "1000000")
		evs, err := opportunity.Create(opportunity.Opportunity{}, cmd, pipe(), policy(), t0)
		o := apply(t, opportunity.Opportunity{}, evs, err)
		d := opportunity.QuoteDraft{QuoteID: "q1", ValidUntil: date(2025, 4, 1), TaxRatePercent: decimal.NewFromInt(10),
			Lines: []quote.Line{{SKU: "A", Quantity: decimal.NewFromInt(3), UnitPrice: money.MustParse("JPY", "333.5")}}}
		evs, err = opportunity.CreateQuote(o, d, t0)
		require.NoError(t, err)
		q := evs[0].(opportunity.QuoteCreated).Quote
		assert.Equal(t, "JPY 1001", q.NetTotal.String())
		assert.Equal(t, "JPY 1101", q.Total.String(), "100.1 tax rounds to 100")
		_, err = opportunity.CreateQuote(o, offer("q2"), t0)
		assert.Equal(t, []string{"lines[0].unit_price", "lines[1].discount_amount"}, violations(t, err),
			"EUR amounts on a JPY opportunity; the empty currency of line 2's price is the opportunity's")
	})
}

func TestReviseQuote(t *testing.T) {
	t.Parallel()
	t.Run("a new version supersedes the previous one", func(t *testing.T) {
		t.Parallel()
		for _, from := range []quote.Status{quote.StatusDraft, quote.StatusSent} {
			t.Run(from.String(), func(t *testing.T) {
				t.Parallel()
				o := quoted(t, from)
				evs, err := opportunity.ReviseQuote(o, draft("q1", "99"), t0.Add(day))
				require.NoError(t, err)
				require.Equal(t, []string{"QuoteRevised"}, types(evs))
				r := evs[0].(opportunity.QuoteRevised)
				assert.EqualValues(t, 1, r.PreviousVersion)
				assert.EqualValues(t, 2, r.Quote.Version)
				assert.Equal(t, quote.StatusDraft, r.Quote.Status)
				assert.Equal(t, "EUR 99.00", r.Quote.Total.String())
				n := opportunity.ApplyAll(o, evs...)
				require.Len(t, n.Quotes, 2, "every version is kept")
				v1, _ := n.QuoteVersion("q1", 1)
				assert.Equal(t, quote.StatusSuperseded, v1.Status)
				assert.Equal(t, t0.Add(day), v1.StatusChangedAt)
				latest, _ := n.Quote("q1")
				assert.EqualValues(t, 2, latest.Version)
				assert.Len(t, n.LatestQuotes(), 1)
				v1before, _ := o.QuoteVersion("q1", 1)
				assert.Equal(t, from, v1before.Status, "the input state is not modified")
			})
		}
	})
	t.Run("same content, no events", func(t *testing.T) {
		t.Parallel()
		evs, err := opportunity.ReviseQuote(quoted(t, quote.StatusSent), offer("q1"), t0)
		require.NoError(t, err)
		assert.Empty(t, evs)
	})
	t.Run("only draft or sent quotes", func(t *testing.T) {
		t.Parallel()
		for _, s := range []quote.Status{quote.StatusAccepted, quote.StatusRejected, quote.StatusExpired} {
			reason, msg := precondition(t, errOf(opportunity.ReviseQuote(quoted(t, s), draft("q1", "5"), t0)))
			assert.Equal(t, opportunity.ReasonQuoteStatus, reason)
			assert.Contains(t, msg, s.String())
		}
	})
	t.Run("unknown quote", func(t *testing.T) {
		t.Parallel()
		_, err := opportunity.ReviseQuote(create(t), draft("q1", "5"), t0)
		assert.Equal(t, apperr.NotFound, apperr.KindOf(err))
	})
}

func TestSendQuote(t *testing.T) {
	t.Parallel()
	o := quoted(t, quote.StatusDraft)
	evs, err := opportunity.SendQuote(o, opportunity.QuoteRef{QuoteID: "q1"}, t0)
	require.NoError(t, err)
	assert.Equal(t, []opportunity.Event{opportunity.QuoteSent{QuoteID: "q1", Version: 1, At: t0}}, evs)

	evs, err = opportunity.SendQuote(opportunity.ApplyAll(o, evs...), opportunity.QuoteRef{QuoteID: "q1"}, t0)
	require.NoError(t, err)
	assert.Empty(t, evs, "sending twice")

	reason, _ := precondition(t, errOf(opportunity.SendQuote(o, opportunity.QuoteRef{QuoteID: "q1"}, t0.AddDate(0, 1, 0))))
	assert.Equal(t, opportunity.ReasonQuoteExpired, reason, "a draft past its validity is revised, not sent")
	reason, _ = precondition(t, errOf(opportunity.SendQuote(quoted(t, quote.StatusRejected), opportunity.QuoteRef{QuoteID: "q1"}, t0)))
	assert.Equal(t, opportunity.ReasonQuoteStatus, reason)
}

func TestAcceptQuote(t *testing.T) {
	t.Parallel()
	t.Run("the total becomes the amount", func(t *testing.T) {
		t.Parallel()
		o := quoted(t, quote.StatusSent)
		evs, err := opportunity.CreateQuote(o, draft("q2", "500"), t0)
		o = apply(t, o, evs, err)
		evs, err = opportunity.AcceptQuote(o, opportunity.QuoteRef{QuoteID: "q1", Version: 1}, t0.Add(day))
		require.NoError(t, err)
		require.Equal(t, []string{"QuoteAccepted", "OpportunityAmountChanged"}, types(evs))
		a := evs[0].(opportunity.QuoteAccepted)
		assert.Equal(t, "EUR 278.42", a.Total.String())
		ac := evs[1].(opportunity.OpportunityAmountChanged)
		assert.Equal(t, opportunity.AmountQuoteAccepted, ac.Reason)
		assert.Equal(t, "q1", ac.QuoteID)
		assert.Equal(t, "EUR 10000.00", ac.Old.String())
		n := opportunity.ApplyAll(o, evs...)
		assert.Equal(t, "EUR 278.42", n.Amount.String())
		q1, _ := n.Quote("q1")
		assert.Equal(t, quote.StatusAccepted, q1.Status)
		q2, _ := n.Quote("q2")
		assert.Equal(t, quote.StatusDraft, q2.Status, "other quotes stay as they are")

		evs, err = opportunity.AcceptQuote(n, opportunity.QuoteRef{QuoteID: "q1"}, t0)
		require.NoError(t, err)
		assert.Empty(t, evs, "accepting twice")
	})
	t.Run("total equal to the amount", func(t *testing.T) {
		t.Parallel()
		o := create(t)
		evs, err := opportunity.CreateQuote(o, draft("q1", "10000"), t0)
		o = apply(t, o, evs, err)
		evs, err = opportunity.SendQuote(o, opportunity.QuoteRef{QuoteID: "q1"}, t0)
		o = apply(t, o, evs, err)
		evs, err = opportunity.AcceptQuote(o, opportunity.QuoteRef{QuoteID: "q1"}, t0)
		require.NoError(t, err)
		assert.Equal(t, []string{"QuoteAccepted"}, types(evs))
	})
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name   string
			o      opportunity.Opportunity
			ref    opportunity.QuoteRef
			reason string
		}{
			{"draft", quoted(t, quote.StatusDraft), opportunity.QuoteRef{QuoteID: "q1"}, opportunity.ReasonQuoteStatus},
			{"rejected", quoted(t, quote.StatusRejected), opportunity.QuoteRef{QuoteID: "q1"}, opportunity.ReasonQuoteStatus},
			{"expired", quoted(t, quote.StatusExpired), opportunity.QuoteRef{QuoteID: "q1"}, opportunity.ReasonQuoteExpired},
			{"superseded version", quoted(t, quote.StatusSuperseded), opportunity.QuoteRef{QuoteID: "q1", Version: 1},
				opportunity.ReasonQuoteSuperseded},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				reason, _ := precondition(t, errOf(opportunity.AcceptQuote(tc.o, tc.ref, t0)))
				assert.Equal(t, tc.reason, reason)
			})
		}
	})
	t.Run("sent but past its validity", func(t *testing.T) {
		t.Parallel()
		reason, _ := precondition(t, errOf(opportunity.AcceptQuote(quoted(t, quote.StatusSent), opportunity.QuoteRef{QuoteID: "q1"},
			t0.AddDate(0, 0, 29))))
		assert.Equal(t, opportunity.ReasonQuoteExpired, reason, "valid until 2025-03-31, today 2025-04-01")
		_, err := opportunity.AcceptQuote(quoted(t, quote.StatusSent), opportunity.QuoteRef{QuoteID: "q1"}, t0.AddDate(0, 0, 28))
		require.NoError(t, err, "the last valid day")
	})
	t.Run("unknown quote or version", func(t *testing.T) {
		t.Parallel()
		o := quoted(t, quote.StatusSent)
		_, err := opportunity.AcceptQuote(o, opportunity.QuoteRef{QuoteID: "nope"}, t0)
		assert.Equal(t, apperr.NotFound, apperr.KindOf(err))
		_, err = opportunity.AcceptQuote(o, opportunity.QuoteRef{QuoteID: "q1", Version: 2}, t0)
		assert.Equal(t, apperr.NotFound, apperr.KindOf(err))
	})
}

func TestRejectQuote(t *testing.T) {
	t.Parallel()
	o := quoted(t, quote.StatusSent)
	evs, err := opportunity.RejectQuote(o, opportunity.QuoteRef{QuoteID: "q1"}, " budget cut ", t0)
	require.NoError(t, err)
	assert.Equal(t, []opportunity.Event{opportunity.QuoteRejected{QuoteID: "q1", Version: 1, Reason: "budget cut", At: t0}}, evs)
	n := opportunity.ApplyAll(o, evs...)
	evs, err = opportunity.RejectQuote(n, opportunity.QuoteRef{QuoteID: "q1"}, "", t0)
	require.NoError(t, err)
	assert.Empty(t, evs)
	reason, _ := precondition(t, errOf(opportunity.RejectQuote(quoted(t, quote.StatusDraft), opportunity.QuoteRef{QuoteID: "q1"}, "", t0)))
	assert.Equal(t, opportunity.ReasonQuoteStatus, reason)
	_, err = opportunity.RejectQuote(o, opportunity.QuoteRef{QuoteID: "q1"}, "a\x00", t0)
	assert.Equal(t, []string{"reason"}, violations(t, err))
}

func TestExpireQuotes(t *testing.T) {
	t.Parallel()
	o := quoted(t, quote.StatusSent) // q1 valid until 2025-03-31
	later := draft("q2", "5")
	later.ValidUntil = date(2025, 4, 30)
	evs, err := opportunity.CreateQuote(o, later, t0)
	o = apply(t, o, evs, err)
	evs, err = opportunity.CreateQuote(o, draft("q3", "7"), t0) // draft, valid until 2025-03-31
	o = apply(t, o, evs, err)
	evs, err = opportunity.CreateQuote(o, draft("q4", "8"), t0)
	o = apply(t, o, evs, err)
	evs, err = opportunity.SendQuote(o, opportunity.QuoteRef{QuoteID: "q4"}, t0)
	o = apply(t, o, evs, err)
	evs, err = opportunity.AcceptQuote(o, opportunity.QuoteRef{QuoteID: "q4"}, t0) // accepted quotes never expire
	o = apply(t, o, evs, err)

	evs, err = opportunity.ExpireQuotes(o, t0.AddDate(0, 0, 28)) // 2025-03-31: still valid
	require.NoError(t, err)
	assert.Empty(t, evs)
	at := t0.AddDate(0, 0, 29)
	evs, err = opportunity.ExpireQuotes(o, at)
	require.NoError(t, err)
	assert.Equal(t, []opportunity.Event{opportunity.QuoteExpired{QuoteID: "q1", Version: 1, At: at},
		opportunity.QuoteExpired{QuoteID: "q3", Version: 1, At: at}}, evs)
	n := opportunity.ApplyAll(o, evs...)
	evs, err = opportunity.ExpireQuotes(n, at)
	require.NoError(t, err)
	assert.Empty(t, evs, "the sweep is idempotent")
	var statuses []string
	for _, q := range n.LatestQuotes() {
		statuses = append(statuses, q.QuoteID+":"+q.Status.String())
	}
	assert.Equal(t, []string{"q1:EXPIRED", "q2:DRAFT", "q3:EXPIRED", "q4:ACCEPTED"}, statuses)
}
