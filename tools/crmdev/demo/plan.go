package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
)

// Phases of a window of simulated days (windowDays). Every step of one phase finishes before the next phase starts, so
// a phase can use what earlier ones created (a campaign's id, a lead's id).
const (
	phaseAdmin     = iota // tenant setup, campaign creation, status and costs
	phaseLeads            // lead stories: create, engage, qualify, convert, deals
	phaseMembers          // campaign members added that day
	phaseResponses        // member responses of that day
)

// step is one call (or a short sequence on one record) of the plan.
type step struct {
	at    time.Time
	phase int
	// key orders steps that must not run concurrently: one lead and its deal share a key.
	key  string
	kind stepKind
	lead int // index into plan.leads, or -1
	camp int // index into plan.campaigns, or -1
	n    int // the step's parameter (stage index, engagement signal, …)
}

type stepKind int

const (
	kSetup stepKind = iota
	kCampaignCreate
	kCampaignActivate
	kCampaignComplete
	kCampaignCost
	kLeadCreate
	kEngage
	kMQL
	kSAL
	kSQL
	kConvert
	kDisqualify
	kRecycle
	kStage
	kQuote
	kWon
	kLost
	kMember
	kResponse
)

type leadPlan struct {
	lead     *leadsv1.Lead // without owner (territories assign it) and campaign id (known at run time)
	campaign int           // the campaign that brought the lead, or -1
	src      source
	created  time.Time
	amount   int64 // deal size, USD
	closeIn  int   // days from conversion to the expected close date
	dqReason leadsv1.DisqualifyReason
	lostWhy  pipelinev1.LostReason
	rival    string
	// converted is when the plan converts the lead (zero: never); unsub is when it unsubscribes
	// (zero: never). Campaign selection uses them.
	converted, closed, unsub time.Time
}

type campaignPlan struct {
	c          *campaignv1.Campaign // without id
	start, end time.Time
	kind       string // email, webinar, event, paid, social, referral, partner
	costs      []costPlan
}

type costPlan struct {
	at     time.Time
	amount int64
	desc   string
}

type plan struct {
	cfg       Config
	opts      planOptions
	leads     []*leadPlan
	campaigns []*campaignPlan
	steps     []step
}

type planOptions struct {
	keyPrefix string // idempotency keys start with it
	domainTag string // appended to every company domain (Load: new people every run)
}

// buildPlan makes the whole plan from cfg alone (no randomness but cfg.Seed's).
func buildPlan(cfg Config, opts planOptions) *plan {
	p := &plan{cfg: cfg, opts: opts}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x9e3779b97f4a7c15))
	p.add(step{at: cfg.Start, phase: phaseAdmin, key: "setup", kind: kSetup, lead: -1, camp: -1})
	p.planCampaigns(rng)
	p.planLeads(rng)
	p.planMarketing(rng)
	// Drop what lies beyond the period: those things have not happened yet.
	kept := p.steps[:0]
	for _, s := range p.steps {
		if !s.at.After(cfg.End) {
			kept = append(kept, s)
		}
	}
	p.steps = kept
	sort.SliceStable(p.steps, func(i, j int) bool {
		a, b := p.steps[i], p.steps[j]
		if da, db := p.window(a.at), p.window(b.at); da != db {
			return da < db
		}
		if a.phase != b.phase {
			return a.phase < b.phase
		}
		return a.at.Before(b.at)
	})
	return p
}

func (p *plan) add(s step) { p.steps = append(p.steps, s) }

func (p *plan) day(t time.Time) int { return int(t.Sub(p.cfg.Start) / (24 * time.Hour)) }

// windowDays is how many simulated days run as one batch of phases. Within a window, each
// record's calls keep their time order, and every phase still waits for the earlier ones; the
// window only lets a lead's day-3 call run before another lead's day-1 member is added. Wider
// windows give the services more concurrent work (a day of a 3,000-lead year is ~60 calls);
// they must stay shorter than the gap between a campaign's last inbound member and its
// completion (see planCampaigns).
const windowDays = 4

func (p *plan) window(t time.Time) int { return p.day(t) / windowDays }

func (p *plan) span() time.Duration { return p.cfg.End.Sub(p.cfg.Start) }

// frac is the time at fraction f of the period.
func (p *plan) frac(f float64) time.Time {
	return p.cfg.Start.Add(time.Duration(f * float64(p.span())))
}

// workHours moves t to a random time between 08:00 and 18:00 of its day.
func workHours(rng *rand.Rand, t time.Time) time.Time {
	d := t.Truncate(24 * time.Hour)
	return d.Add(8*time.Hour + time.Duration(rng.Int64N(int64(10*time.Hour))))
}

// later is t plus about days working days (at least one hour later), during work hours.
func later(rng *rand.Rand, t time.Time, days float64) time.Time {
	d := days * (0.5 + rng.Float64()*1.2)
	n := t.Add(time.Duration(d * float64(24*time.Hour)))
	if wd := n.Weekday(); wd == time.Saturday {
		n = n.AddDate(0, 0, 2)
	} else if wd == time.Sunday {
		n = n.AddDate(0, 0, 1)
	}
	n = workHours(rng, n)
	if !n.After(t) {
		n = t.Add(time.Hour + time.Duration(rng.Int64N(int64(time.Hour))))
	}
	return n
}

func pick[T any](rng *rand.Rand, ws []weighted[T]) T {
	var total float64
	for _, w := range ws {
		total += w.w
	}
	x := rng.Float64() * total
	for _, w := range ws {
		if x -= w.w; x < 0 {
			return w.v
		}
	}
	return ws[len(ws)-1].v
}

func oneOf[T any](rng *rand.Rand, vs []T) T { return vs[rng.IntN(len(vs))] }

func chance(rng *rand.Rand, p float64) bool { return rng.Float64() < p }

// planCampaigns lays out the marketing calendar over the period.
func (p *plan) planCampaigns(rng *rand.Rand) {
	scale := float64(p.cfg.LeadCount) / DefaultLeadCount
	money := func(units int64) int64 { return max(500, int64(float64(units)*math.Max(scale, 0.05))/100*100) }
	add := func(kind, name string, ch campaignv1.CampaignChannel, start, end time.Time, budget, revenue int64) *campaignPlan {
		start, end = start.Truncate(24*time.Hour), end.Truncate(24*time.Hour)
		c := &campaignPlan{kind: kind, start: start, end: end, c: &campaignv1.Campaign{
			Name: name, Channel: ch, StartDate: start.Format(time.DateOnly), EndDate: end.Format(time.DateOnly),
			Budget: usd(money(budget)), ExpectedRevenue: usd(money(revenue)), OwnerId: oneOf(rng, marketers),
			Description: "Demo campaign: " + name,
		}}
		p.campaigns = append(p.campaigns, c)
		return c
	}
	year := func(t time.Time) string { return fmt.Sprint(t.Year()) }
	quarter := func(t time.Time) string { return fmt.Sprintf("Q%d %d", (int(t.Month())-1)/3+1, t.Year()) }

	s, e := p.cfg.Start, p.cfg.End
	ads := add("paid", "Google Ads — Always On "+year(s), campaignv1.CampaignChannel_CAMPAIGN_CHANNEL_PAID_ADS, s, e.AddDate(0, 1, 0), 120000, 600000)
	for m := s; m.Before(e); m = m.AddDate(0, 1, 0) {
		ads.costs = append(ads.costs, costPlan{at: m.AddDate(0, 1, -1), amount: money(8500 + rng.Int64N(3000)), desc: "Google Ads spend " + m.Format("Jan 2006")})
	}
	ref := add("referral", "Customer Referral Program", campaignv1.CampaignChannel_CAMPAIGN_CHANNEL_REFERRAL, s, e.AddDate(0, 2, 0), 30000, 400000)
	for q := s.AddDate(0, 3, 0); q.Before(e); q = q.AddDate(0, 3, 0) {
		ref.costs = append(ref.costs, costPlan{at: q, amount: money(5000 + rng.Int64N(2500)), desc: "referral rewards " + quarter(q.AddDate(0, -1, 0))})
	}
	li := add("social", "LinkedIn ABM — Enterprise", campaignv1.CampaignChannel_CAMPAIGN_CHANNEL_SOCIAL, p.frac(0.40), p.frac(0.82), 45000, 350000)
	for m := li.start; m.Before(li.end); m = m.AddDate(0, 1, 0) {
		li.costs = append(li.costs, costPlan{at: m.AddDate(0, 1, -1), amount: money(7000 + rng.Int64N(2000)), desc: "LinkedIn spend " + m.Format("Jan 2006")})
	}
	for _, f := range []float64{0.12, 0.37, 0.62, 0.87} {
		at := p.frac(f)
		c := add("email", "Newsletter "+quarter(at), campaignv1.CampaignChannel_CAMPAIGN_CHANNEL_EMAIL, at, at.AddDate(0, 0, 14), 2000, 40000)
		c.costs = append(c.costs, costPlan{at: at, amount: money(1200 + rng.Int64N(600)), desc: "email platform and design"})
	}
	for i, w := range []struct {
		f     float64
		title string
	}{{0.19, "Forecasting Without Spreadsheets"}, {0.52, "Pipeline Hygiene 101"}, {0.80, "RevOps Benchmarks"}} {
		at := p.frac(w.f)
		c := add("webinar", "Webinar: "+w.title, campaignv1.CampaignChannel_CAMPAIGN_CHANNEL_WEBINAR, at.AddDate(0, 0, -21), at, 5000, 90000)
		c.costs = append(c.costs, costPlan{at: at, amount: money(2500 + int64(i)*500 + rng.Int64N(1000)), desc: "webinar platform and promotion"})
	}
	for _, ev := range []struct {
		f          float64
		name       string
		days       int
		budget, ex int64
	}{{0.33, "SaaStr Annual", 3, 60000, 500000}, {0.68, "Dreamforce", 4, 80000, 650000}} {
		at := p.frac(ev.f)
		c := add("event", ev.name+" "+year(at), campaignv1.CampaignChannel_CAMPAIGN_CHANNEL_TRADE_SHOW, at, at.AddDate(0, 0, ev.days-1), ev.budget, ev.ex)
		c.costs = append(c.costs,
			costPlan{at: at.AddDate(0, 0, -30), amount: money(ev.budget * 6 / 10), desc: "booth and sponsorship"},
			costPlan{at: c.end.AddDate(0, 0, 3), amount: money(ev.budget*3/10 + rng.Int64N(5000)), desc: "travel and booth staff"})
	}
	pt := add("partner", "Partner Co-Marketing — "+quarter(p.frac(0.5)), campaignv1.CampaignChannel_CAMPAIGN_CHANNEL_PARTNER, p.frac(0.45), p.frac(0.70), 15000, 200000)
	pt.costs = append(pt.costs, costPlan{at: pt.start.AddDate(0, 0, 10), amount: money(9000), desc: "partner MDF"})

	for i, c := range p.campaigns {
		created := workHours(rng, c.start.AddDate(0, 0, -14))
		if created.Before(p.cfg.Start) {
			created = p.cfg.Start.Add(time.Hour)
		}
		key := fmt.Sprintf("campaign/%d", i)
		p.add(step{at: created, phase: phaseAdmin, key: key, kind: kCampaignCreate, lead: -1, camp: i})
		p.add(step{at: maxTime(created.Add(time.Hour), c.start.Add(7*time.Hour)), phase: phaseAdmin, key: key, kind: kCampaignActivate, lead: -1, camp: i})
		// Completed a while after the end: booth scans and late sign-ups trickle in for days.
		p.add(step{at: c.end.AddDate(0, 0, 10).Add(19 * time.Hour), phase: phaseAdmin, key: key, kind: kCampaignComplete, lead: -1, camp: i})
		for j, cost := range c.costs {
			p.add(step{at: maxTime(created.Add(2*time.Hour), cost.at.Truncate(24*time.Hour).Add(17*time.Hour)), phase: phaseAdmin, key: key, kind: kCampaignCost, lead: -1, camp: i, n: j})
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// activeCampaign returns a campaign of kind running at t (the first), or -1.
func (p *plan) activeCampaign(kind string, t time.Time) int {
	for i, c := range p.campaigns {
		if c.kind == kind && !t.Before(c.start) && t.Before(c.end.AddDate(0, 0, 1)) {
			return i
		}
	}
	return -1
}

// planLeads plans each lead's story: creation, engagement, qualification, conversion, the deal.
func (p *plan) planLeads(rng *rand.Rand) {
	used := map[string]bool{}
	var events, webinars []int
	for i, c := range p.campaigns {
		switch c.kind {
		case "event":
			events = append(events, i)
		case "webinar":
			webinars = append(webinars, i)
		}
	}
	for i := range p.cfg.LeadCount {
		lp := &leadPlan{campaign: -1, src: pick(rng, sources)}
		// More leads later in the year (the company grows), fewer at weekends.
		const g = 0.8
		x := (math.Sqrt(1+g*(2+g)*rng.Float64()) - 1) / g
		t := p.frac(x)
		switch lp.src.name {
		case "event":
			if len(events) > 0 {
				c := p.campaigns[oneOf(rng, events)]
				t = c.start.AddDate(0, 0, rng.IntN(int(c.end.Sub(c.start).Hours()/24)+3))
				lp.campaign = p.index(c)
			}
		case "paid":
			lp.campaign = p.activeCampaign("paid", t)
		case "social":
			lp.campaign = p.activeCampaign("social", t)
		case "referral":
			lp.campaign = p.activeCampaign("referral", t)
		case "partner":
			lp.campaign = p.activeCampaign("partner", t)
		case "web":
			for _, w := range webinars {
				if c := p.campaigns[w]; !t.Before(c.start) && !t.After(c.end) && chance(rng, 0.5) {
					lp.campaign = w
				}
			}
		}
		if wd := t.Weekday(); (wd == time.Saturday || wd == time.Sunday) && chance(rng, 0.8) {
			t = t.AddDate(0, 0, 2)
		}
		lp.created = workHours(rng, t)
		if lp.created.After(p.cfg.End) {
			lp.created = workHours(rng, p.cfg.End.AddDate(0, 0, -1-rng.IntN(20)))
		}
		if lp.created.Before(p.cfg.Start) {
			lp.created = workHours(rng, p.cfg.Start.AddDate(0, 0, 1))
		}
		lp.lead = p.person(rng, i, lp.src, used)
		p.leads = append(p.leads, lp)
		p.story(rng, i, lp)
	}
}

func (p *plan) index(c *campaignPlan) int {
	for i, x := range p.campaigns {
		if x == c {
			return i
		}
	}
	return -1
}

// person makes up the lead's person and company.
func (p *plan) person(rng *rand.Rand, i int, src source, used map[string]bool) *leadsv1.Lead {
	first, last := oneOf(rng, firstNames), oneOf(rng, lastNames)
	var company string
	for try := 0; ; try++ {
		company = oneOf(rng, companyPrefixes) + oneOf(rng, companySuffixes)
		if try > 20 {
			company += fmt.Sprint(i)
		}
		if !used[company] {
			used[company] = true
			break
		}
	}
	slug := strings.ToLower(company) + p.opts.domainTag
	kind := pick(rng, companyKinds)
	tld := ".com"
	ctry := pick(rng, countries)
	switch ctry.code {
	case "GB":
		tld = ".co.uk"
	case "DE", "FR", "NL", "SE", "IE", "ES", "JP", "IN", "AU", "NZ", "SG":
		tld = "." + strings.ToLower(ctry.code)
	}
	domain := slug + tld
	local := strings.ToLower(asciiName(first) + "." + asciiName(last))
	email := local + "@" + domain
	if chance(rng, 0.08) {
		email = fmt.Sprintf("%s%d@%s", local, i, oneOf(rng, freeMail))
	}
	// Company size: mostly small and mid-market, a tail of enterprises.
	emp := int64(math.Exp(2.5 + rng.NormFloat64()*1.6 + 2.2))
	emp = min(max(emp, 3), 120000)
	revenue := emp * (80000 + rng.Int64N(150000))
	l := &leadsv1.Lead{
		FirstName: first, LastName: last, Email: email,
		Phone:   fmt.Sprintf("+1 555 %03d %04d", i/10000%1000, i%10000),
		Company: company + " " + kind, JobTitle: pick(rng, titles), Website: "https://www." + domain,
		Country: ctry.code, Region: ctry.region, City: oneOf(rng, ctry.cities), Industry: pick(rng, industries),
		EmployeeCount: emp, AnnualRevenue: usd(revenue),
		Source: src.proto, SourceDetail: src.detail,
	}
	if src.name == "paid" {
		l.Utm = &leadsv1.Utm{Source: "google", Medium: "cpc", Campaign: "always-on", Term: oneOf(rng, []string{"crm software", "sales pipeline tool", "revenue analytics", "b2b crm"})}
	}
	if src.name == "social" {
		l.Utm = &leadsv1.Utm{Source: "linkedin", Medium: "paid-social", Campaign: "abm-enterprise"}
	}
	return l
}

// asciiName keeps the letters an email local part can take.
func asciiName(s string) string {
	r := strings.NewReplacer("ü", "ue", "é", "e", "í", "i", "á", "a", "ó", "o", "'", "", " ", "")
	return r.Replace(s)
}

// story plans one lead's life after its creation.
func (p *plan) story(rng *rand.Rand, i int, lp *leadPlan) {
	key := fmt.Sprintf("lead/%d", i)
	add := func(at time.Time, k stepKind, n int) {
		p.add(step{at: at, phase: phaseLeads, key: key, kind: k, lead: i, camp: -1, n: n})
	}
	t := lp.created
	add(t, kLeadCreate, 0)
	if lp.campaign >= 0 {
		p.add(step{at: t.Add(time.Minute), phase: phaseMembers, key: fmt.Sprintf("members/%d", lp.campaign), kind: kMember, lead: i, camp: lp.campaign})
		p.planInboundResponse(rng, i, lp, t)
	}
	q := lp.src.quality
	if sen := strings.ToLower(lp.lead.JobTitle); strings.HasPrefix(sen, "vp") || strings.HasPrefix(sen, "chief") || strings.HasPrefix(sen, "ceo") || strings.HasPrefix(sen, "cfo") || strings.HasPrefix(sen, "director") {
		q *= 1.3
	}
	if lp.lead.JobTitle == "Student" || strings.Contains(lp.lead.Email, "gmail") {
		q *= 0.3
	}
	// Engagement: web visits and form fills; the leads service scores them.
	signals := []leadsv1.EngagementSignal{leadsv1.EngagementSignal_ENGAGEMENT_SIGNAL_WEB_VISIT, leadsv1.EngagementSignal_ENGAGEMENT_SIGNAL_FORM_FILLED,
		leadsv1.EngagementSignal_ENGAGEMENT_SIGNAL_CALL, leadsv1.EngagementSignal_ENGAGEMENT_SIGNAL_MEETING}
	mql := chance(rng, math.Min(0.9, 0.42*q))
	nSig := rng.IntN(2)
	if mql {
		nSig = 1 + rng.IntN(3)
	}
	for range nSig {
		t = later(rng, t, 3)
		add(t, kEngage, int(signals[rng.IntN(len(signals))]))
	}
	if !mql {
		p.endStory(rng, i, lp, t, 0.45, []leadsv1.DisqualifyReason{leadsv1.DisqualifyReason_DISQUALIFY_REASON_JUNK,
			leadsv1.DisqualifyReason_DISQUALIFY_REASON_NO_RESPONSE, leadsv1.DisqualifyReason_DISQUALIFY_REASON_NOT_A_FIT})
		return
	}
	t = later(rng, t, 4)
	add(t, kMQL, 0)
	if !chance(rng, math.Min(0.92, 0.62*q)) {
		p.endStory(rng, i, lp, t, 0.5, []leadsv1.DisqualifyReason{leadsv1.DisqualifyReason_DISQUALIFY_REASON_NO_RESPONSE,
			leadsv1.DisqualifyReason_DISQUALIFY_REASON_NOT_A_FIT})
		return
	}
	t = later(rng, t, 3)
	add(t, kSAL, 0)
	if !chance(rng, math.Min(0.9, 0.55*q)) {
		p.endStory(rng, i, lp, t, 0.6, []leadsv1.DisqualifyReason{leadsv1.DisqualifyReason_DISQUALIFY_REASON_NOT_A_FIT,
			leadsv1.DisqualifyReason_DISQUALIFY_REASON_COMPETITOR, leadsv1.DisqualifyReason_DISQUALIFY_REASON_NO_RESPONSE})
		return
	}
	t = later(rng, t, 9)
	add(t, kSQL, 0)
	if !chance(rng, 0.88) {
		p.endStory(rng, i, lp, t, 0.8, []leadsv1.DisqualifyReason{leadsv1.DisqualifyReason_DISQUALIFY_REASON_COMPETITOR,
			leadsv1.DisqualifyReason_DISQUALIFY_REASON_OTHER})
		return
	}
	t = later(rng, t, 4)
	lp.converted = t
	add(t, kConvert, 0)
	if lp.campaign >= 0 {
		p.add(step{at: t.Add(time.Minute), phase: phaseResponses, key: fmt.Sprintf("responses/%d", lp.campaign), kind: kResponse, lead: i, camp: lp.campaign, n: respConverted})
	}
	p.deal(rng, i, lp, t, q, add)
}

// endStory ends a lead that goes no further: often disqualified (with one of reasons), some of
// those recycled into nurture later, the rest left where they are.
func (p *plan) endStory(rng *rand.Rand, i int, lp *leadPlan, t time.Time, pDisq float64, reasons []leadsv1.DisqualifyReason) {
	if !chance(rng, pDisq) {
		return
	}
	key := fmt.Sprintf("lead/%d", i)
	t = later(rng, t, 14)
	lp.closed = t
	lp.dqReason = oneOf(rng, reasons)
	p.add(step{at: t, phase: phaseLeads, key: key, kind: kDisqualify, lead: i, camp: -1})
	if lp.dqReason != leadsv1.DisqualifyReason_DISQUALIFY_REASON_JUNK && chance(rng, 0.3) {
		p.add(step{at: later(rng, t, 60), phase: phaseLeads, key: key, kind: kRecycle, lead: i, camp: -1})
	}
}

// deal plans the opportunity of a converted lead: stage by stage until won or lost.
func (p *plan) deal(rng *rand.Rand, i int, lp *leadPlan, t time.Time, q float64, add func(time.Time, stepKind, int)) {
	var base int64
	switch emp := lp.lead.EmployeeCount; {
	case emp < 50:
		base = 9000 + rng.Int64N(12000)
	case emp < 500:
		base = 20000 + rng.Int64N(40000)
	case emp < 5000:
		base = 50000 + rng.Int64N(100000)
	default:
		base = 120000 + rng.Int64N(280000)
	}
	lp.amount = base / 500 * 500
	lp.closeIn = 45 + rng.IntN(75)
	for s := 0; s < len(openStages); s++ {
		st := openStages[s]
		leave := later(rng, t, st.days)
		if s == proposalStage {
			add(later(rng, t, 2), kQuote, 0)
		}
		if chance(rng, math.Min(0.6, 1.2*st.hazard/math.Sqrt(q))) {
			lp.lostWhy = pick(rng, []weighted[pipelinev1.LostReason]{
				{pipelinev1.LostReason_LOST_REASON_PRICE, 25}, {pipelinev1.LostReason_LOST_REASON_COMPETITOR, 25},
				{pipelinev1.LostReason_LOST_REASON_NO_DECISION, 25}, {pipelinev1.LostReason_LOST_REASON_TIMING, 15},
				{pipelinev1.LostReason_LOST_REASON_PRODUCT_FIT, 10}})
			if lp.lostWhy == pipelinev1.LostReason_LOST_REASON_COMPETITOR {
				lp.rival = oneOf(rng, competitors)
			}
			add(leave, kLost, s)
			return
		}
		if s == len(openStages)-1 {
			add(leave, kWon, s)
			return
		}
		add(leave, kStage, s+1)
		t = leave
	}
}

// Response statuses of the default member status set (docs/campaigns.md).
const (
	respSent = iota
	respOpened
	respClicked
	respResponded
	respConverted
	respBounced
	respUnsubscribed
)

var respStatus = [...]string{"sent", "opened", "clicked", "responded", "converted", "bounced", "unsubscribed"}

// planInboundResponse: a lead that came through a campaign responded to it when it came.
func (p *plan) planInboundResponse(rng *rand.Rand, i int, lp *leadPlan, t time.Time) {
	key := fmt.Sprintf("responses/%d", lp.campaign)
	at := t.Add(2 * time.Minute)
	if k := p.campaigns[lp.campaign].kind; k == "paid" || k == "social" {
		p.add(step{at: at, phase: phaseResponses, key: key, kind: kResponse, lead: i, camp: lp.campaign, n: respClicked})
		at = at.Add(time.Duration(1+rng.IntN(20)) * time.Minute)
	}
	p.add(step{at: at, phase: phaseResponses, key: key, kind: kResponse, lead: i, camp: lp.campaign, n: respResponded})
}

// planMarketing sends the newsletters and webinar invitations to leads that exist, are still
// open and have not unsubscribed by then.
func (p *plan) planMarketing(rng *rand.Rand) {
	// In the order they go out, so an unsubscribe keeps a person out of every later campaign.
	order := make([]int, len(p.campaigns))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return p.campaigns[order[a]].start.Before(p.campaigns[order[b]].start) })
	for _, ci := range order {
		c := p.campaigns[ci]
		var share float64
		switch c.kind {
		case "email":
			share = 0.6
		case "webinar":
			share = 0.25
		default:
			continue
		}
		send := workHours(rng, c.start)
		if c.kind == "webinar" {
			send = workHours(rng, c.start.AddDate(0, 0, 2))
		}
		mkey, rkey := fmt.Sprintf("members/%d", ci), fmt.Sprintf("responses/%d", ci)
		for i, lp := range p.leads {
			if !lp.created.Before(send) || lp.campaign == ci || (!lp.converted.IsZero() && lp.converted.Before(send)) ||
				(!lp.closed.IsZero() && lp.closed.Before(send)) || !lp.unsub.IsZero() ||
				!chance(rng, share) {
				continue
			}
			p.add(step{at: send, phase: phaseMembers, key: mkey, kind: kMember, lead: i, camp: ci})
			resp := func(at time.Time, st int) {
				p.add(step{at: at, phase: phaseResponses, key: rkey, kind: kResponse, lead: i, camp: ci, n: st})
			}
			at := send.Add(time.Minute)
			resp(at, respSent)
			if chance(rng, 0.02) {
				resp(at.Add(time.Minute), respBounced)
				continue
			}
			if !chance(rng, 0.38) {
				continue
			}
			at = at.Add(time.Duration(rng.Int64N(int64(72 * time.Hour))))
			resp(at, respOpened)
			if chance(rng, 0.015) {
				at = at.Add(time.Minute)
				lp.unsub = at
				resp(at, respUnsubscribed)
				continue
			}
			if !chance(rng, 0.3) {
				continue
			}
			at = at.Add(time.Duration(rng.Int64N(int64(2 * time.Hour))))
			resp(at, respClicked)
			if chance(rng, map[bool]float64{true: 0.5, false: 0.15}[c.kind == "webinar"]) {
				resp(at.Add(time.Duration(rng.Int64N(int64(48*time.Hour)))), respResponded)
			}
		}
	}
}

func usd(units int64) *commonv1.Money { return &commonv1.Money{CurrencyCode: "USD", Units: units} }
