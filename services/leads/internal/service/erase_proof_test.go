package service_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/timestamppb"

	analyticsv1 "github.com/evcrm/evcrm/libs/gen/crm/analytics/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/testkit"
	leadsgrpc "github.com/evcrm/evcrm/services/leads/internal/ports/grpc"
	"github.com/evcrm/evcrm/services/leads/internal/service"
)

// lockedBuffer collects a process's log lines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The erasure proof (issue 10): a lead and a contact with a distinctive email flow through the
// leads service (real gRPC, JetStream on file storage in a temp dir), its read models and the
// analytics projector into ClickHouse; after ErasePerson the email's bytes are nowhere — not in
// the JetStream store files (events or the key bucket), not in any column of any ClickHouse
// table (after OPTIMIZE ... FINAL merged every part), not in the read-model files or their
// WAL, not in the logs of either service (debug level) — and the funnel counts are what they
// were before the erasure.
func TestErasureProof(t *testing.T) {
	if testing.Short() {
		t.Skip("starts ClickHouse and the analytics service")
	}
	n := testkit.StartNATS(t)
	ch := testkit.SharedClickHouse(t)
	db := ch.NewDatabase(t)
	const email, contactEmail = "ada.proof.zq4@erase-proof.test", "alan.proof.zq4@erase-proof.test"
	secrets := []string{email, contactEmail, "Lovelacezq4", "Turingzq4"}

	// Analytics, the binary that ships, with its log captured at debug level.
	var analyticsLog lockedBuffer
	analyticsDir := t.TempDir()
	analyticsAddr := testkit.FreeAddr(t)
	cmd := exec.Command(testkit.BuildBinary(t, "github.com/evcrm/evcrm/services/analytics/cmd/analytics"),
		"-nats-url", n.ClientURL(), "-grpc-addr", analyticsAddr, "-metrics-addr", "", "-http-addr", "", "-dev-auth",
		"-data-dir", analyticsDir, "-log-level", "debug",
		"-clickhouse-addr", ch.Addr(), "-clickhouse-database", db, "-batch-wait", "50ms")
	cmd.Stdout, cmd.Stderr = &analyticsLog, &analyticsLog
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	// Leads in process (its read models in dataDir), its log captured at debug level.
	var leadsLog lockedBuffer
	dataDir := t.TempDir()
	svcCtx, stopSvc := context.WithCancel(context.Background())
	svc, err := service.New(svcCtx, n.Connect(t), service.Options{DataDir: dataDir,
		Logger: slog.New(slog.NewJSONHandler(&leadsLog, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	require.NoError(t, err)
	var workers sync.WaitGroup
	for _, w := range svc.Workers() {
		workers.Go(func() { _ = w.Run(svcCtx) })
	}
	t.Cleanup(func() { stopSvc(); workers.Wait(); _ = svc.Close() })
	g := testkit.StartGRPC(t, func(s *grpcserver.Server) { leadsgrpc.Register(s, svc.App) })
	leads := leadsv1.NewLeadsServiceClient(g.Conn)
	contacts := leadsv1.NewContactsServiceClient(g.Conn)
	conn, err := grpc.NewClient("passthrough:///"+analyticsAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	analytics := analyticsv1.NewAnalyticsServiceClient(conn)
	ctx := testkit.As(t, "acme", "dpo")

	// A lead that moves through the funnel, another that stays, and a contact.
	cl, err := leads.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{FirstName: "Ada", LastName: "Lovelacezq4",
		Email: email, Company: "Engines Ltd", Country: "GB", Source: leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM}})
	require.NoError(t, err)
	leadID := cl.GetLead().GetId()
	mql, err := leads.ChangeLeadStatus(ctx, &leadsv1.ChangeLeadStatusRequest{LeadId: leadID, Status: leadsv1.LeadStatus_LEAD_STATUS_MARKETING_QUALIFIED})
	require.NoError(t, err)
	other, err := leads.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{LastName: "Bystander", Email: "by@example.com",
		Source: leadsv1.LeadSource_LEAD_SOURCE_EVENT}})
	require.NoError(t, err)
	cc, err := contacts.CreateContact(ctx, &leadsv1.CreateContactRequest{Contact: &leadsv1.Contact{FirstName: "Alan", LastName: "Turingzq4",
		Email: contactEmail, MailingAddress: &leadsv1.Address{Street: "Bletchley Park", Country: "GB"}}})
	require.NoError(t, err)
	contactID := cc.GetContact().GetId()

	tryQuery := func(q string) (string, error) {
		rows, err := ch.ConnDatabase(t, db).Query(context.Background(), q)
		if err != nil {
			return "", err
		}
		defer rows.Close()
		var out string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return "", err
			}
			out += s + "\n"
		}
		return out, rows.Err()
	}
	chq := func(q string) string {
		t.Helper()
		out, err := tryQuery(q)
		require.NoError(t, err, q)
		return out
	}
	waitEvents := func(id string, want int) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			// Until the analytics service has applied its migrations the table does not exist.
			got, err := tryQuery(fmt.Sprintf("SELECT toString(count()) FROM (SELECT DISTINCT seq FROM events WHERE aggregate_id = '%s')", id))
			if strings.TrimSpace(got) == fmt.Sprint(want) {
				return
			}
			require.True(t, time.Now().Before(deadline), "ClickHouse has %q events of %s (%v), want %d\nanalytics log:\n%s", got, id, err, want, analyticsLog.String())
			time.Sleep(200 * time.Millisecond)
		}
	}
	// The versions come from the write results: a GetLead without a minimum sequence may answer
	// from a read model that has not applied the status change yet.
	waitEvents(leadID, int(mql.GetResult().GetVersion()))
	waitEvents(other.GetLead().GetId(), int(other.GetResult().GetVersion()))
	waitEvents(contactID, 1)

	day := time.Now().UTC().Truncate(24 * time.Hour)
	funnel := func() string {
		t.Helper()
		f, err := analytics.GetFunnel(ctx, &analyticsv1.GetFunnelRequest{Period: analyticsv1.Period_PERIOD_DAY,
			Range: &analyticsv1.TimeRange{From: timestamppb.New(day.Add(-24 * time.Hour)), To: timestamppb.New(day.Add(48 * time.Hour))}})
		require.NoError(t, err)
		var b strings.Builder
		for _, c := range f.GetCohorts() {
			for _, s := range c.GetSteps() {
				fmt.Fprintf(&b, "%s=%d ", s.GetStep(), s.GetCount())
			}
		}
		return b.String()
	}
	before := funnel()
	require.Contains(t, before, "created=2 ")
	require.Contains(t, before, "mql=1 ")

	el, err := leads.ErasePerson(ctx, &leadsv1.ErasePersonRequest{Person: &leadsv1.ErasePersonRequest_LeadId{LeadId: leadID}, Reason: "DSR-42"})
	require.NoError(t, err)
	ec, err := leads.ErasePerson(ctx, &leadsv1.ErasePersonRequest{Person: &leadsv1.ErasePersonRequest_ContactId{ContactId: contactID}})
	require.NoError(t, err)
	waitEvents(leadID, int(el.GetResult().GetVersion()))
	waitEvents(contactID, int(ec.GetResult().GetVersion()))
	gl, err := leads.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: leadID, Read: after(el.GetResult().GetSequence())})
	require.NoError(t, err)
	assert.Equal(t, erasedMarker, gl.GetLead().GetEmail())

	// Funnels stay right: the erasure removed personal fields, not facts.
	assert.Equal(t, before, funnel())

	// ClickHouse: merge every part (a ReplacingMergeTree keeps replaced rows in old parts until
	// a merge), then look for the secrets in every String column of every table.
	tables := strings.Fields(chq(fmt.Sprintf("SELECT name FROM system.tables WHERE database = '%s' AND engine LIKE '%%MergeTree%%'", db)))
	require.NotEmpty(t, tables)
	for _, tbl := range tables {
		require.NoError(t, ch.ConnDatabase(t, db).Exec(context.Background(), fmt.Sprintf("OPTIMIZE TABLE `%s` FINAL", tbl)))
	}
	allTables := strings.Fields(chq(fmt.Sprintf("SELECT name FROM system.tables WHERE database = '%s'", db)))
	checked := 0
	for _, tbl := range allTables {
		cols := strings.Fields(chq(fmt.Sprintf("SELECT name FROM system.columns WHERE database = '%s' AND table = '%s' AND type = 'String'", db, tbl)))
		for _, col := range cols {
			for _, s := range secrets {
				hits := strings.TrimSpace(chq(fmt.Sprintf("SELECT toString(count()) FROM `%s` WHERE position(`%s`, '%s') > 0", tbl, col, s)))
				assert.Equal(t, "0", hits, "ClickHouse %s.%s holds %q", tbl, col, s)
				checked++
			}
		}
	}
	require.Greater(t, checked, 20, "looked at too few columns to prove anything")
	// The projector did see the lead's non-personal facts (the check above is not vacuous).
	assert.Contains(t, chq(fmt.Sprintf("SELECT payload_json FROM events FINAL WHERE aggregate_id = '%s'", leadID)), "Engines Ltd")

	// Files: the JetStream store (events and the data-key bucket) and the read models (WAL
	// included), once the read models have scrubbed after applying the erasure.
	deadline := time.Now().Add(10 * time.Second)
	onDisk := func(quiet bool) bool {
		found := false
		for _, s := range secrets {
			for _, dir := range []string{n.StoreDir, dataDir, analyticsDir} {
				if filesHold(t, dir, s, quiet) {
					found = true
				}
			}
		}
		return found
	}
	for onDisk(true) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	assert.False(t, onDisk(false), "personal data left in files after the erasure")

	// Logs of both services.
	for _, s := range secrets {
		assert.NotContains(t, leadsLog.String(), s, "the leads log holds %q", s)
		assert.NotContains(t, analyticsLog.String(), s, "the analytics log holds %q", s)
	}
	require.NotEmpty(t, leadsLog.String()+analyticsLog.String(), "no log captured: the check above would prove nothing")
}
