package service_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/leads/internal/app"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
)

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
