package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	analyticsv1 "github.com/evcrm/evcrm/libs/gen/crm/analytics/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/tools/crmctl/internal/cli"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// system is the real services crmctl talks to in these tests: leads, pipeline and analytics
// as child processes (the binaries that ship) on one NATS server and a ClickHouse database.
type system struct {
	natsURL                              string
	leadsAddr, pipelineAddr, analyticsAx string
}

func startSystem(t *testing.T) *system {
	t.Helper()
	n := testkit.StartNATS(t)
	ch := testkit.SharedClickHouse(t)
	db := ch.NewDatabase(t)
	pipelineBin := testkit.BuildBinary(t, "github.com/evcrm/evcrm/services/pipeline/cmd/pipeline")
	leadsBin := testkit.BuildBinary(t, "github.com/evcrm/evcrm/services/leads/cmd/leads")
	analyticsBin := testkit.BuildBinary(t, "github.com/evcrm/evcrm/services/analytics/cmd/analytics")
	pipeline := testkit.StartProcess(t, pipelineBin, n)
	leads := testkit.StartProcess(t, leadsBin, n, "-pipeline-addr", pipeline.Addr())
	analytics := testkit.StartProcess(t, analyticsBin, n,
		"-clickhouse-addr", ch.Addr(), "-clickhouse-database", db, "-batch-wait", "50ms")
	return &system{natsURL: n.ClientURL(), leadsAddr: leads.Addr(), pipelineAddr: pipeline.Addr(), analyticsAx: analytics.Addr()}
}

// result is what one crmctl run printed and its exit code.
type result struct {
	stdout, stderr string
	code           int
}

// crmctl runs the command tree in process against s, as tenant acme and user u1.
func (s *system) crmctl(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	all := append([]string{"--leads-addr", s.leadsAddr, "--pipeline-addr", s.pipelineAddr,
		"--analytics-addr", s.analyticsAx, "--campaign-addr", "127.0.0.1:1", "--nats-url", s.natsURL,
		"--tenant", "acme", "--user", "u1"}, args...)
	code := cli.Execute(ctx, all, &out, &errOut)
	t.Logf("crmctl %s → exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errOut.String())
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// ok runs crmctl and requires it to succeed.
func (s *system) ok(t *testing.T, args ...string) string {
	t.Helper()
	r := s.crmctl(t, args...)
	require.Equal(t, 0, r.code, "crmctl %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.stdout, r.stderr)
	return r.stdout
}

// okJSON runs crmctl with --output json and decodes the response into m.
func (s *system) okJSON(t *testing.T, m proto.Message, args ...string) {
	t.Helper()
	out := s.ok(t, append(args, "--output", "json")...)
	require.NoError(t, protojson.Unmarshal([]byte(out), m), out)
}

// One set of services serves every subtest: starting them is most of the test's time.
func TestCrmctl(t *testing.T) {
	s := startSystem(t)

	var created leadsv1.CreateLeadResponse
	t.Run("lead create, get and list", func(t *testing.T) {
		s.okJSON(t, &created, "leads", "create", "--first-name", "Ada", "--last-name", "Lovelace",
			"--email", "ada@engines.example", "--company", "Analytical Engines", "--source", "web-form",
			"--annual-revenue", "2500000.50 EUR", "--tag", "vip,math")
		lead := created.GetLead()
		require.NotEmpty(t, lead.GetId())
		assert.Equal(t, leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM, lead.GetSource())
		assert.Equal(t, int64(2500000), lead.GetAnnualRevenue().GetUnits())
		assert.Equal(t, int32(500000000), lead.GetAnnualRevenue().GetNanos())
		assert.ElementsMatch(t, []string{"vip", "math"}, lead.GetTags())
		seq := created.GetResult().GetSequence()
		require.NotZero(t, seq)
		minSeq := []string{"--min-sequence", itoa(seq)}

		// Table: one "field value" line per populated field.
		out := s.ok(t, append([]string{"leads", "get", lead.GetId()}, minSeq...)...)
		assert.Regexp(t, `(?m)^lead\.email\s+ada@engines\.example$`, out)
		assert.Regexp(t, `(?m)^lead\.status\s+NEW$`, out)
		assert.Regexp(t, `(?m)^lead\.annual_revenue\s+2500000\.5 EUR$`, out)

		var got leadsv1.GetLeadResponse
		s.okJSON(t, &got, append([]string{"leads", "get", lead.GetId()}, minSeq...)...)
		assert.Equal(t, "Lovelace", got.GetLead().GetLastName())

		var list leadsv1.ListLeadsResponse
		s.okJSON(t, &list, append([]string{"leads", "list", "--status", "new", "--source", "web-form,event", "--all"}, minSeq...)...)
		require.Len(t, list.GetLeads(), 1)
		assert.Equal(t, lead.GetId(), list.GetLeads()[0].GetId())

		out = s.ok(t, append([]string{"leads", "list"}, minSeq...)...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		require.Len(t, lines, 2, out)
		assert.Regexp(t, `^ID\s+FIRST_NAME\s+LAST_NAME\s+EMAIL\s+COMPANY\s+STATUS\s+SCORE\.TOTAL`, lines[0])
		assert.Contains(t, lines[1], lead.GetId())
		assert.Contains(t, lines[1], "ada@engines.example")

		// Update: the flags given make the update mask.
		var upd leadsv1.UpdateLeadResponse
		s.okJSON(t, &upd, "leads", "update", lead.GetId(), "--job-title", "Countess")
		assert.Equal(t, "Countess", upd.GetLead().GetJobTitle())
		assert.Equal(t, "Analytical Engines", upd.GetLead().GetCompany())

		// --from-json reaches every field; flags override it.
		var fromJSON leadsv1.CreateLeadResponse
		s.okJSON(t, &fromJSON, "leads", "create", "--from-json",
			`{"lead": {"firstName": "Charles", "lastName": "Babbage", "email": "cb@engines.example", "source": "LEAD_SOURCE_REFERRAL", "utm": {"medium": "talk"}}}`,
			"--email", "charles@engines.example")
		assert.Equal(t, "charles@engines.example", fromJSON.GetLead().GetEmail())
		assert.Equal(t, "talk", fromJSON.GetLead().GetUtm().GetMedium())
	})

	t.Run("lead erase", func(t *testing.T) {
		var l leadsv1.CreateLeadResponse
		s.okJSON(t, &l, "leads", "create", "--last-name", "Forgetme", "--email", "forget.me@engines.example", "--source", "event")
		var erased leadsv1.ErasePersonResponse
		s.okJSON(t, &erased, "leads", "erase", l.GetLead().GetId(), "--reason", "DSR-9")
		assert.False(t, erased.GetAlreadyErased())
		var got leadsv1.GetLeadResponse
		s.okJSON(t, &got, "leads", "get", l.GetLead().GetId(), "--min-sequence", itoa(erased.GetResult().GetSequence()))
		assert.Equal(t, "[erased]", got.GetLead().GetEmail())
		r := s.crmctl(t, "contacts", "erase", "no-such-contact")
		assert.NotZero(t, r.code)
		assert.Contains(t, r.stderr, "NOT_FOUND")
	})

	t.Run("validation failure prints the field violations", func(t *testing.T) {
		r := s.crmctl(t, "leads", "create", "--first-name", "No", "--email", "not-an-email", "--country", "Germany")
		assert.Equal(t, 1, r.code)
		assert.Empty(t, r.stdout)
		assert.Contains(t, r.stderr, "Error: INVALID_ARGUMENT")
		assert.Regexp(t, `(?m)^  email: is not a valid email address$`, r.stderr)
		assert.Regexp(t, `(?m)^  country: .+$`, r.stderr)

		// A duplicate names the existing lead.
		r = s.crmctl(t, "leads", "create", "--first-name", "Ada", "--email", "ada@engines.example", "--source", "event")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "Error: ALREADY_EXISTS")
		assert.Contains(t, r.stderr, created.GetLead().GetId())

		// Bad flag values never reach the server.
		r = s.crmctl(t, "leads", "list", "--status", "bogus")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, `"bogus" is not one of NEW, MARKETING_QUALIFIED`)
		r = s.crmctl(t, "leads", "status", "0190")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "missing STATUS (usage: crmctl leads status LEAD_ID STATUS [flags])")
	})

	t.Run("import reports the bad row by its line", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "leads.csv")
		csv := "First Name,Last Name,E-mail,Company\n" +
			"Grace,Hopper,grace@navy.example,US Navy\n" +
			"Bad,Row,not-an-email,Nowhere\n" +
			"Alan,Turing,alan@bletchley.example,Bletchley Park\n"
		require.NoError(t, os.WriteFile(file, []byte(csv), 0o600))
		r := s.crmctl(t, "import", file, "--object", "lead")
		assert.Equal(t, 1, r.code, "a failed row fails the command\n%s%s", r.stdout, r.stderr)
		assert.Contains(t, r.stdout, "3 rows, 2 created, 0 updated, 0 skipped, 1 failed")
		assert.Regexp(t, `(?m)^LINE\s+OUTCOME\s+RECORD_ID\s+REASON$`, r.stdout)
		assert.Regexp(t, `(?m)^3\s+FAILED\s+.*email.*$`, r.stdout)
		assert.Contains(t, r.stderr, "1 of 3 rows failed")

		// JSON: the report itself; a dry run writes nothing.
		var report leadsv1.ImportReport
		out := s.crmctl(t, "import", file, "--object", "lead", "--dry-run", "--dedupe", "skip", "-o", "json")
		require.NoError(t, protojson.Unmarshal([]byte(out.stdout), &report), out.stdout)
		assert.True(t, report.GetDryRun())
		lines := map[int64]leadsv1.ImportRowOutcome{}
		for _, res := range report.GetResults() {
			lines[res.GetLine()] = res.GetOutcome()
		}
		assert.Equal(t, map[int64]leadsv1.ImportRowOutcome{2: leadsv1.ImportRowOutcome_IMPORT_ROW_OUTCOME_SKIPPED,
			3: leadsv1.ImportRowOutcome_IMPORT_ROW_OUTCOME_FAILED, 4: leadsv1.ImportRowOutcome_IMPORT_ROW_OUTCOME_SKIPPED}, lines)
	})

	t.Run("export writes CSV", func(t *testing.T) {
		// The import's rows reach the read model the export reads shortly after the report.
		file := filepath.Join(t.TempDir(), "out.csv")
		require.Eventually(t, func() bool {
			s.ok(t, "export", "--object", "lead", "--file", file)
			b, err := os.ReadFile(file)
			require.NoError(t, err)
			return strings.Contains(string(b), "grace@navy.example")
		}, 10*time.Second, 100*time.Millisecond)
		assert.Contains(t, s.ok(t, "export", "--object", "lead", "--tag", "vip"), "ada@engines.example")
	})

	t.Run("events tail from a sequence", func(t *testing.T) {
		out := s.ok(t, "events", "tail", "--stream", "leads", "--from-seq", "1", "--follow=false")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		require.GreaterOrEqual(t, len(lines), 5, out) // 2 created + update + 2 imported + ...
		var first struct {
			Stream   string `json:"stream"`
			Sequence uint64 `json:"sequence"`
			Subject  string `json:"subject"`
			Envelope struct {
				TenantID  string                     `json:"tenantId"`
				EventType string                     `json:"eventType"`
				Payload   map[string]json.RawMessage `json:"payload"`
			} `json:"envelope"`
		}
		require.NoError(t, json.Unmarshal([]byte(lines[0]), &first), lines[0])
		assert.Equal(t, "CRM_LEADS", first.Stream)
		assert.Equal(t, uint64(1), first.Sequence)
		assert.Equal(t, "acme", first.Envelope.TenantID)
		assert.Equal(t, "crm.leads.v1.LeadCreated", first.Envelope.EventType)
		assert.Contains(t, first.Envelope.Payload, "lead", "the payload is decoded, not base64")
		assert.Equal(t, "crm.acme.lead."+created.GetLead().GetId()+".LeadCreated", first.Subject)

		// Filters and a limit; a table line per event.
		out = s.ok(t, "events", "tail", "--stream", "CRM_LEADS", "--from-start", "--event-type", "LeadDetailsUpdated",
			"--follow=false", "-o", "table")
		lines = strings.Split(strings.TrimSpace(out), "\n")
		require.Len(t, lines, 2, out)
		assert.Contains(t, lines[1], "crm.leads.v1.LeadDetailsUpdated")

		out = s.ok(t, "events", "tail", "--from-start", "--limit", "2")
		assert.Len(t, strings.Split(strings.TrimSpace(out), "\n"), 2)

		r := s.crmctl(t, "events", "tail", "--from-seq", "3")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "give exactly one --stream")
	})

	t.Run("opportunity through the pipeline", func(t *testing.T) {
		var pl pipelinev1.GetPipelineResponse
		s.okJSON(t, &pl, "pipelines", "get", "default")
		var open []string
		for _, st := range pl.GetPipeline().GetStages() {
			if st.GetKind() == pipelinev1.StageKind_STAGE_KIND_OPEN {
				open = append(open, st.GetId())
			}
		}
		require.GreaterOrEqual(t, len(open), 2)
		var opp pipelinev1.CreateOpportunityResponse
		s.okJSON(t, &opp, "opportunities", "create", "--name", "Engines - difference", "--amount", "48000 EUR",
			"--close-date", time.Now().UTC().AddDate(0, 2, 0).Format(time.DateOnly), "--probability", "35")
		assert.True(t, opp.GetOpportunity().GetProbabilityOverridden())
		id := opp.GetOpportunity().GetId()
		out := s.ok(t, "opportunities", "move-stage", id, open[1])
		assert.Regexp(t, `(?m)^opportunity\.stage_id\s+`+open[1]+`$`, out)
		var won pipelinev1.MarkOpportunityWonResponse
		s.okJSON(t, &won, "opportunities", "close", "won", id, "--note", "signed")
		assert.Equal(t, pipelinev1.OpportunityStatus_OPPORTUNITY_STATUS_WON, won.GetOpportunity().GetStatus())
	})

	t.Run("analytics queries", func(t *testing.T) {
		// The projector is asynchronous: wait until it has caught up with every stream.
		require.Eventually(t, func() bool {
			var st analyticsv1.GetProjectionStatusResponse
			s.okJSON(t, &st, "analytics", "status")
			for _, str := range st.GetStreams() {
				if str.GetPending() > 0 || str.GetProjectedSequence() < str.GetLastSequence() {
					return false
				}
			}
			return len(st.GetStreams()) > 0
		}, 30*time.Second, 200*time.Millisecond)

		var funnel analyticsv1.GetFunnelResponse
		s.okJSON(t, &funnel, "analytics", "funnel", "--period", "year")
		var createdLeads int64
		for _, c := range funnel.GetCohorts() {
			for _, st := range c.GetSteps() {
				if st.GetStep() == "created" {
					createdLeads += st.GetCount()
				}
			}
		}
		assert.Equal(t, int64(5), createdLeads, "Ada, Charles, the erased lead (erasure keeps the facts) and the two imported leads")

		out := s.ok(t, "analytics", "funnel", "--period", "year", "--breakdown", "source")
		assert.Regexp(t, `(?m)^PERIOD_START\s+KEY\s+STEP\s+COUNT\s+STEP_CONVERSION`, out)
		assert.Regexp(t, `(?m)\s+created\s+`, out)

		var velocity analyticsv1.GetSalesVelocityResponse
		s.okJSON(t, &velocity, "analytics", "velocity", "--currency", "EUR", "--period", "year")
		var wonDeals int64
		for _, row := range velocity.GetRows() {
			wonDeals += row.GetWon()
		}
		assert.Equal(t, int64(1), wonDeals)
	})

	t.Run("unreachable service", func(t *testing.T) {
		r := s.crmctl(t, "--timeout", "2s", "campaigns", "list")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "Error: ")
	})
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
