package projection_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/projection"
)

func TestCoverageWaitsOnlyForTheViewsSubjects(t *testing.T) {
	t.Parallel()
	_, js := startJetStream(t)
	ctx := testContext(t)
	pub := func(subject string) uint64 {
		ack, err := js.Publish(ctx, subject, []byte("x"))
		require.NoError(t, err)
		return ack.Sequence
	}
	acc1 := pub("crm.t1.account.a1.AccountCreated") // 1
	lead := pub("crm.t1.lead.l1.LeadCreated")       // 2
	con := pub("crm.t1.contact.c1.ContactCreated")  // 3
	lead2 := pub("crm.t1.lead.l2.LeadCreated")      // 4

	cov := projection.NewCoverage(js, leads, []string{"crm.*.account.>", "crm.*.contact.>"})
	next, err := cov.Next(ctx, acc1+1, lead2)
	require.NoError(t, err)
	require.Equal(t, con, next, "the contact event is the first of the view's subjects after the account")
	next, err = cov.Next(ctx, con+1, lead2)
	require.NoError(t, err)
	require.Zero(t, next, "only lead events follow the contact")

	var ck atomic.Uint64
	var waited []uint64
	wait := func(_ context.Context, seq uint64) error {
		waited = append(waited, seq)
		ck.Store(seq) // the view applies it
		return nil
	}
	ck.Store(acc1)
	require.NoError(t, cov.Wait(ctx, lead, ck.Load, wait))
	require.Empty(t, waited, "nothing of the view's subjects lies between the account and the lead")
	require.NoError(t, cov.Wait(ctx, lead2, ck.Load, wait))
	require.Equal(t, []uint64{con}, waited, "the wait for a later lead waits for the contact, then returns")

	// A view that is behind on its own subject still waits for it.
	ck.Store(0)
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	err = cov.Wait(short, acc1, ck.Load, func(ctx context.Context, _ uint64) error { <-ctx.Done(); return ctx.Err() })
	require.ErrorIs(t, err, context.DeadlineExceeded)
}
