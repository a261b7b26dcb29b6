package demo

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"

	analyticsv1 "github.com/evcrm/evcrm/libs/gen/crm/analytics/v1"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// system is the four services running as processes on one NATS and ClickHouse, with
// development auth and backfill allowed, as the launcher runs them.
type system struct {
	nats                                *testkit.NATS
	leads, pipeline, campaign, analytic *testkit.Process
	bins                                map[string]string
}

func startSystem(t *testing.T) *system {
	t.Helper()
	ch := testkit.SharedClickHouse(t)
	s := &system{nats: testkit.StartNATS(t), bins: map[string]string{}}
	for _, svc := range []string{"leads", "pipeline", "campaign", "analytics"} {
		s.bins[svc] = testkit.BuildBinary(t, "github.com/evcrm/evcrm/services/"+svc+"/cmd/"+svc)
	}
	s.pipeline = testkit.StartProcess(t, s.bins["pipeline"], s.nats, "-allow-backfill")
	s.leads = testkit.StartProcess(t, s.bins["leads"], s.nats, "-allow-backfill", "-pipeline-addr", s.pipeline.Addr())
	s.campaign = testkit.StartProcess(t, s.bins["campaign"], s.nats, "-allow-backfill", "-leads-addr", s.leads.Addr())
	s.analytic = testkit.StartProcess(t, s.bins["analytics"], s.nats, "-clickhouse-addr", ch.Addr(),
		"-clickhouse-database", ch.NewDatabase(t), "-batch-wait", "100ms")
	return s
}

func (s *system) config(t *testing.T, leads int) Config {
	return Config{Seed: 42, Tenant: "acme", LeadCount: leads,
		LeadsConn: s.leads.Conn(t), PipelineConn: s.pipeline.Conn(t), CampaignConn: s.campaign.Conn(t), AnalyticsConn: s.analytic.Conn(t),
		Log: testLog{t}}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(string(b[:len(b)-1]))
	return len(b), nil
}

func asDemo(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, mdTenant, "acme", mdUser, DefaultUser)
}

// listed counts what the services list, paging through everything.
type listed struct{ leads, accounts, opportunities, won, campaigns int }

func count(ctx context.Context, t *testing.T, cfg Config) listed {
	t.Helper()
	ctx = asDemo(ctx)
	var n listed
	page := func(f func(token string) (string, int, error)) int {
		total, token := 0, ""
		for {
			next, got, err := f(token)
			if err != nil {
				t.Fatal(err)
			}
			total += got
			if token = next; token == "" {
				return total
			}
		}
	}
	leads := leadsv1.NewLeadsServiceClient(cfg.LeadsConn)
	accounts := leadsv1.NewAccountsServiceClient(cfg.LeadsConn)
	pipe := pipelinev1.NewPipelineServiceClient(cfg.PipelineConn)
	camp := campaignv1.NewCampaignServiceClient(cfg.CampaignConn)
	n.leads = page(func(tok string) (string, int, error) {
		r, err := leads.ListLeads(ctx, &leadsv1.ListLeadsRequest{PageSize: 1000, PageToken: tok})
		return r.GetNextPageToken(), len(r.GetLeads()), err
	})
	n.accounts = page(func(tok string) (string, int, error) {
		r, err := accounts.ListAccounts(ctx, &leadsv1.ListAccountsRequest{PageSize: 1000, PageToken: tok})
		return r.GetNextPageToken(), len(r.GetAccounts()), err
	})
	n.opportunities = page(func(tok string) (string, int, error) {
		r, err := pipe.ListOpportunities(ctx, &pipelinev1.ListOpportunitiesRequest{PageSize: 1000, PageToken: tok})
		return r.GetNextPageToken(), len(r.GetOpportunities()), err
	})
	n.won = page(func(tok string) (string, int, error) {
		r, err := pipe.ListOpportunities(ctx, &pipelinev1.ListOpportunitiesRequest{PageSize: 1000, PageToken: tok,
			Statuses: []pipelinev1.OpportunityStatus{pipelinev1.OpportunityStatus_OPPORTUNITY_STATUS_WON}})
		return r.GetNextPageToken(), len(r.GetOpportunities()), err
	})
	n.campaigns = page(func(tok string) (string, int, error) {
		r, err := camp.ListCampaigns(ctx, &campaignv1.ListCampaignsRequest{PageSize: 1000, PageToken: tok})
		return r.GetNextPageToken(), len(r.GetCampaigns()), err
	})
	return n
}

// eventually retries check until it returns "" or the time is up, and fails with its last
// answer.
func eventually(t *testing.T, d time.Duration, check func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func TestSeed(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole system")
	}
	s := startSystem(t)
	// EVCRM_DEMO_TEST_LEADS sizes the run, to measure a larger seed with the same checks.
	leads := 150
	if n, err := strconv.Atoi(os.Getenv("EVCRM_DEMO_TEST_LEADS")); err == nil && n > 0 {
		leads = n
	}
	cfg := s.config(t, leads)
	ctx := t.Context()

	first, err := Seed(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first run: %s", first)
	if first.Leads != leads || first.Converted == 0 || first.Won == 0 || first.Lost == 0 || first.Quotes == 0 ||
		first.Members == 0 || first.Responses == 0 || first.Disqualified == 0 || first.Campaigns < 10 {
		t.Fatalf("the year lacks something: %s", first)
	}
	if first.Accounts != first.Converted || first.Contacts != first.Converted || first.Opportunities != first.Converted {
		t.Errorf("each conversion should create an account, a contact and an opportunity: %s", first)
	}
	if rate := float64(first.Won) / float64(first.Won+first.Lost); rate < 0.1 || rate > 0.5 {
		t.Errorf("win rate %.2f is implausible (%d won, %d lost)", rate, first.Won, first.Lost)
	}
	want := listed{leads: first.Leads, accounts: first.Accounts, opportunities: first.Opportunities, won: first.Won, campaigns: first.Campaigns}
	eventually(t, 30*time.Second, func() string {
		if got := count(ctx, t, cfg); got != want {
			return "the services list " + fmtListed(got) + ", the summary says " + fmtListed(want)
		}
		return ""
	})

	// The same seed again converges: the same summary, nothing new.
	second, err := Seed(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if second != first {
		t.Errorf("second run: %s\nfirst run:  %s", second, first)
	}
	if got := count(ctx, t, cfg); got != want {
		t.Errorf("after the second run the services list %s, want %s", fmtListed(got), fmtListed(want))
	}

	loadSmoke(t, cfg)

	// Backfill reached ClickHouse: the funnel over the year has every step, spread over months.
	c := cfg
	c, _ = c.withDefaults(time.Now())
	an := analyticsv1.NewAnalyticsServiceClient(cfg.AnalyticsConn)
	eventually(t, 90*time.Second+time.Duration(leads)*100*time.Millisecond, func() string {
		res, err := an.GetFunnel(asDemo(ctx), &analyticsv1.GetFunnelRequest{
			Range:  &analyticsv1.TimeRange{From: timestamppb.New(c.Start), To: timestamppb.New(c.End)},
			Period: analyticsv1.Period_PERIOD_MONTH})
		if err != nil {
			return err.Error()
		}
		steps := map[string]int64{}
		var order []string
		months := 0
		for _, co := range res.GetCohorts() {
			if len(co.GetSteps()) > 0 && co.GetSteps()[0].GetCount() > 0 {
				months++
			}
			for _, st := range co.GetSteps() {
				if _, ok := steps[st.GetStep()]; !ok {
					order = append(order, st.GetStep())
				}
				steps[st.GetStep()] += st.GetCount()
			}
		}
		if len(order) == 0 {
			return "the funnel is empty"
		}
		for _, st := range order {
			if steps[st] == 0 {
				return "funnel step " + st + " is empty: " + fmtSteps(order, steps)
			}
		}
		if months < 10 {
			return "leads were created in only " + fmt.Sprint(months) + " months of the year: " + fmtSteps(order, steps)
		}
		if steps[order[0]] != int64(first.Leads) {
			return "the funnel starts with " + fmt.Sprint(steps[order[0]]) + " leads, want " + fmt.Sprint(first.Leads) + ": " + fmtSteps(order, steps)
		}
		t.Logf("funnel over %d months: %s", months, fmtSteps(order, steps))
		return ""
	})
}

func fmtListed(l listed) string {
	return fmt.Sprintf("%d leads, %d accounts, %d opportunities (%d won), %d campaigns", l.leads, l.accounts, l.opportunities, l.won, l.campaigns)
}

func fmtSteps(order []string, steps map[string]int64) string {
	var b strings.Builder
	for i, st := range order {
		if i > 0 {
			b.WriteString(" → ")
		}
		fmt.Fprintf(&b, "%s %d", st, steps[st])
	}
	return b.String()
}

// loadSmoke runs the load generator briefly on its own tenant: real time, no backfill.
func loadSmoke(t *testing.T, cfg Config) {
	t.Helper()
	cfg.Tenant, cfg.LeadCount = "loadtest", 100
	started := time.Now()
	sum, err := Load(t.Context(), cfg, 40, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(started); took > 10*time.Second {
		t.Errorf("Load for 3s took %s", took)
	}
	if sum.Leads == 0 || sum.Campaigns == 0 {
		t.Errorf("Load created nothing: %s", sum)
	}
	res, err := leadsv1.NewLeadsServiceClient(cfg.LeadsConn).ListLeads(
		metadata.AppendToOutgoingContext(t.Context(), mdTenant, "loadtest", mdUser, DefaultUser),
		&leadsv1.ListLeadsRequest{PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.GetLeads()) > 0 && time.Since(res.GetLeads()[0].GetCreatedAt().AsTime()) > time.Minute {
		t.Errorf("Load backfilled: a lead was created at %s", res.GetLeads()[0].GetCreatedAt().AsTime())
	}
}
