package service_test

import (
	"testing"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

// leadsProc is the real leads service as a child process on the test's NATS, so campaign tests
// talk to it over gRPC (suppression checks, segments, rule actions) and can kill it.
type leadsProc struct{ *testkit.Process }

// TestMain removes the leads binary after the tests.
func TestMain(m *testing.M) { testkit.Main(m) }

// startLeadsProcess runs the leads service on n with development authentication and no
// pipeline; pass its Addr as harnessOptions.LeadsAddr.
func startLeadsProcess(t testing.TB, n *testkit.NATS) *leadsProc {
	t.Helper()
	bin := testkit.BuildBinary(t, "github.com/evcrm/evcrm/services/leads/cmd/leads")
	return &leadsProc{testkit.StartProcess(t, bin, n, "-pipeline-addr", "")}
}

// leads is a LeadsService client of the process.
func (p *leadsProc) leads(t testing.TB) leadsv1.LeadsServiceClient {
	return leadsv1.NewLeadsServiceClient(p.Conn(t))
}

// contacts is a ContactsService client of the process.
func (p *leadsProc) contacts(t testing.TB) leadsv1.ContactsServiceClient {
	return leadsv1.NewContactsServiceClient(p.Conn(t))
}
