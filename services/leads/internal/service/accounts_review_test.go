package service_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/leads/internal/app"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
)

// A hierarchy is at most account.MaxDepth levels deep whether the deepest account is
// re-parented (UpdateAccount) or created under the deepest one (CreateAccount).
func TestCreateAccountUnderTooDeepHierarchyIsRejected(t *testing.T) {
	t.Parallel()
	h := startService(t, testkit.StartNATS(t), harnessOptions{NoWorkers: true})
	ctx := as(t, "acme", "rep-1")
	parent := ""
	for i := range account.MaxDepth {
		res, err := h.svc.App.CreateAccount(ctx, "acme", account.New{Details: account.Details{
			Name: "Level " + string(rune('A'+i)), ParentAccountID: parent}}, true, app.Write{})
		require.NoError(t, err, "level %d", i+1)
		parent = res.Account.ID
	}
	before := h.leadsStreamMsgs(t)
	_, err := h.svc.App.CreateAccount(ctx, "acme", account.New{Details: account.Details{
		Name: "One too deep", ParentAccountID: parent}}, true, app.Write{})
	e, ok := apperr.As(err)
	require.True(t, ok, "got %v", err)
	assert.Equal(t, apperr.FailedPrecondition, e.Kind)
	assert.Equal(t, account.ReasonTooDeep, e.Reason)
	assert.Equal(t, before, h.leadsStreamMsgs(t))

	// The same depth reached by re-parenting is rejected too (the existing behaviour).
	loose, err := h.svc.App.CreateAccount(ctx, "acme", account.New{Details: account.Details{Name: "Loose"}}, true, app.Write{})
	require.NoError(t, err)
	_, err = h.svc.App.UpdateAccount(ctx, "acme", loose.Account.ID, account.Update{Paths: []string{account.PathParentAccountID},
		Details: account.Details{ParentAccountID: parent}}, app.Write{})
	e, ok = apperr.As(err)
	require.True(t, ok, "got %v", err)
	assert.Equal(t, account.ReasonTooDeep, e.Reason)
}
