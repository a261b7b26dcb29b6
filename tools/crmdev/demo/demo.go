// Package demo generates the demo data of a local evcrm: a year in the life of a B2B software
// company — leads from several sources and territories, a sales team of eight reps, marketing
// campaigns with members, sends, opens, clicks, responses and costs, qualification from raw lead
// to SQL, conversions into accounts, contacts and opportunities, opportunities that move through
// the pipeline's stages and are won or lost, and quotes on late-stage deals.
//
// Everything goes through the services' public gRPC APIs with development-auth metadata, so the
// generator exercises them as any client would. [Seed] dates each call in the past with the
// x-evcrm-backfill-time metadata (the services must run with -allow-backfill; see docs/events.md
// "Backfill"); [Load] runs the same generator in real time at a steady rate, for benchmarks.
//
// The plan is a pure function of Config.Seed, LeadCount and the period, so two runs make the same
// calls; every write carries an idempotency key derived from the seed and the record's place in
// the plan, so running Seed again (after a crash, or on purpose) converges on the same data
// instead of duplicating it.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"google.golang.org/grpc"

	"github.com/evcrm/evcrm/libs/reqctx"
)

// Defaults of Config.
const (
	DefaultTenant    = "acme"
	DefaultUser      = "demo"
	DefaultLeadCount = 3000
	DefaultWorkers   = 24
)

// Config says what to generate and where.
type Config struct {
	// Seed makes the data deterministic: the same seed, lead count and period give the same calls.
	Seed int64
	// Tenant is the tenant the data belongs to; DefaultTenant when empty.
	Tenant string
	// LeadCount is how many leads the year brings; DefaultLeadCount when 0. Campaign sizes,
	// conversions and deals scale with it.
	LeadCount int
	// Start and End bound the simulated period. End defaults to the start of the current UTC day
	// (so a second run on the same day plans exactly the same calls), Start to a year before End.
	Start, End time.Time
	// Connections to the services (the launcher dials them). Analytics is not written to; it may
	// be nil.
	LeadsConn, PipelineConn, CampaignConn, AnalyticsConn *grpc.ClientConn
	// Log receives progress lines; nil discards them.
	Log io.Writer
	// Token returns the bearer token the calls of user carry (services with JWT authentication);
	// nil sends development-auth metadata only.
	Token func(user string) (string, error)
	// Workers bounds the calls in flight at once; DefaultWorkers when 0. Calls of one lead (and
	// its opportunity) are always made one after the other, in time order.
	Workers int
}

// Summary counts what a run created (or, on a converging re-run, found already created). The
// counts come from the plan and the services' answers, so the same Config gives the same Summary.
type Summary struct {
	Leads        int // leads created
	Engagements  int // engagement signals recorded on leads (web visits, meetings, calls)
	MQL          int // leads that became marketing qualified (by score or by hand)
	SAL          int // leads sales accepted
	SQL          int // leads sales qualified (BANT confirmed)
	Disqualified int // leads disqualified
	Recycled     int // disqualified leads recycled into nurture
	Converted    int // leads converted (each into an account, a contact and an opportunity)

	Accounts      int // accounts created by conversions
	Contacts      int // contacts created by conversions
	Opportunities int // opportunities opened by conversions
	StageMoves    int // opportunity stage changes
	Quotes        int // quotes created (and sent) on late-stage deals
	Won           int // opportunities won
	Lost          int // opportunities lost

	Campaigns   int // campaigns created
	CostEntries int // campaign cost entries recorded
	Members     int // campaign members added
	Responses   int // member responses recorded (sent, opened, clicked, responded, …)
}

// String is the summary on one line, for logs and the launcher.
func (s Summary) String() string {
	return fmt.Sprintf("%d leads (%d MQL, %d SAL, %d SQL, %d converted, %d disqualified, %d recycled), "+
		"%d accounts, %d contacts, %d opportunities (%d won, %d lost, %d stage moves, %d quotes), "+
		"%d campaigns (%d members, %d responses, %d cost entries), %d engagement signals",
		s.Leads, s.MQL, s.SAL, s.SQL, s.Converted, s.Disqualified, s.Recycled,
		s.Accounts, s.Contacts, s.Opportunities, s.Won, s.Lost, s.StageMoves, s.Quotes,
		s.Campaigns, s.Members, s.Responses, s.CostEntries, s.Engagements)
}

// withDefaults fills the zero fields and checks the rest.
func (c Config) withDefaults(now time.Time) (Config, error) {
	if c.Tenant == "" {
		c.Tenant = DefaultTenant
	}
	if !reqctx.ValidTenantID(c.Tenant) {
		return c, fmt.Errorf("demo: tenant %q is not a valid tenant id ([A-Za-z0-9_-], 1-64)", c.Tenant)
	}
	if c.LeadCount == 0 {
		c.LeadCount = DefaultLeadCount
	}
	if c.LeadCount < 0 {
		return c, fmt.Errorf("demo: LeadCount %d is negative", c.LeadCount)
	}
	if c.End.IsZero() {
		c.End = now.UTC().Truncate(24 * time.Hour)
	}
	if c.Start.IsZero() {
		c.Start = c.End.AddDate(-1, 0, 0)
	}
	c.Start, c.End = c.Start.UTC(), c.End.UTC()
	if !c.Start.Before(c.End) {
		return c, fmt.Errorf("demo: Start %s is not before End %s", c.Start, c.End)
	}
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	var missing []string
	for name, conn := range map[string]*grpc.ClientConn{"LeadsConn": c.LeadsConn, "PipelineConn": c.PipelineConn, "CampaignConn": c.CampaignConn} {
		if conn == nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("demo: Config.%s is required", strings.Join(missing, ", Config."))
	}
	return c, nil
}

// Seed generates the year of demo data between cfg.Start and cfg.End, each call backfilled to
// its simulated time and made in time order (day by day; within a day a few leads at once). It
// may be run again with the same Config: the second run replays the first one's idempotency
// keys and changes nothing (within the services' 24 h idempotency window; lead dedupe on email
// covers later re-runs of the lead creates).
func Seed(ctx context.Context, cfg Config) (Summary, error) {
	if end := cfg.End; !end.IsZero() && end.After(time.Now()) {
		return Summary{}, errors.New("demo: End is in the future; backfilled calls must lie in the past")
	}
	cfg, err := cfg.withDefaults(time.Now())
	if err != nil {
		return Summary{}, err
	}
	p := buildPlan(cfg, planOptions{keyPrefix: fmt.Sprintf("demo-%d", cfg.Seed)})
	r := newRunner(cfg, p, true, 0)
	started := time.Now()
	fmt.Fprintf(cfg.Log, "demo: seeding tenant %s with %d leads from %s to %s (seed %d, %d steps)\n",
		cfg.Tenant, cfg.LeadCount, cfg.Start.Format(time.DateOnly), cfg.End.Format(time.DateOnly), cfg.Seed, len(p.steps))
	sum, err := r.run(ctx)
	fmt.Fprintf(cfg.Log, "demo: %s in %s\n", sum, time.Since(started).Round(time.Millisecond))
	return sum, err
}

// Load runs the generator in real time — no backfill, every call dated now — at about rate
// calls per second for d (or until ctx ends), for benchmarks. Each run writes new records (its
// idempotency keys and email domains carry the run's start time), over plans of cfg.LeadCount
// leads generated one after another from cfg.Seed. It returns what it created; running out of
// time is not an error.
func Load(ctx context.Context, cfg Config, rate float64, d time.Duration) (Summary, error) {
	if rate <= 0 || d <= 0 {
		return Summary{}, fmt.Errorf("demo: Load needs a positive rate and duration, got %v/s for %s", rate, d)
	}
	now := time.Now()
	cfg.Start, cfg.End = time.Time{}, time.Time{}
	cfg, err := cfg.withDefaults(now)
	if err != nil {
		return Summary{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	run := now.UnixMilli()
	var total Summary
	fmt.Fprintf(cfg.Log, "demo: load on tenant %s at %.0f calls/s for %s\n", cfg.Tenant, rate, d)
	for round := int64(0); ; round++ {
		c := cfg
		c.Seed = cfg.Seed + round
		tag := fmt.Sprintf("l%x%d", run, round)
		p := buildPlan(c, planOptions{keyPrefix: "load-" + tag, domainTag: tag})
		sum, err := newRunner(c, p, false, rate).run(ctx)
		total = total.add(sum)
		if ctx.Err() != nil {
			// The duration is up: what ran is the result.
			fmt.Fprintf(cfg.Log, "demo: load finished: %s\n", total)
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

func (s Summary) add(o Summary) Summary {
	s.Leads += o.Leads
	s.Engagements += o.Engagements
	s.MQL += o.MQL
	s.SAL += o.SAL
	s.SQL += o.SQL
	s.Disqualified += o.Disqualified
	s.Recycled += o.Recycled
	s.Converted += o.Converted
	s.Accounts += o.Accounts
	s.Contacts += o.Contacts
	s.Opportunities += o.Opportunities
	s.StageMoves += o.StageMoves
	s.Quotes += o.Quotes
	s.Won += o.Won
	s.Lost += o.Lost
	s.Campaigns += o.Campaigns
	s.CostEntries += o.CostEntries
	s.Members += o.Members
	s.Responses += o.Responses
	return s
}
