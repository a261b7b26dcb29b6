package service_test

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/evcrm/evcrm/libs/testkit"
)

// transferHarness is the harness with the data transfer API; without projector the read
// models stay empty.
type transferHarness struct{ *harness }

func startTransfer(t testing.TB, projector bool) *transferHarness {
	t.Helper()
	return &transferHarness{startService(t, testkit.StartNATS(t), harnessOptions{NoWorkers: !projector})}
}

// importFile streams data in small chunks (splitting lines and runes) and returns the report
// and the progress messages.
func (h *transferHarness) importFile(ctx context.Context, start *leadsv1.ImportStart, data []byte, chunk int) (*leadsv1.ImportReport, []*leadsv1.ImportProgress, error) {
	stream, err := h.transfer.ImportRecords(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := stream.Send(&leadsv1.ImportRecordsRequest{Message: &leadsv1.ImportRecordsRequest_Start{Start: start}}); err != nil {
		return nil, nil, err
	}
	for len(data) > 0 {
		n := min(chunk, len(data))
		if err := stream.Send(&leadsv1.ImportRecordsRequest{Message: &leadsv1.ImportRecordsRequest_Chunk{Chunk: data[:n]}}); err != nil {
			break // the server answered early; Recv has its error
		}
		data = data[n:]
	}
	_ = stream.CloseSend()
	var progress []*leadsv1.ImportProgress
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil, progress, errors.New("stream ended without a report")
		}
		if err != nil {
			return nil, progress, err
		}
		if p := msg.GetProgress(); p != nil {
			progress = append(progress, p)
			continue
		}
		return msg.GetReport(), progress, nil
	}
}

type rowResult struct {
	Line    int64
	Outcome leadsv1.ImportRowOutcome
	Reason  string
	Errors  []string // "field|column|description"
}

func results(r *leadsv1.ImportReport) []rowResult {
	var out []rowResult
	for _, res := range r.GetResults() {
		rr := rowResult{Line: res.GetLine(), Outcome: res.GetOutcome(), Reason: res.GetReason()}
		for _, e := range res.GetErrors() {
			rr.Errors = append(rr.Errors, e.GetField()+"|"+e.GetColumn()+"|"+e.GetDescription())
		}
		out = append(out, rr)
	}
	return out
}

const (
	failed  = leadsv1.ImportRowOutcome_IMPORT_ROW_OUTCOME_FAILED
	skipped = leadsv1.ImportRowOutcome_IMPORT_ROW_OUTCOME_SKIPPED
)

func TestImportMessyCSVReportsEveryRow(t *testing.T) {
	t.Parallel()
	h := startTransfer(t, true)
	ctx := as(t, "acme", "rep-1")
	data, err := os.ReadFile("testdata/import/messy_leads.csv")
	require.NoError(t, err)
	start := func(dry bool) *leadsv1.ImportStart {
		return &leadsv1.ImportStart{Object: leadsv1.TransferObject_TRANSFER_OBJECT_LEAD, ImportId: "messy-1", DryRun: dry}
	}

	before := h.leadsStreamMsgs(t)
	dry, _, err := h.importFile(ctx, start(true), data, 7)
	require.NoError(t, err)
	assert.Equal(t, before, h.leadsStreamMsgs(t), "a dry run writes nothing")

	rep, progress, err := h.importFile(ctx, start(false), data, 7)
	require.NoError(t, err)
	require.NotEmpty(t, progress)
	t.Logf("%v", results(rep))
	wantRows := []rowResult{
		{Line: 4, Outcome: failed},
		{Line: 5, Outcome: failed},
		{Line: 7, Outcome: skipped},
		{Line: 8, Outcome: failed},
		{Line: 10, Outcome: failed},
		{Line: 11, Outcome: failed},
	}
	got := results(rep)
	require.Len(t, got, len(wantRows))
	for i, w := range wantRows {
		assert.Equal(t, w.Line, got[i].Line)
		assert.Equal(t, w.Outcome, got[i].Outcome, "line %d", w.Line)
	}
	assert.Equal(t, []string{"email|E-mail|is not a valid email address"}, got[0].Errors)
	assert.Equal(t, []string{`employee_count|Employees|"many" is not a whole number`}, got[1].Errors)
	assert.Contains(t, got[2].Reason, "duplicate of lead ")
	assert.Contains(t, got[3].Errors[0], "source|Lead Source|")
	assert.Equal(t, []string{"email|E-mail|is not a valid email address"}, got[4].Errors)
	assert.Contains(t, got[5].Errors[0], "annual_revenue|Annual Revenue|")
	assert.EqualValues(t, 9, rep.GetRows())
	assert.EqualValues(t, 3, rep.GetCreated())
	assert.EqualValues(t, 1, rep.GetSkipped())
	assert.EqualValues(t, 5, rep.GetFailed())
	assert.EqualValues(t, 9, progress[len(progress)-1].GetRowsRead())

	// The dry run said the same.
	assert.Equal(t, got, results(dry))
	assert.Equal(t, rep.GetCreated(), dry.GetCreated())

	// Columns: mapped automatically, Notes ignored.
	cols := map[string]string{}
	for _, c := range rep.GetColumns() {
		cols[c.GetHeader()] = c.GetField()
		assert.Equal(t, c.GetField() != "", c.GetAutomatic())
	}
	assert.Equal(t, map[string]string{"First Name": "first_name", "LAST NAME": "last_name", "E-mail": "email", "Company": "company",
		"Phone": "phone", "Employees": "employee_count", "Lead Source": "source", "Notes": "", "Annual Revenue": "annual_revenue"}, cols)

	// Re-running the same import writes nothing new and reports the same.
	after := h.leadsStreamMsgs(t)
	again, _, err := h.importFile(ctx, start(false), data, 1<<20)
	require.NoError(t, err)
	assert.Equal(t, after, h.leadsStreamMsgs(t))
	assert.Equal(t, got, results(again))
	assert.Equal(t, rep.GetCreated(), again.GetCreated())
}

func TestImportDedupePolicies(t *testing.T) {
	t.Parallel()
	h := startTransfer(t, true)
	ctx := as(t, "acme", "rep-1")
	existing, err := h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: newLead("ada@example.com")})
	require.NoError(t, err)
	id := existing.GetLead().GetId()
	file := []byte("email,first name,city\nADA@example.com,Augusta,London\n")
	run := func(p leadsv1.DedupePolicy, importID string) *leadsv1.ImportReport {
		rep, _, err := h.importFile(ctx, &leadsv1.ImportStart{Object: leadsv1.TransferObject_TRANSFER_OBJECT_LEAD, DedupePolicy: p, ImportId: importID}, file, 1<<20)
		require.NoError(t, err)
		return rep
	}

	skip := run(leadsv1.DedupePolicy_DEDUPE_POLICY_SKIP, "skip")
	require.Len(t, skip.GetResults(), 1)
	assert.Equal(t, skipped, skip.GetResults()[0].GetOutcome())
	assert.Equal(t, id, skip.GetResults()[0].GetRecordId())
	assert.Equal(t, "duplicate of lead "+id+" (a lead with this email exists)", skip.GetResults()[0].GetReason())

	upd := run(leadsv1.DedupePolicy_DEDUPE_POLICY_UPDATE, "update")
	assert.EqualValues(t, 1, upd.GetUpdated())
	require.Eventually(t, func() bool {
		got, err := h.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: id})
		return err == nil && got.GetLead().GetFirstName() == "Augusta" && got.GetLead().GetCity() == "London" &&
			got.GetLead().GetLastName() == "Lovelace" // not in the file: kept
	}, 5*time.Second, 20*time.Millisecond)
	before := h.leadsStreamMsgs(t)
	// A re-run of the update replays it.
	again := run(leadsv1.DedupePolicy_DEDUPE_POLICY_UPDATE, "update")
	assert.EqualValues(t, 1, again.GetUpdated())
	assert.Equal(t, before, h.leadsStreamMsgs(t))

	allow := run(leadsv1.DedupePolicy_DEDUPE_POLICY_ALLOW, "allow")
	assert.EqualValues(t, 1, allow.GetCreated())
	assert.Empty(t, allow.GetResults())
}

func TestImportRejectsMalformedFilesBeforeWriting(t *testing.T) {
	t.Parallel()
	h := startTransfer(t, false)
	ctx := as(t, "acme", "rep-1")
	lead := &leadsv1.ImportStart{Object: leadsv1.TransferObject_TRANSFER_OBJECT_LEAD}
	tests := []struct {
		name  string
		start *leadsv1.ImportStart
		data  string
		want  string
	}{
		{"latin-1", lead, "email,name\nzoe@example.com,Zo\xeb\n", "not valid UTF-8"},
		{"a spreadsheet, not CSV", lead, "PK\x03\x04\x14\x00\x06\x00", "NUL byte"},
		{"broken quote after good rows", lead, "email\na@example.com\nb@example.com\n\"c@example.com\n", "line 4"},
		{"empty", lead, "", "empty"},
		{"no known column", lead, "foo,bar\n1,2\n", "no column maps"},
		{"bad mapping", &leadsv1.ImportStart{Object: leadsv1.TransferObject_TRANSFER_OBJECT_LEAD, ColumnMapping: map[string]string{"foo": "status"}}, "foo\n1\n", "column mapping"},
		{"no object", &leadsv1.ImportStart{}, "email\n", "invalid import"},
		{"vcard for leads", &leadsv1.ImportStart{Object: leadsv1.TransferObject_TRANSFER_OBJECT_LEAD, Format: leadsv1.ImportFormat_IMPORT_FORMAT_VCARD}, "", "invalid import"},
	}
	before := h.leadsStreamMsgs(t)
	for _, tt := range tests {
		_, _, err := h.importFile(ctx, tt.start, []byte(tt.data), 5)
		require.Equal(t, codes.InvalidArgument, status.Code(err), "%s: %v", tt.name, err)
		assert.Contains(t, status.Convert(err).Message(), tt.want, tt.name)
	}
	assert.Equal(t, before, h.leadsStreamMsgs(t))

	// ImportStart must come first.
	stream, err := h.transfer.ImportRecords(ctx)
	require.NoError(t, err)
	require.NoError(t, stream.Send(&leadsv1.ImportRecordsRequest{Message: &leadsv1.ImportRecordsRequest_Chunk{Chunk: []byte("email\n")}}))
	_, err = stream.Recv()
	assert.Equal(t, codes.InvalidArgument, status.Code(err))
}

func TestImportVCardsIntoContacts(t *testing.T) {
	t.Parallel()
	h := startTransfer(t, true)
	ctx := as(t, "acme", "rep-1")
	start := &leadsv1.ImportStart{Object: leadsv1.TransferObject_TRANSFER_OBJECT_CONTACT, Format: leadsv1.ImportFormat_IMPORT_FORMAT_VCARD, ImportId: "vcf"}
	total := int64(0)
	for _, name := range []string{"apple_contacts_3.0.vcf", "google_contacts_3.0.vcf", "outlook_2.1.vcf", "rfc6350_4.0.vcf"} {
		data, err := os.ReadFile("testdata/import/" + name)
		require.NoError(t, err)
		start.ImportId = "vcf-" + name
		rep, _, err := h.importFile(ctx, start, data, 100)
		require.NoError(t, err, name)
		t.Logf("%s: %v", name, results(rep))
		total += rep.GetCreated()
		if name == "google_contacts_3.0.vcf" {
			// The card without an email is fine; the broken email fails at its BEGIN line.
			require.Len(t, rep.GetResults(), 1)
			assert.EqualValues(t, 28, rep.GetResults()[0].GetLine())
			assert.Equal(t, "email|EMAIL|is not a valid email address", results(rep)[0].Errors[0])
		} else {
			assert.Empty(t, rep.GetResults(), name)
		}
	}
	assert.EqualValues(t, 7, total)

	// ORG linked the contact to an account of that name, created once.
	res, err := h.contacts.SearchContacts(ctx, &leadsv1.SearchContactsRequest{Query: "Dijkstra"})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		res, err = h.contacts.SearchContacts(ctx, &leadsv1.SearchContactsRequest{Query: "Dijkstra"})
		return err == nil && len(res.GetContacts()) == 1
	}, 5*time.Second, 20*time.Millisecond)
	c := res.GetContacts()[0]
	assert.Equal(t, "edsger@tue.example", c.GetEmail())
	assert.Equal(t, "+31-6-1234-5678", c.GetMobilePhone())
	assert.Equal(t, "Mathematics", c.GetDepartment())
	assert.Equal(t, "NL", c.GetMailingAddress().GetCountry())
	assert.Equal(t, []string{"academia", "algorithms"}, c.GetTags())
	require.NotEmpty(t, c.GetAccountId())
	acc, err := h.accounts.GetAccount(ctx, &leadsv1.GetAccountRequest{AccountId: c.GetAccountId()})
	require.NoError(t, err)
	assert.Equal(t, "TU Eindhoven", acc.GetAccount().GetName())
}

func TestExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	h := startTransfer(t, true)
	ctx := as(t, "acme", "rep-1")
	src := []byte("email,first_name,last_name,company,annual_revenue,utm.source,tags,employee_count,source\n" +
		"a@example.com,Ann,Able,\"Able, Inc\",1000.5 EUR,google,\"vip;q3\",12,event\n" +
		"b@example.com,Bob,Baker,\"Baker \"\"Bros\"\", Co\",,,,,\n")
	rep, _, err := h.importFile(ctx, &leadsv1.ImportStart{Object: leadsv1.TransferObject_TRANSFER_OBJECT_LEAD, ImportId: "rt-1"}, src, 1<<20)
	require.NoError(t, err)
	require.EqualValues(t, 2, rep.GetCreated(), "%v", results(rep))

	export := func() []byte {
		var out []byte
		require.Eventually(t, func() bool {
			out = nil
			stream, err := h.transfer.ExportRecords(ctx, &leadsv1.ExportRecordsRequest{Object: leadsv1.TransferObject_TRANSFER_OBJECT_LEAD,
				Leads: &leadsv1.ListLeadsRequest{OrderBy: leadsv1.LeadOrderBy_LEAD_ORDER_BY_LAST_NAME}})
			require.NoError(t, err)
			for {
				msg, err := stream.Recv()
				if errors.Is(err, io.EOF) {
					break
				}
				require.NoError(t, err)
				out = append(out, msg.GetChunk()...)
			}
			return strings.Count(string(out), "@example.com") == 2
		}, 5*time.Second, 20*time.Millisecond)
		return out
	}
	first := export()
	assert.True(t, strings.HasPrefix(string(first), "first_name,last_name,email,phone,company,"), string(first))
	assert.Contains(t, string(first), `1000.5 EUR`)
	assert.Contains(t, string(first), `"Baker ""Bros"", Co"`)

	// Import the export into another tenant: the same records come out.
	other := as(t, "globex", "rep-1")
	rep, _, err = h.importFile(other, &leadsv1.ImportStart{Object: leadsv1.TransferObject_TRANSFER_OBJECT_LEAD, ImportId: "rt-2"}, first, 1<<20)
	require.NoError(t, err)
	require.EqualValues(t, 2, rep.GetCreated(), "%v", results(rep))
	for _, c := range rep.GetColumns() {
		assert.NotEmpty(t, c.GetField(), "every exported column imports: %s", c.GetHeader())
	}
	var second []byte
	require.Eventually(t, func() bool {
		stream, err := h.transfer.ExportRecords(other, &leadsv1.ExportRecordsRequest{Object: leadsv1.TransferObject_TRANSFER_OBJECT_LEAD,
			Leads: &leadsv1.ListLeadsRequest{OrderBy: leadsv1.LeadOrderBy_LEAD_ORDER_BY_LAST_NAME}})
		require.NoError(t, err)
		second = nil
		for {
			msg, err := stream.Recv()
			if err != nil {
				break
			}
			second = append(second, msg.GetChunk()...)
		}
		return strings.Count(string(second), "@example.com") == 2
	}, 5*time.Second, 20*time.Millisecond)
	assert.Equal(t, string(first), string(second))
}

// A dry run reports the outcome the real run has: a contact linked to an account that does not
// exist, and an account under a parent that does not exist, fail in both.
func TestImportDryRunChecksLinkedRecordsExist(t *testing.T) {
	t.Parallel()
	h := startTransfer(t, false)
	ctx := as(t, "acme", "rep-1")
	tests := []struct {
		obj  leadsv1.TransferObject
		file string
	}{
		{leadsv1.TransferObject_TRANSFER_OBJECT_CONTACT, "first_name,email,account_id\nAda,ada@example.com,no-such-account\n"},
		{leadsv1.TransferObject_TRANSFER_OBJECT_ACCOUNT, "name,parent_account_id\nInitech,no-such-account\n"},
	}
	for _, tt := range tests {
		t.Run(tt.obj.String(), func(t *testing.T) {
			run := func(dry bool) *leadsv1.ImportReport {
				rep, _, err := h.importFile(ctx, &leadsv1.ImportStart{Object: tt.obj, DryRun: dry}, []byte(tt.file), 1<<20)
				require.NoError(t, err)
				return rep
			}
			dry, real := run(true), run(false)
			assert.EqualValues(t, 1, real.GetFailed(), "the real run fails the row")
			assert.EqualValues(t, real.GetFailed(), dry.GetFailed(), "the dry run says so")
			assert.EqualValues(t, real.GetCreated(), dry.GetCreated())
		})
	}
}
