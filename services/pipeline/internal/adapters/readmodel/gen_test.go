package readmodel

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/shopspring/decimal"

	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/forecast"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/quote"
)

// The generator drives the real domain decisions with random commands, so the histories it
// produces are ones the service can produce: creates, stage moves back and forth, amount and
// currency changes, close-date push-outs, probability and category overrides, owner changes,
// quotes accepted, won, lost, reopened, and edits that change nothing the forecast reads.

// renewals is a second pipeline with its own stages and categories.
func renewals() pipelinedef.Pipeline {
	return pipelinedef.Pipeline{ID: "renewals", Name: "Renewals", Revision: 1, Stages: []pipelinedef.Stage{
		{ID: "upcoming", Name: "Upcoming", Probability: 40, Category: pipelinedef.CategoryPipeline, Kind: pipelinedef.KindOpen},
		{ID: "quoted", Name: "Quoted", Probability: 65, Category: pipelinedef.CategoryBestCase, Kind: pipelinedef.KindOpen},
		{ID: "verbal", Name: "Verbal yes", Probability: 95, Category: pipelinedef.CategoryCommit, Kind: pipelinedef.KindOpen},
		{ID: "parked", Name: "Parked", Probability: 5, Category: pipelinedef.CategoryOmitted, Kind: pipelinedef.KindOpen},
		{ID: "renewed", Name: "Renewed", Probability: 100, Category: pipelinedef.CategoryClosed, Kind: pipelinedef.KindWon},
		{ID: "churned", Name: "Churned", Probability: 0, Category: pipelinedef.CategoryOmitted, Kind: pipelinedef.KindLost},
		{ID: "downsized", Name: "Lost to downsizing", Probability: 0, Category: pipelinedef.CategoryOmitted, Kind: pipelinedef.KindLost},
	}}
}

var genPipelines = map[string]pipelinedef.Pipeline{pipelinedef.DefaultID: pipelinedef.Default(), "renewals": renewals()}

var (
	genOwners     = []string{"olga", "piet", "quinn", "rosa", "sam"}
	genCurrencies = []string{"EUR", "USD", "JPY", "KWD"}
	genTags       = []string{"enterprise", "smb", "expansion", "partner", "q-push"}
	genAccounts   = []string{"acc-1", "acc-2", "acc-3", "acc-4", "acc-5", "acc-6"}
	genCampaigns  = []string{"", "cmp-a", "cmp-b"}
)

func genPolicy() opportunity.Policy {
	return opportunity.Policy{DefaultCurrency: "EUR", MaxCloseDatePastDays: 3650,
		CustomFields: map[string]customfield.Definition{"seats": {Name: "seats", Type: customfield.TypeNumber}}}
}

// recorded is one event of the log of one tenant.
type recorded struct {
	tenant string
	forecast.Recorded
}

type generator struct {
	rng    *rand.Rand
	tenant string
	now    time.Time
	ids    []string
	states map[string]opportunity.Opportunity
	log    []recorded
	quotes int
}

func newGenerator(seed uint64, tenant string, start time.Time) *generator {
	return &generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), tenant: tenant, now: start,
		states: map[string]opportunity.Opportunity{}}
}

func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

func (g *generator) amount(currency string) money.Money {
	places := money.MinorUnits(currency)
	whole := g.rng.Int64N(200_000)
	frac := int64(0)
	if places > 0 && g.rng.IntN(2) == 0 {
		frac = g.rng.Int64N(pow10(places))
	}
	return money.New(currency, decimal.New(whole, 0).Add(decimal.New(frac, -places)))
}

func pow10(n int32) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

func (g *generator) today() civil.Date { return civil.DateOf(g.now) }

// closeDate is a day from a month before today to a year and a half after.
func (g *generator) closeDate() civil.Date { return g.today().AddDays(g.rng.IntN(540) - 30) }

// record appends a decision's events. Events of one command are recorded at the same instant or
// a few microseconds apart (a stream stamps each message), so an as-of instant can fall
// between them.
func (g *generator) record(id string) func([]opportunity.Event, error) {
	return func(evs []opportunity.Event, err error) { g.recordEvents(id, evs, err) }
}

func (g *generator) recordEvents(id string, evs []opportunity.Event, err error) {
	if err != nil || len(evs) == 0 {
		return
	}
	at := g.now
	for i, e := range evs {
		if i > 0 && g.rng.IntN(2) == 0 {
			at = at.Add(time.Duration(1+g.rng.IntN(5)) * time.Microsecond)
		}
		g.states[id] = opportunity.Apply(g.states[id], e)
		g.log = append(g.log, recorded{tenant: g.tenant, Recorded: forecast.Recorded{OpportunityID: id, RecordedAt: at, Event: e}})
	}
	g.now = at
}

// step runs one random command and moves the clock on.
func (g *generator) step() {
	switch g.rng.IntN(8) {
	case 0:
		g.now = g.now.Add(time.Duration(g.rng.IntN(72)) * time.Hour)
	case 1:
		// Another command in the same nanosecond.
	default:
		g.now = g.now.Add(time.Duration(1 + g.rng.Int64N(int64(6*time.Hour))))
	}
	if len(g.ids) == 0 || g.rng.IntN(6) == 0 {
		g.create()
		return
	}
	id := pick(g.rng, g.ids)
	o := g.states[id]
	p := genPipelines[o.PipelineID]
	if o.Status.Closed() {
		if g.rng.IntN(3) == 0 {
			var stage string
			if g.rng.IntN(2) == 0 {
				stage = pick(g.rng, p.OpenStages()).ID
			}
			g.record(id)(opportunity.Reopen(o, opportunity.Reopening{StageID: stage, MovedBy: "bot"}, p, g.now))
		}
		return
	}
	switch g.rng.IntN(13) {
	case 0, 1:
		g.record(id)(opportunity.MoveStage(o, opportunity.StageMove{StageID: pick(g.rng, p.OpenStages()).ID, MovedBy: o.OwnerID}, p, g.now))
	case 2:
		cur := o.Amount.Currency
		if g.rng.IntN(5) == 0 {
			cur = pick(g.rng, genCurrencies)
		}
		g.record(id)(opportunity.UpdateAmount(o, g.amount(cur), g.now))
	case 3:
		// Push-outs are the common close-date change.
		d := o.ExpectedCloseDate.AddDays(7 + g.rng.IntN(90))
		if g.rng.IntN(3) == 0 {
			d = g.closeDate()
		}
		g.record(id)(opportunity.UpdateCloseDate(o, d, genPolicy(), g.now))
	case 4:
		var pr *int32
		if g.rng.IntN(3) > 0 {
			v := int32(g.rng.IntN(101))
			pr = &v
		}
		g.record(id)(opportunity.UpdateProbability(o, pr, g.now))
	case 5:
		var c *pipelinedef.Category
		if g.rng.IntN(3) > 0 {
			v := pick(g.rng, []pipelinedef.Category{pipelinedef.CategoryPipeline, pipelinedef.CategoryBestCase,
				pipelinedef.CategoryCommit, pipelinedef.CategoryOmitted})
			c = &v
		}
		g.record(id)(opportunity.UpdateForecastCategory(o, c, g.now))
	case 6:
		g.record(id)(opportunity.Assign(o, opportunity.Assignment{OwnerID: pick(g.rng, genOwners)}, g.now))
	case 7:
		// Changes nothing the forecast reads.
		d := o.Details
		d.Tags = []string{pick(g.rng, genTags), pick(g.rng, genTags)}
		d.NextStep = fmt.Sprintf("call #%d", g.rng.IntN(100))
		g.record(id)(opportunity.UpdateDetails(o, opportunity.Update{Paths: []string{opportunity.PathTags, opportunity.PathNextStep}, Details: d}, genPolicy(), g.now))
	case 8:
		g.quote(id)
	case 9, 10:
		w := opportunity.Win{MovedBy: o.OwnerID, Note: "signed", ClosedOn: g.today().AddDays(-g.rng.IntN(20))}
		if g.rng.IntN(2) == 0 {
			a := g.amount(o.Amount.Currency)
			w.FinalAmount = &a
		}
		g.record(id)(opportunity.MarkWon(o, w, p, g.now))
	case 11:
		l := opportunity.Loss{Reason: opportunity.LostPrice, MovedBy: o.OwnerID, ClosedOn: g.today().AddDays(-g.rng.IntN(20))}
		if g.rng.IntN(2) == 0 {
			l.StageID = pick(g.rng, p.LostStages()).ID
		}
		g.record(id)(opportunity.MarkLost(o, l, p, g.now))
	case 12:
		g.record(id)(opportunity.SetContactRoles(o, []opportunity.ContactRole{{ContactID: "c-1", Role: opportunity.RoleChampion, Primary: true}}, g.now))
	}
}

func (g *generator) create() {
	id := fmt.Sprintf("%s-opp-%03d", g.tenant, len(g.ids))
	p := genPipelines[pick(g.rng, []string{pipelinedef.DefaultID, pipelinedef.DefaultID, "renewals"})]
	cmd := opportunity.NewOpportunity{ID: id, OwnerID: pick(g.rng, genOwners),
		Details: opportunity.Details{Name: "Deal " + id, AccountID: pick(g.rng, genAccounts),
			PrimaryCampaignID: pick(g.rng, genCampaigns), Tags: []string{pick(g.rng, genTags)},
			CustomFields: map[string]customfield.Value{"seats": customfield.NumberValue(float64(g.rng.IntN(500)) / 4)}},
		Amount: g.amount(pick(g.rng, genCurrencies)), ExpectedCloseDate: g.closeDate()}
	if g.rng.IntN(3) == 0 {
		cmd.StageID = pick(g.rng, p.OpenStages()).ID
	}
	if g.rng.IntN(5) == 0 {
		v := int32(g.rng.IntN(101))
		cmd.Probability = &v
	}
	if g.rng.IntN(6) == 0 {
		cmd.ForecastCategory = pipelinedef.CategoryCommit
	}
	evs, err := opportunity.Create(opportunity.Opportunity{}, cmd, p, genPolicy(), g.now)
	if err != nil {
		panic(err)
	}
	g.ids = append(g.ids, id)
	g.recordEvents(id, evs, nil)
}

// quote creates, sends and (mostly) accepts a quote: accepting sets the amount.
func (g *generator) quote(id string) {
	g.quotes++
	qid := fmt.Sprintf("q-%d", g.quotes)
	o := g.states[id]
	line := quote.Line{SKU: "SKU-1", Description: "seats", Quantity: decimal.RequireFromString("1.50"),
		UnitPrice: g.amount(o.Amount.Currency)}
	g.record(id)(opportunity.CreateQuote(o, opportunity.QuoteDraft{QuoteID: qid, Name: "Offer", Lines: []quote.Line{line},
		TaxRatePercent: decimal.RequireFromString("0"), ValidUntil: g.today().AddDays(30)}, g.now))
	g.record(id)(opportunity.SendQuote(g.states[id], opportunity.QuoteRef{QuoteID: qid}, g.now))
	if g.rng.IntN(4) > 0 {
		g.record(id)(opportunity.AcceptQuote(g.states[id], opportunity.QuoteRef{QuoteID: qid}, g.now))
	}
}

// history runs n commands in each of the tenants and returns their logs merged in recorded
// order (one stream).
func history(seed uint64, n int, start time.Time, tenants ...string) []recorded {
	var gens []*generator
	for i, t := range tenants {
		gens = append(gens, newGenerator(seed*31+uint64(i), t, start))
	}
	for range n {
		for _, g := range gens {
			g.step()
		}
	}
	var out []recorded
	idx := make([]int, len(gens))
	for {
		best := -1
		for i, g := range gens {
			if idx[i] < len(g.log) && (best < 0 || g.log[idx[i]].RecordedAt.Before(gens[best].log[idx[best]].RecordedAt)) {
				best = i
			}
		}
		if best < 0 {
			return out
		}
		out = append(out, gens[best].log[idx[best]])
		idx[best]++
	}
}

// tenantLog keeps one tenant's events.
func tenantLog(log []recorded, tenant string) []forecast.Recorded {
	var out []forecast.Recorded
	for _, r := range log {
		if r.tenant == tenant {
			out = append(out, r.Recorded)
		}
	}
	return out
}
