package service_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
)

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
