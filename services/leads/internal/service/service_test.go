package service_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

var as = testkit.As

// newLead is a lead the default scoring model does not qualify on creation.
func newLead(email string) *leadsv1.Lead {
	return &leadsv1.Lead{FirstName: "Ada", LastName: "Lovelace", Email: email, Company: "Analytical Engines",
		JobTitle: "Student", Country: "GB", Industry: "education", EmployeeCount: 3, Source: leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM}
}

var violations = testkit.Violations

func errorInfo(err error) *errdetails.ErrorInfo {
	st, _ := status.FromError(err)
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return ei
		}
	}
	return nil
}

func TestLeadLifecycleEndToEnd(t *testing.T) {
	t.Parallel()
	h := start(t, testkit.StartNATS(t), t.TempDir())
	ctx := as(t, "acme", "rep-1")

	created, err := h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: newLead("ada@example.com")})
	require.NoError(t, err)
	id := created.GetLead().GetId()
	assert.Equal(t, leadsv1.LeadStatus_LEAD_STATUS_NEW, created.GetLead().GetStatus())

	// A strong fit crosses the default model's MQL threshold and is qualified automatically.
	cto := newLead("cto@example.com")
	cto.LastName, cto.JobTitle, cto.Industry, cto.EmployeeCount, cto.Country = "Hopper", "CTO", "software", 250, "US"
	auto, err := h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: cto})
	require.NoError(t, err)
	assert.Equal(t, leadsv1.LeadStatus_LEAD_STATUS_MARKETING_QUALIFIED, auto.GetLead().GetStatus(), "score %v", auto.GetLead().GetScore())
	assert.Equal(t, leadsv1.QualificationPath_QUALIFICATION_PATH_SCORE, auto.GetLead().GetQualificationPath())
	assert.Greater(t, auto.GetLead().GetScore().GetFit(), created.GetLead().GetScore().GetFit())

	// Read after write: the read model is waited for.
	got, err := h.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: id, Read: &commonv1.ReadOptions{MinSequence: created.GetResult().GetSequence()}})
	require.NoError(t, err)
	assert.Equal(t, "ada@example.com", got.GetLead().GetEmail())

	// An illegal move names the current status.
	_, err = h.client.ChangeLeadStatus(ctx, &leadsv1.ChangeLeadStatusRequest{LeadId: id, Status: leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED})
	require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
	assert.Contains(t, status.Convert(err).Message(), "NEW")

	for _, to := range []leadsv1.LeadStatus{leadsv1.LeadStatus_LEAD_STATUS_MARKETING_QUALIFIED, leadsv1.LeadStatus_LEAD_STATUS_SALES_ACCEPTED} {
		_, err = h.client.ChangeLeadStatus(ctx, &leadsv1.ChangeLeadStatusRequest{LeadId: id, Status: to})
		require.NoError(t, err, "to %s", to)
	}
	// SQL needs BANT.
	_, err = h.client.ChangeLeadStatus(ctx, &leadsv1.ChangeLeadStatusRequest{LeadId: id, Status: leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED})
	require.Equal(t, codes.FailedPrecondition, status.Code(err))
	_, err = h.client.SetBant(ctx, &leadsv1.SetBantRequest{LeadId: id, Bant: &leadsv1.Bant{
		Budget: &commonv1.Money{CurrencyCode: "EUR", Units: 50000}, BudgetConfirmed: true,
		Authority: "CTO signs", AuthorityConfirmed: true, Need: "pipeline visibility", NeedConfirmed: true,
		TimelineConfirmed: true, Timeline: nil,
	}})
	if err != nil {
		// A confirmed timeline needs a date; set one.
		_, err = h.client.SetBant(ctx, &leadsv1.SetBantRequest{LeadId: id, Bant: &leadsv1.Bant{
			Budget: &commonv1.Money{CurrencyCode: "EUR", Units: 50000}, BudgetConfirmed: true,
			Authority: "CTO signs", AuthorityConfirmed: true, Need: "pipeline visibility", NeedConfirmed: true,
			Timeline: timestamp(time.Now().Add(60 * 24 * time.Hour)), TimelineConfirmed: true,
		}})
	}
	require.NoError(t, err)
	sql, err := h.client.ChangeLeadStatus(ctx, &leadsv1.ChangeLeadStatusRequest{LeadId: id, Status: leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED})
	require.NoError(t, err)
	assert.Equal(t, leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED, sql.GetLead().GetStatus())

	dq, err := h.client.DisqualifyLead(ctx, &leadsv1.DisqualifyLeadRequest{LeadId: id, Reason: leadsv1.DisqualifyReason_DISQUALIFY_REASON_COMPETITOR})
	require.NoError(t, err)
	rec, err := h.client.RecycleLead(ctx, &leadsv1.RecycleLeadRequest{LeadId: id})
	require.NoError(t, err)
	assert.Equal(t, leadsv1.LeadStatus_LEAD_STATUS_RECYCLED, rec.GetLead().GetStatus())
	assert.Greater(t, rec.GetResult().GetVersion(), dq.GetResult().GetVersion())

	list, err := h.client.ListLeads(ctx, &leadsv1.ListLeadsRequest{Statuses: []leadsv1.LeadStatus{leadsv1.LeadStatus_LEAD_STATUS_RECYCLED},
		Read: &commonv1.ReadOptions{MinSequence: rec.GetResult().GetSequence()}})
	require.NoError(t, err)
	require.Len(t, list.GetLeads(), 1)
	assert.Equal(t, id, list.GetLeads()[0].GetId())
	found, err := h.client.SearchLeads(ctx, &leadsv1.SearchLeadsRequest{Query: "lovel", Read: &commonv1.ReadOptions{MinSequence: rec.GetResult().GetSequence()}})
	require.NoError(t, err)
	require.Len(t, found.GetLeads(), 1)

	// Another tenant sees none of it.
	other, err := h.client.ListLeads(as(t, "globex", "rep-9"), &leadsv1.ListLeadsRequest{})
	require.NoError(t, err)
	assert.Empty(t, other.GetLeads())
	_, err = h.client.GetLead(as(t, "globex", "rep-9"), &leadsv1.GetLeadRequest{LeadId: id})
	assert.Equal(t, codes.NotFound, status.Code(err))
}

func TestConcurrentCreatesOfOneEmailYieldOneLead(t *testing.T) {
	t.Parallel()
	h := start(t, testkit.StartNATS(t), t.TempDir())
	const clients = 16
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created []string
		holders = map[string]bool{}
	)
	for i := range clients {
		wg.Go(func() {
			// Case and plus-addressing differ; the normalised email is the same.
			email := fmt.Sprintf("Grace.Hopper+%d@Navy.mil", i)
			res, err := h.client.CreateLead(as(t, "acme", "rep-1"), &leadsv1.CreateLeadRequest{Lead: newLead(email)})
			mu.Lock()
			defer mu.Unlock()
			switch status.Code(err) {
			case codes.OK:
				created = append(created, res.GetLead().GetId())
			case codes.AlreadyExists:
				holders[errorInfo(err).GetMetadata()["existing_id"]] = true
			case codes.Aborted: // the winner's claim was still pending: retryable, never a second lead
			default:
				t.Errorf("create %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	require.Len(t, created, 1, "exactly one lead")
	for holder := range holders {
		assert.Equal(t, created[0], holder, "duplicates name the lead that exists")
	}
	// allow_duplicate creates a second lead on purpose.
	_, err := h.client.CreateLead(as(t, "acme", "rep-1"), &leadsv1.CreateLeadRequest{Lead: newLead("grace.hopper@navy.mil"), AllowDuplicate: true})
	require.NoError(t, err)
}

func TestConcurrentUpdatesOfOneLeadLoseNothing(t *testing.T) {
	t.Parallel()
	h := start(t, testkit.StartNATS(t), t.TempDir())
	ctx := as(t, "acme", "rep-1")
	created, err := h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: newLead("tags@example.com")})
	require.NoError(t, err)
	id := created.GetLead().GetId()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, err := h.client.AddLeadTags(as(t, "acme", "rep-1"), &leadsv1.AddLeadTagsRequest{LeadId: id, Tags: []string{fmt.Sprintf("t%02d", i)}})
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	var got *leadsv1.GetLeadResponse
	require.Eventually(t, func() bool {
		got, err = h.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: id})
		return err == nil && len(got.GetLead().GetTags()) == 20
	}, 10*time.Second, 20*time.Millisecond, "every tag survives: %v", got.GetLead().GetTags())
	assert.Equal(t, uint64(21), got.GetLead().GetVersion())
}

func TestIdempotentRetryAndBadInput(t *testing.T) {
	t.Parallel()
	h := start(t, testkit.StartNATS(t), t.TempDir())
	ctx := as(t, "acme", "rep-1")
	opts := &commonv1.WriteOptions{IdempotencyKey: "form-submission-77"}
	first, err := h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: newLead("retry@example.com"), Options: opts})
	require.NoError(t, err)
	again, err := h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: newLead("retry@example.com"), Options: opts})
	require.NoError(t, err)
	assert.True(t, again.GetResult().GetReplayed())
	assert.Equal(t, first.GetLead().GetId(), again.GetLead().GetId())
	msgs := h.leadsStreamMsgs(t)

	bad := newLead("not-an-email")
	bad.AnnualRevenue = &commonv1.Money{CurrencyCode: "EUR", Units: -5}
	bad.CustomFields = map[string]*leadsv1.CustomValue{"plan": {Value: &leadsv1.CustomValue_StringValue{StringValue: "gold"}}}
	_, err = h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: bad})
	fields := violations(t, err)
	assert.Len(t, fields, 3, "one violation per bad field: %v", fields)
	assert.Equal(t, msgs, h.leadsStreamMsgs(t), "a rejected command appends nothing")

	// Expected version guards a stale editor.
	v := first.GetResult().GetVersion() + 5
	_, err = h.client.AddLeadTags(ctx, &leadsv1.AddLeadTagsRequest{LeadId: first.GetLead().GetId(), Tags: []string{"x"},
		Options: &commonv1.WriteOptions{ExpectedVersion: &v}})
	assert.Equal(t, codes.Aborted, status.Code(err))

	_, err = h.client.ListLeads(ctx, &leadsv1.ListLeadsRequest{PageSize: 5000, PageToken: "garbage"})
	fields = violations(t, err)
	assert.True(t, fields["page_size"], "%v", fields)
	_, err = h.client.ListLeads(ctx, &leadsv1.ListLeadsRequest{PageToken: "garbage"})
	assert.True(t, violations(t, err)["page_token"])
	_, err = h.client.ListLeads(ctx, &leadsv1.ListLeadsRequest{Sources: []leadsv1.LeadSource{leadsv1.LeadSource_LEAD_SOURCE_EVENT, 99, 0}})
	fields = violations(t, err)
	assert.Equal(t, map[string]bool{"sources[1]": true, "sources[2]": true}, fields)
}

func TestReadModelRebuildsToTheSameAnswers(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	dir := t.TempDir()
	h := start(t, n, dir)
	ctx := as(t, "acme", "rep-1")
	var last uint64
	for i := range 30 {
		res, err := h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: newLead(fmt.Sprintf("p%d@example.com", i))})
		require.NoError(t, err)
		last = res.GetResult().GetSequence()
	}
	want, err := h.client.ListLeads(ctx, &leadsv1.ListLeadsRequest{PageSize: 100, Read: &commonv1.ReadOptions{MinSequence: last}})
	require.NoError(t, err)
	require.Len(t, want.GetLeads(), 30)
	h.stop()

	for name, d := range map[string]string{"resume from checkpoint": dir, "rebuild from the stream": t.TempDir()} {
		h2 := start(t, n, d)
		got, err := h2.client.ListLeads(ctx, &leadsv1.ListLeadsRequest{PageSize: 100, Read: &commonv1.ReadOptions{MinSequence: last}})
		require.NoError(t, err, name)
		require.Len(t, got.GetLeads(), len(want.GetLeads()), name)
		for i := range want.GetLeads() {
			assert.Equal(t, want.GetLeads()[i].GetId(), got.GetLeads()[i].GetId(), name)
			assert.Equal(t, want.GetLeads()[i].GetVersion(), got.GetLeads()[i].GetVersion(), name)
		}
		h2.stop()
	}
}

func timestamp(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }
