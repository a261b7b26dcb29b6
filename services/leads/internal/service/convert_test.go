package service_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/leads/internal/app"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
)

// pipelineProc is the real pipeline service as a child process on the test's NATS, so a test
// can SIGKILL it like a crashed server and start it again.
type pipelineProc struct{ *testkit.Process }

// TestMain removes the pipeline binary after the tests.
func TestMain(m *testing.M) { testkit.Main(m) }

func startPipeline(t *testing.T, n *testkit.NATS) *pipelineProc {
	t.Helper()
	bin := testkit.BuildBinary(t, "github.com/evcrm/evcrm/services/pipeline/cmd/pipeline")
	return &pipelineProc{testkit.StartProcess(t, bin, n)}
}

func (p *pipelineProc) client(t *testing.T) pipelinev1.PipelineServiceClient {
	t.Helper()
	return pipelinev1.NewPipelineServiceClient(p.Conn(t))
}

// convHarness is one leads service instance wired to the pipeline process.
type convHarness = harness

// startLeads builds a leads service on n; hook runs after each conversion step.
func startLeads(t *testing.T, n *testkit.NATS, p *pipelineProc, hook func(step string) error) *convHarness {
	t.Helper()
	return startService(t, n, harnessOptions{PipelineAddr: p.Addr(), AfterConversionStep: hook})
}

// sqlLead creates a lead and walks it to SALES_QUALIFIED (or only to SALES_ACCEPTED).
func sqlLead(t *testing.T, c leadsv1.LeadsServiceClient, email string, upTo leadsv1.LeadStatus) *leadsv1.Lead {
	t.Helper()
	ctx := as(t, "acme", "rep-1")
	l := newLead(email)
	l.Phone, l.City, l.Region, l.Website, l.CampaignId = "+44 20 7946 0000", "London", "England", "https://www.engines.example", "camp-7"
	created, err := c.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: l})
	require.NoError(t, err)
	id := created.GetLead().GetId()
	_, err = c.SetBant(ctx, &leadsv1.SetBantRequest{LeadId: id, Bant: &leadsv1.Bant{
		Budget: &commonv1.Money{CurrencyCode: "EUR", Units: 42000}, BudgetConfirmed: true,
		Authority: "CFO signs", AuthorityConfirmed: true, Need: "forecasting", NeedConfirmed: true,
		Timeline: timestamppb.New(time.Now().Add(60 * 24 * time.Hour)), TimelineConfirmed: true}})
	require.NoError(t, err)
	var last *leadsv1.Lead
	for _, to := range []leadsv1.LeadStatus{leadsv1.LeadStatus_LEAD_STATUS_MARKETING_QUALIFIED,
		leadsv1.LeadStatus_LEAD_STATUS_SALES_ACCEPTED, leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED} {
		res, err := c.ChangeLeadStatus(ctx, &leadsv1.ChangeLeadStatusRequest{LeadId: id, Status: to})
		require.NoError(t, err, "to %s", to)
		last = res.GetLead()
		if to == upTo {
			break
		}
	}
	return last
}

// countSubjects counts the messages of stream whose subject matches filter.
func countOnStream(t *testing.T, n *testkit.NATS, stream, filter string) int {
	t.Helper()
	js := n.JetStream(t)
	s, err := js.Stream(context.Background(), stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return 0
	}
	require.NoError(t, err)
	info, err := s.Info(context.Background(), jetstream.WithSubjectFilter(filter))
	require.NoError(t, err)
	total := 0
	for _, c := range info.State.Subjects {
		total += int(c)
	}
	return total
}

type recordCounts struct{ accounts, contacts, opportunities, converted int }

func counts(t *testing.T, n *testkit.NATS) recordCounts {
	t.Helper()
	return recordCounts{
		accounts:      countOnStream(t, n, "CRM_LEADS", "crm.acme.account.*.AccountCreated"),
		contacts:      countOnStream(t, n, "CRM_LEADS", "crm.acme.contact.*.ContactCreated"),
		opportunities: countOnStream(t, n, "CRM_PIPELINE", "crm.acme.opportunity.*.OpportunityCreated"),
		converted:     countOnStream(t, n, "CRM_LEADS", "crm.acme.lead.*.LeadConverted"),
	}
}

func convertReq(leadID string) *leadsv1.ConvertLeadRequest {
	return &leadsv1.ConvertLeadRequest{LeadId: leadID, Opportunity: &leadsv1.ConversionOpportunity{}}
}

func TestConvertLeadHappyPath(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	p := startPipeline(t, n)
	h := startLeads(t, n, p, nil)
	l := sqlLead(t, h.client, "ada@engines.example", leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED)
	ctx := as(t, "acme", "closer-1")

	res, err := h.client.ConvertLead(ctx, convertReq(l.GetId()))
	require.NoError(t, err)
	ids := app.DeriveConversionIDs("acme", l.GetId())
	assert.Equal(t, ids.Account, res.GetAccountId())
	assert.Equal(t, ids.Contact, res.GetContactId())
	assert.Equal(t, ids.Opportunity, res.GetOpportunityId())
	assert.True(t, res.GetAccountCreated())
	assert.True(t, res.GetContactCreated())
	assert.Equal(t, leadsv1.LeadStatus_LEAD_STATUS_CONVERTED, res.GetLead().GetStatus())
	assert.Equal(t, res.GetOpportunityId(), res.GetLead().GetConverted().GetOpportunityId())

	acc, err := h.svc.App.LoadAccount(ctx, "acme", res.GetAccountId())
	require.NoError(t, err)
	assert.Equal(t, "Analytical Engines", acc.Name)
	assert.Equal(t, "engines.example", acc.Domain)
	assert.Equal(t, "education", acc.Industry)
	assert.EqualValues(t, 3, acc.EmployeeCount)
	assert.Equal(t, account.Address{City: "London", Region: "England", Country: "GB"}, acc.BillingAddress)
	assert.Equal(t, l.GetId(), acc.SourceLeadID)
	ct, err := h.svc.App.LoadContact(ctx, "acme", res.GetContactId())
	require.NoError(t, err)
	assert.Equal(t, "Ada", ct.FirstName)
	assert.Equal(t, "Lovelace", ct.LastName)
	assert.Equal(t, "ada@engines.example", ct.Email)
	assert.Equal(t, "Student", ct.JobTitle)
	assert.Equal(t, res.GetAccountId(), ct.AccountID)
	assert.Equal(t, l.GetId(), ct.SourceLeadID)

	// Pipeline answers from its read model; the conversion does not hand back pipeline's sequence.
	var opp *pipelinev1.GetOpportunityResponse
	pc := p.client(t)
	require.Eventually(t, func() bool {
		opp, err = pc.GetOpportunity(ctx, &pipelinev1.GetOpportunityRequest{OpportunityId: res.GetOpportunityId()})
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "the opportunity never showed up in pipeline")
	o := opp.GetOpportunity()
	assert.Equal(t, "Analytical Engines - new business", o.GetName())
	assert.Equal(t, l.GetId(), o.GetLeadId())
	assert.Equal(t, res.GetAccountId(), o.GetAccountId())
	assert.Equal(t, res.GetContactId(), o.GetPrimaryContactId())
	assert.Equal(t, "camp-7", o.GetPrimaryCampaignId())
	assert.Equal(t, "EUR", o.GetAmount().GetCurrencyCode())
	assert.EqualValues(t, 42000, o.GetAmount().GetUnits(), "the BANT budget")
	assert.Equal(t, pipelinev1.OpportunitySource_OPPORTUNITY_SOURCE_WEB_FORM, o.GetSource())

	assert.Equal(t, recordCounts{1, 1, 1, 1}, counts(t, n), "LeadConverted is on the stream")

	// The same request again answers with what the lead became and creates nothing.
	again, err := h.client.ConvertLead(ctx, convertReq(l.GetId()))
	require.NoError(t, err)
	assert.True(t, again.GetResult().GetReplayed())
	assert.Equal(t, res.GetOpportunityId(), again.GetOpportunityId())
	assert.True(t, again.GetAccountCreated())
	// Another request names what the lead became.
	_, err = h.client.ConvertLead(ctx, &leadsv1.ConvertLeadRequest{LeadId: l.GetId()})
	require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
	assert.Contains(t, status.Convert(err).Message(), res.GetOpportunityId())
	assert.Equal(t, recordCounts{1, 1, 1, 1}, counts(t, n))

	// The account's timeline shows where it came from; reading with the conversion's sequence
	// sees it (the activities view waits only for the events it follows).
	tl, err := h.activities.GetTimeline(ctx, &leadsv1.GetTimelineRequest{
		Record: &leadsv1.RecordRef{Type: leadsv1.RecordType_RECORD_TYPE_ACCOUNT, Id: res.GetAccountId()},
		Read:   &commonv1.ReadOptions{MinSequence: res.GetResult().GetSequence()}})
	require.NoError(t, err)
	var summaries []string
	for _, e := range tl.GetEntries() {
		summaries = append(summaries, e.GetSummary())
	}
	assert.Equal(t, "Converted from lead "+l.GetId(), summaries[0], "newest first: %q", summaries)
	assert.Contains(t, summaries, "Created")
}

func TestConvertLeadRetryAfterPipelineWasKilled(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	p := startPipeline(t, n)
	var killOnce atomic.Bool
	h := startLeads(t, n, p, func(step string) error {
		if step == app.StepContact && killOnce.CompareAndSwap(false, true) {
			p.Kill() // between the contact and the opportunity
		}
		return nil
	})
	l := sqlLead(t, h.client, "grace@navy.example", leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED)
	ctx := as(t, "acme", "closer-1")

	_, err := h.client.ConvertLead(ctx, convertReq(l.GetId()))
	require.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
	assert.Equal(t, "pipeline unavailable: retry ConvertLead to complete the conversion", status.Convert(err).Message())
	info := errorInfo(err)
	require.NotNil(t, info)
	ids := app.DeriveConversionIDs("acme", l.GetId())
	assert.Equal(t, map[string]string{"lead_id": l.GetId(), "account_id": ids.Account, "contact_id": ids.Contact}, info.GetMetadata())
	assert.Equal(t, app.ReasonConversionIncomplete, info.GetReason())

	got, err := h.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: l.GetId()})
	require.NoError(t, err)
	assert.Equal(t, leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED, got.GetLead().GetStatus(), "the lead stays unconverted")
	assert.Equal(t, recordCounts{1, 1, 0, 0}, counts(t, n))

	p.Restart(t)
	res, err := h.client.ConvertLead(ctx, convertReq(l.GetId()))
	require.NoError(t, err)
	assert.Equal(t, leadsv1.LeadStatus_LEAD_STATUS_CONVERTED, res.GetLead().GetStatus())
	assert.Equal(t, ids.Opportunity, res.GetOpportunityId())
	assert.Equal(t, recordCounts{1, 1, 1, 1}, counts(t, n), "exactly one account, contact and opportunity")
}

// errCrash stands for the leads process dying mid-saga: nothing after the hook runs.
var errCrash = errors.New("leads process killed")

func TestConvertLeadRetryAfterLeadsProcessDied(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	p := startPipeline(t, n)
	crashed := startLeads(t, n, p, func(step string) error {
		if step == app.StepContact {
			return errCrash
		}
		return nil
	})
	l := sqlLead(t, crashed.client, "hedy@lamarr.example", leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED)
	ctx := as(t, "acme", "closer-1")
	_, err := crashed.client.ConvertLead(ctx, convertReq(l.GetId()))
	require.Error(t, err)
	crashed.stop()
	assert.Equal(t, recordCounts{1, 1, 0, 0}, counts(t, n))

	// A fresh instance (empty caches, new read model) on the same NATS finishes the conversion.
	fresh := startLeads(t, n, p, nil)
	res, err := fresh.client.ConvertLead(ctx, convertReq(l.GetId()))
	require.NoError(t, err)
	assert.Equal(t, leadsv1.LeadStatus_LEAD_STATUS_CONVERTED, res.GetLead().GetStatus())
	assert.True(t, res.GetAccountCreated(), "created by this conversion, in its first attempt")
	assert.Equal(t, recordCounts{1, 1, 1, 1}, counts(t, n))
}

func TestConcurrentIdenticalConversionsCreateOneOfEach(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	p := startPipeline(t, n)
	// Two replicas share the calls, so nothing in-process serialises them.
	replicas := []*convHarness{startLeads(t, n, p, nil), startLeads(t, n, p, nil)}
	l := sqlLead(t, replicas[0].client, "katherine@nasa.example", leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED)

	const calls = 8
	var wg sync.WaitGroup
	results := make([]*leadsv1.ConvertLeadResponse, calls)
	errs := make([]error, calls)
	for i := range calls {
		wg.Go(func() {
			results[i], errs[i] = replicas[i%2].client.ConvertLead(as(t, "acme", "closer-1"), convertReq(l.GetId()))
		})
	}
	wg.Wait()
	for i := range calls {
		require.NoError(t, errs[i], "call %d", i)
		assert.Equal(t, results[0].GetOpportunityId(), results[i].GetOpportunityId())
		assert.Equal(t, leadsv1.LeadStatus_LEAD_STATUS_CONVERTED, results[i].GetLead().GetStatus())
	}
	assert.Equal(t, recordCounts{1, 1, 1, 1}, counts(t, n))

	// The losers of the race kept the winner's dedupe claims: the lead's email and company
	// still name the converted contact and account.
	ctx := as(t, "acme", "rep-1")
	_, err := replicas[1].contacts.CreateContact(ctx, &leadsv1.CreateContactRequest{Contact: &leadsv1.Contact{
		FirstName: "Kate", LastName: "Johnson", Email: "Katherine@NASA.example"}})
	require.Equal(t, codes.AlreadyExists, status.Code(err), "%v", err)
	assert.Equal(t, results[0].GetContactId(), errorInfo(err).GetMetadata()["existing_id"])
	_, err = replicas[1].accounts.CreateAccount(ctx, &leadsv1.CreateAccountRequest{Account: &leadsv1.Account{Name: "Engines", Website: "https://engines.example/about"}})
	require.Equal(t, codes.AlreadyExists, status.Code(err), "%v", err)
	assert.Equal(t, results[0].GetAccountId(), errorInfo(err).GetMetadata()["existing_id"])
}

func TestConvertLeadStatusGate(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	p := startPipeline(t, n)
	h := startLeads(t, n, p, nil)
	ctx := as(t, "acme", "closer-1")

	sal := sqlLead(t, h.client, "sal@example.org", leadsv1.LeadStatus_LEAD_STATUS_SALES_ACCEPTED)
	before := h.leadsMsgs(t, n)
	_, err := h.client.ConvertLead(ctx, convertReq(sal.GetId()))
	require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
	assert.Equal(t, "lead is SALES_ACCEPTED: only SALES_QUALIFIED leads can be converted", status.Convert(err).Message())
	assert.Equal(t, before, h.leadsMsgs(t, n), "nothing appended")
	assert.Equal(t, recordCounts{0, 0, 0, 0}, counts(t, n))

	// Bad input is rejected before any step.
	_, err = h.client.ConvertLead(ctx, &leadsv1.ConvertLeadRequest{LeadId: sal.GetId(), AccountId: "bad id",
		Opportunity: &leadsv1.ConversionOpportunity{ExpectedCloseDate: "31/12/2026", Amount: &commonv1.Money{CurrencyCode: "EUR", Units: -5}}})
	assert.Equal(t, map[string]bool{"account_id": true, "opportunity.expected_close_date": true, "opportunity.amount": true},
		violations(t, err))
	assert.Equal(t, before, h.leadsMsgs(t, n))

	// The tenant lets SALES_ACCEPTED leads convert.
	_, err = h.client.UpdateLeadSettings(ctx, &leadsv1.UpdateLeadSettingsRequest{Settings: &leadsv1.LeadSettings{
		StallDays: 30, RequireBudget: true, ConvertSalesAccepted: true}})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err = h.client.ConvertLead(ctx, &leadsv1.ConvertLeadRequest{LeadId: sal.GetId()})
		return status.Code(err) != codes.FailedPrecondition // the settings cache may lag by its TTL
	}, 10*time.Second, 100*time.Millisecond)
	require.NoError(t, err)
	assert.Equal(t, recordCounts{1, 1, 0, 1}, counts(t, n), "no opportunity was asked for")
}

func (h *convHarness) leadsMsgs(t *testing.T, n *testkit.NATS) uint64 {
	t.Helper()
	s, err := n.JetStream(t).Stream(context.Background(), "CRM_LEADS")
	require.NoError(t, err)
	info, err := s.Info(context.Background())
	require.NoError(t, err)
	return info.State.Msgs
}

func TestConvertLeadLinksExistingRecordsFillingOnlyEmptyFields(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	p := startPipeline(t, n)
	h := startLeads(t, n, p, nil)
	ctx := as(t, "acme", "closer-1")
	l := sqlLead(t, h.client, "mary@engines.example", leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED)

	acc, err := h.svc.App.CreateAccount(ctx, "acme", account.New{Details: account.Details{Name: "Engines Holding",
		Industry: "manufacturing"}}, false, app.Write{})
	require.NoError(t, err)
	ct, err := h.svc.App.CreateContact(ctx, "acme", contact.New{Details: contact.Details{FirstName: "Mary",
		Email: "mary.private@home.example"}}, false, app.Write{})
	require.NoError(t, err)

	res, err := h.client.ConvertLead(ctx, &leadsv1.ConvertLeadRequest{LeadId: l.GetId(), AccountId: acc.Account.ID,
		ContactId: ct.Contact.ID})
	require.NoError(t, err)
	assert.False(t, res.GetAccountCreated())
	assert.False(t, res.GetContactCreated())
	assert.Empty(t, res.GetOpportunityId())

	gotAcc, err := h.svc.App.LoadAccount(ctx, "acme", acc.Account.ID)
	require.NoError(t, err)
	assert.Equal(t, "Engines Holding", gotAcc.Name, "filled fields are kept")
	assert.Equal(t, "manufacturing", gotAcc.Industry)
	assert.Equal(t, "engines.example", gotAcc.Domain, "empty fields are filled from the lead")
	assert.EqualValues(t, 3, gotAcc.EmployeeCount)
	assert.Equal(t, "GB", gotAcc.BillingAddress.Country)

	gotCt, err := h.svc.App.LoadContact(ctx, "acme", ct.Contact.ID)
	require.NoError(t, err)
	assert.Equal(t, "Mary", gotCt.FirstName)
	assert.Equal(t, "mary.private@home.example", gotCt.Email)
	assert.Equal(t, "Lovelace", gotCt.LastName)
	assert.Equal(t, "Student", gotCt.JobTitle)
	assert.Equal(t, acc.Account.ID, gotCt.AccountID, "linked to the conversion's account")
	assert.Equal(t, recordCounts{1, 1, 0, 1}, counts(t, n), "nothing new created")
}

// Linking existing records must not fail because filling one of their empty fields from the
// lead would take a dedupe key another record holds: the fill is best effort, the link is what
// the caller asked for.
func TestConvertLeadLinkFillSkipsTakenDedupeKeys(t *testing.T) {
	t.Parallel()
	h := startService(t, testkit.StartNATS(t), harnessOptions{})
	ctx := as(t, "acme", "closer-1")
	l := sqlLead(t, h.client, "mary@engines.example", leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED)

	// Other records already hold the lead's domain and email.
	_, err := h.svc.App.CreateAccount(ctx, "acme", account.New{Details: account.Details{Name: "Engines Ltd",
		Domain: "engines.example"}}, false, app.Write{})
	require.NoError(t, err)
	_, err = h.svc.App.CreateContact(ctx, "acme", contact.New{Details: contact.Details{FirstName: "Mary",
		Email: "mary@engines.example"}}, false, app.Write{})
	require.NoError(t, err)
	// The records the user links have neither.
	acc, err := h.svc.App.CreateAccount(ctx, "acme", account.New{Details: account.Details{Name: "Engines Holding"}}, false, app.Write{})
	require.NoError(t, err)
	ct, err := h.svc.App.CreateContact(ctx, "acme", contact.New{Details: contact.Details{LastName: "Lovelace"}}, false, app.Write{})
	require.NoError(t, err)

	res, err := h.client.ConvertLead(ctx, &leadsv1.ConvertLeadRequest{LeadId: l.GetId(), AccountId: acc.Account.ID,
		ContactId: ct.Contact.ID})
	require.NoError(t, err)
	assert.Equal(t, acc.Account.ID, res.GetAccountId())
	assert.Equal(t, ct.Contact.ID, res.GetContactId())

	gotAcc, err := h.svc.App.LoadAccount(ctx, "acme", acc.Account.ID)
	require.NoError(t, err)
	assert.Empty(t, gotAcc.Domain, "the domain another account holds is not copied")
	assert.Equal(t, "GB", gotAcc.BillingAddress.Country, "the other empty fields are still filled")
	gotCt, err := h.svc.App.LoadContact(ctx, "acme", ct.Contact.ID)
	require.NoError(t, err)
	assert.Empty(t, gotCt.Email, "the email another contact holds is not copied")
	assert.Equal(t, l.GetFirstName(), gotCt.FirstName, "the other empty fields are still filled")
	assert.Equal(t, acc.Account.ID, gotCt.AccountID)
}
