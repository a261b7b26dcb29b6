package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	analyticsv1 "github.com/evcrm/evcrm/libs/gen/crm/analytics/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
)

// The whole system as a new user meets it: `crmdev run` on a fresh data dir (free ports, a
// small demo seed), then a short sales story told through the two front doors a user has,
// the crmctl binary and the REST/JSON gateway, and the analytics answers for the story's owner
// must be the story's numbers exactly (the owner filter keeps the demo data out of them). The
// dashboard of the same system renders the demo numbers in headless Chromium (when it is
// installed; CI requires it). Then Ctrl-C and a second start on the same data dir, which must
// still know the story: `make run` twice in a row.
func TestEndToEndSalesStory(t *testing.T) {
	if testing.Short() {
		t.Skip("starts ClickHouse and the four services")
	}
	requireClickHouse(t)
	launcherBin := buildLauncher(t)
	ctl := &crmctlRunner{bin: buildCrmctl(t)}
	bins := serviceBins(t)
	dir := t.TempDir()
	addrs := freeAddrs(t)
	ctl.env = append(withoutEVCRM(os.Environ()),
		"EVCRM_LEADS_ADDR="+addrs["leads-grpc-addr"],
		"EVCRM_PIPELINE_ADDR="+addrs["pipeline-grpc-addr"],
		"EVCRM_CAMPAIGN_ADDR="+addrs["campaign-grpc-addr"],
		"EVCRM_ANALYTICS_ADDR="+addrs["analytics-grpc-addr"],
		"EVCRM_TENANT="+demoTenant, "EVCRM_USER="+storyUser)
	rest := &restClient{t: t}

	first := startLauncher(t, launcherBin, dir, addrs, "--demo-leads", strconv.Itoa(storyDemoLeads), "--bin-dir", bins)
	first.waitFor(t, readyLine, 4*time.Minute)
	// The services run JWT authentication: the story's user signs in with a token of the
	// launcher's key, for crmctl and REST alike.
	storyToken := mintToken(t, dir, storyUser, "admin")
	// NATS (events tail) as the launcher's admin user, whose password is new every start.
	natsAdmin := filepath.Join(dir, "auth", natsAdminURLFile)
	ctl.env = append(ctl.env, "EVCRM_TOKEN="+storyToken, "EVCRM_NATS_URL="+readTokenFile(t, natsAdmin))
	rest.token = storyToken
	if !strings.Contains(first.output(), "demo data: seeded") {
		t.Fatalf("the first start did not seed the demo data")
	}
	leadsURL := "http://" + addrs["leads-http-addr"]
	pipelineURL := "http://" + addrs["pipeline-http-addr"]
	analyticsURL := "http://" + addrs["analytics-http-addr"]

	// Lead A through crmctl, lead B through REST; both belong to the story's owner.
	var a leadsv1.CreateLeadResponse
	ctl.json(t, &a, "leads", "create", "--first-name", "Grace", "--last-name", "Hopper",
		"--email", "grace@crmdev-e2e.example", "--company", "Compilers Inc", "--source", "web-form",
		"--owner", storyOwner)
	leadA := a.GetLead().GetId()
	var b leadsv1.CreateLeadResponse
	rest.do(http.MethodPost, leadsURL+"/v1/leads", `{"lead": {"firstName": "Charles", "lastName": "Babbage",
		"email": "charles@crmdev-e2e.example", "company": "Difference Engines", "source": "LEAD_SOURCE_REFERRAL",
		"ownerId": "`+storyOwner+`"}}`, &b)
	leadB := b.GetLead().GetId()
	if leadA == "" || leadB == "" || b.GetLead().GetOwnerId() != storyOwner {
		t.Fatalf("created %q (crmctl) and %v (REST)", leadA, b.GetLead())
	}

	// Both through MQL and SAL, BANT, to SQL: A with crmctl, B with REST.
	ctl.run(t, "leads", "status", leadA, "marketing-qualified")
	ctl.run(t, "leads", "status", leadA, "sales-accepted")
	ctl.run(t, "leads", "bant", leadA, "--budget", "50000 USD", "--budget-confirmed", "--authority", "CFO",
		"--authority-confirmed", "--need", "reporting", "--need-confirmed", "--timeline", "2030-03-31", "--timeline-confirmed")
	ctl.run(t, "leads", "status", leadA, "sales-qualified")
	for _, st := range []string{"MARKETING_QUALIFIED", "SALES_ACCEPTED"} {
		rest.do(http.MethodPost, leadsURL+"/v1/leads/"+leadB+":changeStatus", `{"status": "LEAD_STATUS_`+st+`"}`, nil)
	}
	rest.do(http.MethodPost, leadsURL+"/v1/leads/"+leadB+":setBant", `{"bant": {
		"budget": {"currencyCode": "USD", "units": "20000"}, "budgetConfirmed": true,
		"authority": "CTO", "authorityConfirmed": true, "need": "forecasting", "needConfirmed": true,
		"timeline": "2030-06-30T00:00:00Z", "timelineConfirmed": true}}`, nil)
	var sqlB leadsv1.ChangeLeadStatusResponse
	rest.do(http.MethodPost, leadsURL+"/v1/leads/"+leadB+":changeStatus", `{"status": "LEAD_STATUS_SALES_QUALIFIED"}`, &sqlB)
	if sqlB.GetLead().GetStatus() != leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED {
		t.Fatalf("lead B is %v after the move to SQL", sqlB.GetLead().GetStatus())
	}

	// A converts (REST) into an account, a contact and a 48,000 USD opportunity, which moves
	// to Proposal (REST) and is won (crmctl). B stays a sales-qualified lead.
	var conv leadsv1.ConvertLeadResponse
	rest.do(http.MethodPost, leadsURL+"/v1/leads/"+leadA+":convert",
		`{"opportunity": {"name": "Compilers - platform", "amount": {"currencyCode": "USD", "units": "48000"}}}`, &conv)
	opp := conv.GetOpportunityId()
	if opp == "" || conv.GetAccountId() == "" || conv.GetContactId() == "" {
		t.Fatalf("ConvertLead: %v", &conv)
	}
	var moved pipelinev1.MoveOpportunityStageResponse
	rest.do(http.MethodPost, pipelineURL+"/v1/opportunities/"+opp+":moveStage", `{"stageId": "proposal"}`, &moved)
	if moved.GetOpportunity().GetStageId() != "proposal" || moved.GetOpportunity().GetOwnerId() != storyOwner {
		t.Fatalf("after moveStage the opportunity is in %q, owned by %q", moved.GetOpportunity().GetStageId(), moved.GetOpportunity().GetOwnerId())
	}
	var won pipelinev1.MarkOpportunityWonResponse
	ctl.json(t, &won, "opportunities", "close", "won", opp, "--note", "signed")
	o := won.GetOpportunity()
	if o.GetStatus() != pipelinev1.OpportunityStatus_OPPORTUNITY_STATUS_WON {
		t.Fatalf("the opportunity is %v after close won", o.GetStatus())
	}

	// The story's numbers, for the owner, over a range around today (a month's cohort, or two
	// when the test runs at a month's turn: the sums do not care).
	ctl.waitProjected(t)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	rng := url.Values{
		"range.from":       {today.AddDate(0, 0, -1).Format(time.RFC3339)},
		"range.to":         {today.AddDate(0, 0, 2).Format(time.RFC3339)},
		"period":           {"PERIOD_MONTH"},
		"filters.ownerIds": {storyOwner},
	}
	wantFunnel := map[string]int64{"created": 2, "mql": 2, "sal": 2, "sql": 2, "converted": 1, "won": 1}
	checkStoryFunnel(t, rest, analyticsURL, rng, wantFunnel)

	// Sales velocity: one win of 48,000 USD, nothing lost, nothing open at the end; the cycle
	// is the opportunity's life from creation to the win, in the whole seconds ClickHouse keeps.
	var vel analyticsv1.GetSalesVelocityResponse
	vq := cloneValues(rng)
	vq.Set("currency", "USD")
	rest.do(http.MethodGet, analyticsURL+"/v1/analytics/sales-velocity?"+vq.Encode(), "", &vel)
	var wonN, lostN int64
	for _, r := range vel.GetRows() {
		wonN += r.GetWon()
		lostN += r.GetLost()
	}
	if wonN != 1 || lostN != 0 {
		t.Errorf("velocity: %d won, %d lost, want 1 and 0: %v", wonN, lostN, &vel)
	}
	if rows := vel.GetRows(); len(rows) > 0 {
		last := rows[len(rows)-1]
		wonAt := o.GetStageEnteredAt().AsTime()
		cycle := float64(wonAt.Unix()-o.GetCreatedAt().AsTime().Unix()) / 86400
		if len(rows) == 1 {
			if last.GetWinRate() != 1 {
				t.Errorf("win rate %v, want 1", last.GetWinRate())
			}
			if m := last.GetAverageDealSize(); m.GetUnits() != 48000 || m.GetNanos() != 0 || m.GetCurrencyCode() != "USD" {
				t.Errorf("average deal size %v, want 48000 USD", m)
			}
			if d := last.GetSalesCycleDays(); math.Abs(d-cycle) > 1e-12 {
				t.Errorf("sales cycle %v days, want %v (created %s, won %s)", d, cycle,
					o.GetCreatedAt().AsTime().Format(time.RFC3339Nano), wonAt.Format(time.RFC3339Nano))
			}
			if m := last.GetVelocityPerDay(); m.GetUnits() != 0 || m.GetNanos() != 0 {
				t.Errorf("velocity %v per day, want 0 (nothing open)", m)
			}
		}
		if n := last.GetOpenOpportunities(); n != 0 {
			t.Errorf("%d open opportunities at the end, want 0", n)
		}
	}

	// The dashboard of the running system, in a real browser.
	t.Run("dashboard", func(t *testing.T) {
		checkLauncherDashboard(t, analyticsURL, today, readTokenFile(t, filepath.Join(dir, "auth", "analyst.token")))
	})

	// Ctrl-C, then `make run` again on the same data dir: no new seed, and the story is there
	// in the read models and in ClickHouse, counted once.
	first.interrupt(t)
	checkNothingLeft(t, dir, addrs)
	second := startLauncher(t, launcherBin, dir, addrs, "--demo-leads", strconv.Itoa(storyDemoLeads), "--bin-dir", bins)
	second.waitFor(t, readyLine, 3*time.Minute)
	if !strings.Contains(second.output(), "demo data: already loaded") {
		t.Errorf("the second start did not find the demo data")
	}
	ctl.env = append(ctl.env, "EVCRM_NATS_URL="+readTokenFile(t, natsAdmin)) // exec: the last one wins
	var gotA leadsv1.GetLeadResponse
	ctl.json(t, &gotA, "leads", "get", leadA)
	if gotA.GetLead().GetStatus() != leadsv1.LeadStatus_LEAD_STATUS_CONVERTED || gotA.GetLead().GetEmail() != "grace@crmdev-e2e.example" {
		t.Errorf("after the restart lead A is %v", gotA.GetLead())
	}
	var gotB leadsv1.GetLeadResponse
	rest.do(http.MethodGet, leadsURL+"/v1/leads/"+leadB, "", &gotB)
	if gotB.GetLead().GetStatus() != leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED {
		t.Errorf("after the restart lead B is %v", gotB.GetLead())
	}
	ctl.waitProjected(t)
	checkStoryFunnel(t, rest, analyticsURL, rng, wantFunnel)
	second.interrupt(t)
	checkNothingLeft(t, dir, addrs)
}

const (
	// storyDemoLeads keeps the seed to a few seconds; the story's own numbers come from the
	// owner filter, not from the size of the demo data.
	storyDemoLeads = 40
	storyOwner     = "e2e-story-owner"
	storyUser      = "e2e-story"
)

// checkStoryFunnel asks the REST gateway for the funnel of the story's owner and compares the
// step counts, added up over the cohorts, with want.
func checkStoryFunnel(t *testing.T, rest *restClient, analyticsURL string, rng url.Values, want map[string]int64) {
	t.Helper()
	var f analyticsv1.GetFunnelResponse
	rest.do(http.MethodGet, analyticsURL+"/v1/analytics/funnel?"+rng.Encode(), "", &f)
	got := map[string]int64{}
	for _, c := range f.GetCohorts() {
		for _, s := range c.GetSteps() {
			got[s.GetStep()] += s.GetCount()
		}
	}
	for step, n := range want {
		if got[step] != n {
			t.Errorf("funnel %s = %d, want %d (%v)", step, got[step], n, &f)
		}
	}
	if len(f.GetCohorts()) == 1 {
		for _, s := range f.GetCohorts()[0].GetSteps() {
			if s.GetStep() == "converted" && s.GetStepConversion() != 0.5 {
				t.Errorf("SQL → converted %v, want 0.5", s.GetStepConversion())
			}
			if s.GetStep() == "won" && (s.GetStepConversion() != 1 || s.GetOverallConversion() != 0.5) {
				t.Errorf("won: step %v, overall %v, want 1 and 0.5", s.GetStepConversion(), s.GetOverallConversion())
			}
		}
	}
}

func cloneValues(v url.Values) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// buildCrmctl builds the crmctl command into the test's temp dir.
func buildCrmctl(t *testing.T) string {
	t.Helper()
	repo, err := findRepo(".")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "crmctl")
	cmd := exec.Command("go", "build", "-o", bin, "./tools/crmctl")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build crmctl: %v\n%s", err, out)
	}
	return bin
}

// crmctlRunner runs the crmctl binary with the launcher's addresses in its environment, as a
// user's shell would have them.
type crmctlRunner struct {
	bin string
	env []string
}

// run runs crmctl and fails the test unless it exits 0; it returns stdout.
func (c *crmctlRunner) run(t *testing.T, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("crmctl %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.Bytes()
}

// json runs crmctl with --output json and decodes the response into m.
func (c *crmctlRunner) json(t *testing.T, m proto.Message, args ...string) {
	t.Helper()
	out := c.run(t, append(args, "--output", "json")...)
	if err := protojson.Unmarshal(out, m); err != nil {
		t.Fatalf("crmctl %s printed %s: %v", strings.Join(args, " "), out, err)
	}
}

// waitProjected waits, through `crmctl analytics status`, until the projector has caught up
// with every stream; the story's writes all returned before, so they are projected then.
func (c *crmctlRunner) waitProjected(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		var st analyticsv1.GetProjectionStatusResponse
		c.json(t, &st, "analytics", "status")
		done := len(st.GetStreams()) == 3 && !st.GetRebuilding()
		for _, s := range st.GetStreams() {
			if s.GetPending() != 0 || s.GetProjectedSequence() != s.GetLastSequence() {
				done = false
			}
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("analytics did not catch up within 90s: %v", &st)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// restClient calls the REST/JSON gateways with a bearer token, as curl would.
type restClient struct {
	t     *testing.T
	token string
}

// do sends body (JSON, or nothing when empty), requires 200 and decodes the answer into out.
func (r *restClient) do(method, u, body string, out proto.Message) {
	t := r.t
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s\n%s", method, u, resp.Status, b)
	}
	if out != nil {
		if err := protojson.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s answered %s: %v", method, u, b, err)
		}
	}
}

// checkLauncherDashboard loads the dashboard of the running launcher in headless Chromium and
// checks that it rendered the demo data (not placeholders, no failed card), and that the
// story's owner alone shows the story's numbers. It saves screenshots to $EVCRM_ARTIFACTS, or
// the test's temp dir.
func checkLauncherDashboard(t *testing.T, analyticsURL string, today time.Time, token string) {
	ctx := launcherBrowser(t)
	base := analyticsURL + "/dashboard/?tenant=" + demoTenant + "&currency=USD"
	// The page takes the token from the fragment, as the banner's dashboard link passes it.
	auth := "#token=" + token

	all := loadLauncherDashboard(t, ctx, base+auth)
	saveLauncherScreenshot(t, ctx, "crmdev-dashboard.png")
	if all.Errors != 0 {
		t.Errorf("%d cards failed: %s", all.Errors, all.Banner)
	}
	// 40 demo leads over the last year and the story's 2.
	for _, k := range []string{"kpi.leads_created", "funnel.created.count", "funnel.mql.count"} {
		if v, err := strconv.ParseFloat(all.Metrics[k], 64); err != nil || v <= 0 {
			t.Errorf("%s = %q, want a positive number", k, all.Metrics[k])
		}
	}
	svg, err := launcherEval(ctx, `document.querySelector("#chart-funnel svg")?.textContent ?? ""`)
	if err != nil || !strings.Contains(svg, "MQL") {
		t.Errorf("the funnel chart shows %q (%v)", svg, err)
	}

	// The same page for the story's owner is the story.
	story := loadLauncherDashboard(t, ctx, base+"&owner="+storyOwner+
		"&from="+today.AddDate(0, 0, -1).Format(time.DateOnly)+"&to="+today.AddDate(0, 0, 1).Format(time.DateOnly)+auth)
	saveLauncherScreenshot(t, ctx, "crmdev-dashboard-story.png")
	for k, want := range map[string]string{
		"funnel.created.count": "2", "funnel.sql.count": "2", "funnel.converted.count": "1", "funnel.won.count": "1",
		"velocity.won": "1", "velocity.lost": "0", "velocity.win_rate": "1", "velocity.average_deal_size": "48000",
	} {
		if got := story.Metrics[k]; got != want {
			t.Errorf("story dashboard: %s = %q, want %q", k, got, want)
		}
	}
}

// launcherPage is what the dashboard exposes once loaded: body data-errors, the error
// banner, and every data-metric's data-value.
type launcherPage struct {
	Errors  int               `json:"errors"`
	Banner  string            `json:"banner"`
	Metrics map[string]string `json:"metrics"`
}

// launcherBrowser starts headless Chromium for the test: $EVCRM_CHROMIUM or chromium on PATH.
// Without one the test is skipped, except under CI, where a skip would hide a missing install.
func launcherBrowser(t *testing.T) context.Context {
	t.Helper()
	exe := os.Getenv("EVCRM_CHROMIUM")
	for _, name := range []string{"chromium", "chromium-browser"} {
		if exe != "" {
			break
		}
		exe, _ = exec.LookPath(name)
	}
	if exe == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed (make deps installs Debian's chromium); CI requires the browser test")
		}
		t.Skip("chromium is not installed: `make deps` installs Debian's chromium")
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // root in CI containers
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// No traffic but the page's: Chromium's own background connections would only fail.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 1000),
	)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	// The first action starts the browser; it must not run under a timeout (that would stop it).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	return ctx
}

// loadLauncherDashboard opens u and waits until every card has rendered (body
// data-state="ready"), then reads what the page shows.
func loadLauncherDashboard(t *testing.T, ctx context.Context, u string) launcherPage {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		t.Fatalf("loading %s: %v", u, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.body.dataset.state === "ready"`,
		chromedp.WithPollingTimeout(75*time.Second))); err != nil {
		t.Fatalf("%s did not become ready: %v", u, err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({
		errors: Number(document.body.dataset.errors || 0),
		banner: document.getElementById("errors")?.innerText ?? "",
		metrics: Object.fromEntries([...document.querySelectorAll("[data-metric]")]
			.map((e) => [e.dataset.metric, e.dataset.value ?? ""])),
	})`))
	if err != nil {
		t.Fatalf("reading %s: %v", u, err)
	}
	var p launcherPage
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func launcherEval(ctx context.Context, expr string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[string](expr))
}

// saveLauncherScreenshot saves a full-page PNG to $EVCRM_ARTIFACTS (CI keeps it) or the test's
// temp dir, and logs where.
func saveLauncherScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	dir := os.Getenv("EVCRM_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}
