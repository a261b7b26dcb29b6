package service_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

// Row-level rules for accounts and contacts (docs/security.md "Row-level rules"): by owner,
// accounts also by territory, unowned ones shared by the tenant; on the real service over gRPC
// with development auth's x-roles, x-territories and x-team (caller, rowlevel_test.go).

// Well-formed account and contact ids no fixture creates.
const (
	missingAccount = "01a00000-0000-7000-8000-0000000acc00"
	missingContact = "01a00000-0000-7000-8000-0000000c0c00"
)

// The fixture's accounts (name, owner, territory, parent) and contacts (name, owner, account).
// aFar2 is a child of aMine owned by rep-3, cFar a contact of aMine owned by rep-3: GetAccount
// of aMine lists them only to callers who see them.
var (
	rowAccounts = []struct{ name, owner, territory, parent string }{
		{"amine", "rep-1", "", ""}, {"amine2", "rep-1", "", ""}, {"amine3", "rep-1", "", ""},
		{"adach", "rep-2", "dach", ""}, {"ateam", "rep-2", "", ""}, {"amgr", "mgr-1", "", ""},
		{"afar", "rep-3", "", ""}, {"afar2", "rep-3", "", "amine"}, {"ashared", "", "", ""},
		{"afardach", "rep-3", "dach", ""},
	}
	rowContacts = []struct{ name, owner, account string }{
		{"cmine", "rep-1", ""}, {"cmine2", "rep-1", "amine"}, {"cteam", "rep-2", ""}, {"cmgr", "mgr-1", ""},
		{"cfar", "rep-3", "amine"}, {"cfar2", "rep-3", ""}, {"cshared", "", ""},
	}
)

type acctFixture struct {
	h    *harness
	ids  map[string]string // fixture name → id
	read *commonv1.ReadOptions
}

func newAcctFixture(t *testing.T) *acctFixture {
	t.Helper()
	h := start(t, testkit.StartNATS(t), t.TempDir())
	admin := as(t, "acme", "admin-1")
	f := &acctFixture{h: h, ids: map[string]string{}}
	var seq uint64
	for _, a := range rowAccounts {
		res, err := h.accounts.CreateAccount(admin, &leadsv1.CreateAccountRequest{Account: &leadsv1.Account{
			Name: "Acct " + a.name, OwnerId: a.owner, TerritoryId: a.territory, ParentAccountId: f.ids[a.parent]}})
		require.NoError(t, err, a.name)
		require.Equal(t, a.territory, res.GetAccount().GetTerritoryId(), a.name)
		f.ids[a.name] = res.GetAccount().GetId()
		seq = max(seq, res.GetResult().GetSequence())
	}
	for _, c := range rowContacts {
		res, err := h.contacts.CreateContact(admin, &leadsv1.CreateContactRequest{Contact: &leadsv1.Contact{
			FirstName: c.name, LastName: "Rowlevel", Email: c.name + "@example.com", OwnerId: c.owner, AccountId: f.ids[c.account]}})
		require.NoError(t, err, c.name)
		f.ids[c.name] = res.GetContact().GetId()
		seq = max(seq, res.GetResult().GetSequence())
	}
	f.read = &commonv1.ReadOptions{MinSequence: seq}
	return f
}

func (f *acctFixture) names(ids []string) []string {
	out := []string{}
	for _, id := range ids {
		name := id
		for n, fid := range f.ids {
			if fid == id {
				name = n
			}
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// pages walks a list with page size 2 and returns every id; every page but the last is full.
func pages(t *testing.T, what string, list func(token string) ([]string, string, error)) []string {
	t.Helper()
	var all []string
	token := ""
	for range 50 {
		ids, next, err := list(token)
		require.NoError(t, err, what)
		if next != "" {
			assert.Len(t, ids, 2, "%s: a page before the last is full", what)
		}
		all = append(all, ids...)
		if next == "" {
			return all
		}
		token = next
	}
	t.Fatalf("%s: too many pages", what)
	return nil
}

func accountIDs(as []*leadsv1.Account) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.GetId())
	}
	return out
}

func contactIDs(cs []*leadsv1.Contact) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.GetId())
	}
	return out
}

// assertNotFoundLike: err is the answer a call gives for a missing record (missingErr, for
// missing), with the id in the message the only difference.
func assertNotFoundLike(t *testing.T, err, missingErr error, id, missing string) {
	t.Helper()
	require.Equal(t, codes.NotFound, status.Code(missingErr), "%v", missingErr)
	require.Equal(t, codes.NotFound, status.Code(err), "%v", err)
	assert.Equal(t, status.Convert(missingErr).Message(), strings.ReplaceAll(status.Convert(err).Message(), id, missing))
	assert.Equal(t, errorInfo(missingErr).GetReason(), errorInfo(err).GetReason())
	assert.Equal(t, errorInfo(missingErr).GetMetadata(), errorInfo(err).GetMetadata())
}

func exportRows(t *testing.T, ctx context.Context, c leadsv1.DataTransferServiceClient, req *leadsv1.ExportRecordsRequest) (int64, string) {
	t.Helper()
	stream, err := c.ExportRecords(ctx, req)
	require.NoError(t, err)
	var csv strings.Builder
	var rows int64
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return rows, csv.String()
		}
		require.NoError(t, err)
		csv.Write(chunk.GetChunk())
		rows += chunk.GetRows()
	}
}

// TestRowLevelAccountsReads: each kind of caller gets, from GetAccount (with its contacts and
// children), ListAccounts, SearchAccounts, GetContact, ListContacts, SearchContacts and the
// account and contact exports, exactly the records of its scope, in full pages; a record out of
// scope is NOT_FOUND exactly as a missing one.
func TestRowLevelAccountsReads(t *testing.T) {
	t.Parallel()
	f := newAcctFixture(t)
	h := f.h
	allA := []string{"adach", "afar", "afar2", "afardach", "amgr", "amine", "amine2", "amine3", "ashared", "ateam"}
	allC := []string{"cfar", "cfar2", "cmgr", "cmine", "cmine2", "cshared", "cteam"}
	for _, tt := range []struct {
		name         string
		ctx          context.Context
		accounts     []string
		contacts     []string
		ofMine       []string // GetAccount(amine)'s contacts and children, when amine is in scope
		export       bool
		filteredRep3 []string // ListAccounts with owner_ids [rep-3]: filters narrow, never widen
	}{
		{"rep", caller(t, "rep-1", "sales_rep", "dach", ""),
			[]string{"adach", "afardach", "amine", "amine2", "amine3", "ashared"},
			[]string{"cmine", "cmine2", "cshared"}, []string{"cmine2"}, false, []string{"afardach"}},
		{"rep without territories", caller(t, "rep-1", "sales_rep", "", ""),
			[]string{"amine", "amine2", "amine3", "ashared"},
			[]string{"cmine", "cmine2", "cshared"}, []string{"cmine2"}, false, []string{}},
		{"manager with team", caller(t, "mgr-1", "sales_manager", "", "rep-2"),
			[]string{"adach", "amgr", "ashared", "ateam"},
			[]string{"cmgr", "cshared", "cteam"}, nil, true, []string{}},
		{"manager without team", caller(t, "mgr-1", "sales_manager", "", ""), allA, allC,
			[]string{"afar2", "cfar", "cmine2"}, true, []string{"afar", "afar2", "afardach"}},
		{"marketing", caller(t, "mkt-1", "marketing", "", ""), allA, allC,
			[]string{"afar2", "cfar", "cmine2"}, false, []string{"afar", "afar2", "afardach"}},
		{"admin", as(t, "acme", "admin-1"), allA, allC, []string{"afar2", "cfar", "cmine2"}, false, []string{"afar", "afar2", "afardach"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := fresh(t, tt.ctx)
			got := pages(t, "ListAccounts", func(tok string) ([]string, string, error) {
				r, err := h.accounts.ListAccounts(ctx, &leadsv1.ListAccountsRequest{PageSize: 2, PageToken: tok, Read: f.read})
				return accountIDs(r.GetAccounts()), r.GetNextPageToken(), err
			})
			assert.Equal(t, tt.accounts, f.names(got), "ListAccounts")
			got = pages(t, "ListAccounts by name", func(tok string) ([]string, string, error) {
				r, err := h.accounts.ListAccounts(ctx, &leadsv1.ListAccountsRequest{PageSize: 2, PageToken: tok, Read: f.read,
					OrderBy: leadsv1.AccountOrderBy_ACCOUNT_ORDER_BY_NAME, Descending: true})
				return accountIDs(r.GetAccounts()), r.GetNextPageToken(), err
			})
			assert.Equal(t, tt.accounts, f.names(got), "ListAccounts by name")
			got = pages(t, "SearchAccounts", func(tok string) ([]string, string, error) {
				r, err := h.accounts.SearchAccounts(ctx, &leadsv1.SearchAccountsRequest{Query: "acct", PageSize: 2, PageToken: tok, Read: f.read})
				return accountIDs(r.GetAccounts()), r.GetNextPageToken(), err
			})
			assert.Equal(t, tt.accounts, f.names(got), "SearchAccounts")
			r, err := h.accounts.ListAccounts(ctx, &leadsv1.ListAccountsRequest{OwnerIds: []string{"rep-3"}, Read: f.read})
			require.NoError(t, err)
			assert.Equal(t, tt.filteredRep3, f.names(accountIDs(r.GetAccounts())), "ListAccounts owner_ids rep-3")

			got = pages(t, "ListContacts", func(tok string) ([]string, string, error) {
				r, err := h.contacts.ListContacts(ctx, &leadsv1.ListContactsRequest{PageSize: 2, PageToken: tok, Read: f.read})
				return contactIDs(r.GetContacts()), r.GetNextPageToken(), err
			})
			assert.Equal(t, tt.contacts, f.names(got), "ListContacts")
			got = pages(t, "SearchContacts", func(tok string) ([]string, string, error) {
				r, err := h.contacts.SearchContacts(ctx, &leadsv1.SearchContactsRequest{Query: "rowlevel", PageSize: 2, PageToken: tok, Read: f.read})
				return contactIDs(r.GetContacts()), r.GetNextPageToken(), err
			})
			assert.Equal(t, tt.contacts, f.names(got), "SearchContacts")

			_, missingErr := h.accounts.GetAccount(ctx, &leadsv1.GetAccountRequest{AccountId: missingAccount, Read: f.read})
			for _, a := range rowAccounts {
				id := f.ids[a.name]
				res, err := h.accounts.GetAccount(ctx, &leadsv1.GetAccountRequest{AccountId: id, Read: f.read})
				if !slices.Contains(tt.accounts, a.name) {
					assertNotFoundLike(t, err, missingErr, id, missingAccount)
					continue
				}
				require.NoError(t, err, a.name)
				assert.Equal(t, id, res.GetAccount().GetId())
				if a.name == "amine" {
					related := append(contactIDs(res.GetContacts()), accountIDs(res.GetChildAccounts())...)
					assert.Equal(t, tt.ofMine, f.names(related), "GetAccount(amine)'s contacts and children")
				}
			}
			_, missingErr = h.contacts.GetContact(ctx, &leadsv1.GetContactRequest{ContactId: missingContact, Read: f.read})
			for _, c := range rowContacts {
				id := f.ids[c.name]
				res, err := h.contacts.GetContact(ctx, &leadsv1.GetContactRequest{ContactId: id, Read: f.read})
				if !slices.Contains(tt.contacts, c.name) {
					assertNotFoundLike(t, err, missingErr, id, missingContact)
					continue
				}
				require.NoError(t, err, c.name)
				assert.Equal(t, id, res.GetContact().GetId())
			}

			if !tt.export {
				return
			}
			rows, csv := exportRows(t, ctx, h.transfer, &leadsv1.ExportRecordsRequest{Object: leadsv1.TransferObject_TRANSFER_OBJECT_ACCOUNT,
				Read: f.read, Accounts: &leadsv1.ListAccountsRequest{PageSize: 2}})
			assert.EqualValues(t, len(tt.accounts), rows, "exported accounts")
			for _, a := range rowAccounts {
				assert.Equal(t, slices.Contains(tt.accounts, a.name), strings.Contains(csv, "Acct "+a.name+","), "%s in the export", a.name)
			}
			rows, csv = exportRows(t, ctx, h.transfer, &leadsv1.ExportRecordsRequest{Object: leadsv1.TransferObject_TRANSFER_OBJECT_CONTACT,
				Read: f.read, Contacts: &leadsv1.ListContactsRequest{PageSize: 2}})
			assert.EqualValues(t, len(tt.contacts), rows, "exported contacts")
			for _, c := range rowContacts {
				assert.Equal(t, slices.Contains(tt.contacts, c.name), strings.Contains(csv, c.name+"@example.com"), "%s in the export", c.name)
			}
		})
	}
}

// TestRowLevelAccountsCommands: UpdateAccount, UpdateContact, ConvertLead linking an existing
// account or contact, and an activity about an account or contact, out of the caller's scope,
// answer exactly as for a missing record and append nothing; in scope (own, territory's,
// unowned) they work; an idempotent replay does not return a record that left the scope; a
// duplicate out of scope is not named.
func TestRowLevelAccountsCommands(t *testing.T) {
	t.Parallel()
	f := newAcctFixture(t)
	h := f.h
	admin := as(t, "acme", "admin-1")
	rep := caller(t, "rep-1", "sales_rep", "dach", "")
	mgr := caller(t, "mgr-1", "sales_manager", "", "rep-2")

	// A lead of rep-1's, ready to convert (created before the stream is counted).
	l := sqlLead(t, h.client, "convert@example.com", leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED)
	_, err := h.client.AssignLead(admin, &leadsv1.AssignLeadRequest{LeadId: l.GetId(), OwnerId: "rep-1"})
	require.NoError(t, err)

	updAccount := func(ctx context.Context, id string, o *commonv1.WriteOptions) error {
		_, err := h.accounts.UpdateAccount(ctx, &leadsv1.UpdateAccountRequest{AccountId: id, Account: &leadsv1.Account{Industry: "robotics"},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"industry"}}, Options: o})
		return err
	}
	updContact := func(ctx context.Context, id string, o *commonv1.WriteOptions) error {
		_, err := h.contacts.UpdateContact(ctx, &leadsv1.UpdateContactRequest{ContactId: id, Contact: &leadsv1.Contact{JobTitle: "CTO"},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}, Options: o})
		return err
	}
	convert := func(ctx context.Context, accountID, contactID string) error {
		_, err := h.client.ConvertLead(ctx, &leadsv1.ConvertLeadRequest{LeadId: l.GetId(), AccountId: accountID, ContactId: contactID})
		return err
	}
	logAbout := func(ctx context.Context, ref *leadsv1.RecordRef) error {
		_, err := h.activities.LogActivity(ctx, &leadsv1.LogActivityRequest{Activity: &leadsv1.Activity{
			Kind: leadsv1.ActivityKind_ACTIVITY_KIND_CALL, Records: []*leadsv1.RecordRef{ref}, Subject: "Intro call",
			Direction: leadsv1.ActivityDirection_ACTIVITY_DIRECTION_OUTBOUND}})
		return err
	}
	accRef := func(id string) *leadsv1.RecordRef {
		return &leadsv1.RecordRef{Type: leadsv1.RecordType_RECORD_TYPE_ACCOUNT, Id: id}
	}
	conRef := func(id string) *leadsv1.RecordRef {
		return &leadsv1.RecordRef{Type: leadsv1.RecordType_RECORD_TYPE_CONTACT, Id: id}
	}

	before := h.leadsStreamMsgs(t)
	v := uint64(99)
	for _, c := range []struct {
		name              string
		ctx               context.Context
		account, contact  string
		accountIn, contIn string // in scope, for the conversion's other side
	}{
		{"rep", rep, "afar", "cfar", "amine", "cmine"},
		{"manager with team", mgr, "amine", "cmine", "ateam", "cteam"},
	} {
		t.Run(c.name, func(t *testing.T) {
			acc, con := f.ids[c.account], f.ids[c.contact]
			for _, o := range []*commonv1.WriteOptions{nil, {ExpectedVersion: &v}, {IdempotencyKey: "k-" + strings.ReplaceAll(c.name, " ", "-")}} {
				assertNotFoundLike(t, updAccount(c.ctx, acc, o), updAccount(c.ctx, missingAccount, o), acc, missingAccount)
				assertNotFoundLike(t, updContact(c.ctx, con, o), updContact(c.ctx, missingContact, o), con, missingContact)
			}
			if c.name == "rep" { // the lead is rep-1's
				assertNotFoundLike(t, convert(c.ctx, acc, ""), convert(c.ctx, missingAccount, ""), acc, missingAccount)
				assertNotFoundLike(t, convert(c.ctx, f.ids[c.accountIn], con), convert(c.ctx, f.ids[c.accountIn], missingContact), con, missingContact)
			}
			for _, p := range []struct{ ref, missing *leadsv1.RecordRef }{{accRef(acc), accRef(missingAccount)}, {conRef(con), conRef(missingContact)}} {
				missingErr, err := logAbout(c.ctx, p.missing), logAbout(c.ctx, p.ref)
				require.Equal(t, codes.FailedPrecondition, status.Code(missingErr), "%v", missingErr)
				assert.Equal(t, status.Code(missingErr), status.Code(err), "%v", err)
				assert.Equal(t, status.Convert(missingErr).Message(), strings.ReplaceAll(status.Convert(err).Message(), p.ref.GetId(), p.missing.GetId()))
			}
		})
	}
	assert.Equal(t, before, h.leadsStreamMsgs(t), "nothing appended")
	for _, name := range []string{"afar", "cfar"} {
		var version uint64
		if name == "afar" {
			got, err := h.accounts.GetAccount(admin, &leadsv1.GetAccountRequest{AccountId: f.ids[name], Read: f.read})
			require.NoError(t, err)
			version = got.GetAccount().GetVersion()
		} else {
			got, err := h.contacts.GetContact(admin, &leadsv1.GetContactRequest{ContactId: f.ids[name], Read: f.read})
			require.NoError(t, err)
			version = got.GetContact().GetVersion()
		}
		assert.EqualValues(t, 1, version, "%s is unchanged", name)
	}

	// The timeline of an account out of scope is that of a missing one: NOT_FOUND.
	_, err = h.activities.GetTimeline(rep, &leadsv1.GetTimelineRequest{Record: accRef(f.ids["afar"]), Read: f.read})
	_, missingErr := h.activities.GetTimeline(rep, &leadsv1.GetTimelineRequest{Record: accRef(missingAccount), Read: f.read})
	assertNotFoundLike(t, err, missingErr, f.ids["afar"], missingAccount)
	tl, err := h.activities.GetTimeline(admin, &leadsv1.GetTimelineRequest{Record: accRef(f.ids["afar"]), Read: f.read})
	require.NoError(t, err)
	assert.NotEmpty(t, tl.GetEntries(), "the admin's timeline of the same account")

	// In scope: own, territory's and unowned accounts; own and unowned contacts; activities.
	for _, name := range []string{"amine", "adach", "afardach", "ashared"} {
		assert.NoError(t, updAccount(rep, f.ids[name], nil), name)
	}
	for _, name := range []string{"cmine", "cshared"} {
		assert.NoError(t, updContact(rep, f.ids[name], nil), name)
	}
	assert.NoError(t, updAccount(mgr, f.ids["ateam"], nil))
	assert.NoError(t, logAbout(rep, accRef(f.ids["amine"])))
	assert.NoError(t, logAbout(rep, conRef(f.ids["cshared"])))
	// A version mismatch in scope is still a conflict.
	assert.Equal(t, codes.Aborted, status.Code(updAccount(rep, f.ids["amine2"], &commonv1.WriteOptions{ExpectedVersion: &v})))

	// An idempotency key's stored outcome is not returned once the record left the scope.
	key := &commonv1.WriteOptions{IdempotencyKey: "replay-amine3"}
	require.NoError(t, updAccount(rep, f.ids["amine3"], key))
	require.NoError(t, updAccount(rep, f.ids["amine3"], key), "a replay in scope")
	_, err = h.accounts.UpdateAccount(admin, &leadsv1.UpdateAccountRequest{AccountId: f.ids["amine3"], Account: &leadsv1.Account{OwnerId: "rep-3"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"owner_id"}}})
	require.NoError(t, err)
	assertNotFoundLike(t, updAccount(rep, f.ids["amine3"], key), updAccount(rep, missingAccount, nil), f.ids["amine3"], missingAccount)

	// A duplicate out of scope is ALREADY_EXISTS without naming the record; in scope it is named.
	_, err = h.accounts.CreateAccount(rep, &leadsv1.CreateAccountRequest{Account: &leadsv1.Account{Name: "Acct afar"}})
	require.Equal(t, codes.AlreadyExists, status.Code(err), "%v", err)
	assert.Empty(t, errorInfo(err).GetMetadata()["existing_id"])
	_, err = h.accounts.CreateAccount(rep, &leadsv1.CreateAccountRequest{Account: &leadsv1.Account{Name: "Acct amine"}})
	require.Equal(t, codes.AlreadyExists, status.Code(err), "%v", err)
	assert.Equal(t, f.ids["amine"], errorInfo(err).GetMetadata()["existing_id"])
	_, err = h.contacts.CreateContact(rep, &leadsv1.CreateContactRequest{Contact: &leadsv1.Contact{LastName: "X", Email: "cfar@example.com"}})
	require.Equal(t, codes.AlreadyExists, status.Code(err), "%v", err)
	assert.Empty(t, errorInfo(err).GetMetadata()["existing_id"])

	// The rep converts the lead into an account and a contact of its scope.
	res, err := h.client.ConvertLead(rep, &leadsv1.ConvertLeadRequest{LeadId: l.GetId(), AccountId: f.ids["amine"], ContactId: f.ids["cshared"]})
	require.NoError(t, err)
	assert.Equal(t, f.ids["amine"], res.GetAccountId())
	assert.Equal(t, leadsv1.LeadStatus_LEAD_STATUS_CONVERTED, res.GetLead().GetStatus())
}

// TestRowLevelAccountsImport: a contact import (and its dry run) by a manager skips a row
// duplicating a contact out of its scope without naming it and never updates that contact;
// a duplicate in scope is updated.
func TestRowLevelAccountsImport(t *testing.T) {
	t.Parallel()
	f := newAcctFixture(t)
	h := &transferHarness{f.h}
	mgr := caller(t, "mgr-1", "sales_manager", "", "rep-2")
	admin := as(t, "acme", "admin-1")
	file := []byte("email,first name,job title\ncfar@example.com,Augusta,CTO\ncteam@example.com,Augusta,CTO\nnew-c@example.com,Augusta,CTO\n")
	for _, dry := range []bool{true, false} {
		rep, _, err := h.importFile(mgr, &leadsv1.ImportStart{Object: leadsv1.TransferObject_TRANSFER_OBJECT_CONTACT,
			DedupePolicy: leadsv1.DedupePolicy_DEDUPE_POLICY_UPDATE, DryRun: dry}, file, 1<<20)
		require.NoError(t, err)
		assert.EqualValues(t, 1, rep.GetCreated(), "dry run %v", dry)
		assert.EqualValues(t, 1, rep.GetUpdated(), "dry run %v", dry)
		assert.EqualValues(t, 1, rep.GetSkipped(), "dry run %v", dry)
		for _, r := range rep.GetResults() {
			switch r.GetLine() {
			case 2:
				assert.Equal(t, skipped, r.GetOutcome())
				assert.Empty(t, r.GetRecordId(), "a contact out of scope is not named")
				assert.Contains(t, r.GetReason(), "outside your scope")
				assert.NotContains(t, r.GetReason(), f.ids["cfar"])
			case 3:
				assert.Equal(t, f.ids["cteam"], r.GetRecordId())
			}
		}
	}
	require.Eventually(t, func() bool {
		got, err := h.contacts.GetContact(admin, &leadsv1.GetContactRequest{ContactId: f.ids["cteam"]})
		return err == nil && got.GetContact().GetJobTitle() == "CTO"
	}, 5*time.Second, 20*time.Millisecond)
	got, err := h.contacts.GetContact(admin, &leadsv1.GetContactRequest{ContactId: f.ids["cfar"]})
	require.NoError(t, err)
	assert.Equal(t, "cfar", got.GetContact().GetFirstName(), "the contact out of scope is not updated")
	assert.EqualValues(t, 1, got.GetContact().GetVersion())
}
