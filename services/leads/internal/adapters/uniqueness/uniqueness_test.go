package uniqueness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/testkit"
)

func open(t *testing.T, o Options) *Index {
	t.Helper()
	js, err := jetstream.New(testkit.StartNATS(t).Connect(t))
	require.NoError(t, err)
	x, err := Open(context.Background(), js, o)
	require.NoError(t, err)
	return x
}

func never(context.Context, string) (bool, error) { return false, nil }

func TestConcurrentClaimsOfOneEmailHaveOneWinner(t *testing.T) {
	t.Parallel()
	x := open(t, Options{})
	ctx := context.Background()
	email := []string{"email_ada"}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []string
	)
	for i := range 40 {
		wg.Go(func() {
			id := fmt.Sprintf("lead-%d", i)
			err := x.Claim(ctx, "acme", id, email, never)
			if err == nil {
				mu.Lock()
				winners = append(winners, id)
				mu.Unlock()
				return
			}
			var taken *ErrTaken
			if !errors.Is(err, ErrBusy) && !errors.As(err, &taken) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	require.Len(t, winners, 1)
	holder, ok, err := x.holder(ctx, "acme", email[0])
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, winners[0], holder)

	// Another tenant may use the same email.
	require.NoError(t, x.Claim(ctx, "globex", "g-1", email, never))
}

func TestClaimSettleReleaseLifecycle(t *testing.T) {
	t.Parallel()
	x := open(t, Options{})
	ctx := context.Background()
	keys := []string{"email_bob", "phone_4930123456"}

	require.NoError(t, x.Claim(ctx, "acme", "L1", keys, never))
	require.NoError(t, x.Claim(ctx, "acme", "L1", keys, never), "a retry by the same lead succeeds")
	assert.ErrorIs(t, x.Claim(ctx, "acme", "L2", []string{keys[1]}, never), ErrBusy, "L1 is still being created")

	// Once L1 is stored, its pending claim counts as taken at once, without waiting for the timeout.
	l1 := func(_ context.Context, id string) (bool, error) { return id == "L1", nil }
	err := x.Claim(ctx, "acme", "L2", []string{keys[1]}, l1)
	var taken *ErrTaken
	require.ErrorAs(t, err, &taken)
	assert.Equal(t, "L1", taken.LeadID)
	assert.Equal(t, "phone", taken.Key)

	// A partial failure leaves nothing claimed by the failed call.
	err = x.Claim(ctx, "acme", "L3", []string{"email_new", keys[0]}, l1)
	require.ErrorAs(t, err, &taken)
	_, held, err := x.holder(ctx, "acme", "email_new")
	require.NoError(t, err)
	assert.False(t, held)

	// Releasing by someone else does nothing; by the holder frees the key.
	x.Release(ctx, "acme", "L2", keys)
	_, held, _ = x.holder(ctx, "acme", keys[0])
	assert.True(t, held)
	x.Release(ctx, "acme", "L1", keys)
	require.NoError(t, x.Claim(ctx, "acme", "L4", keys, never))
}

func TestStalePendingClaimIsSettled(t *testing.T) {
	t.Parallel()
	x := open(t, Options{PendingTimeout: 100 * time.Millisecond})
	ctx := context.Background()
	k := []string{"email_carol"}

	require.NoError(t, x.Claim(ctx, "acme", "dead-before-append", k, never))
	assert.ErrorIs(t, x.Claim(ctx, "acme", "L2", k, never), ErrBusy, "a fresh pending claim makes others wait")
	time.Sleep(150 * time.Millisecond)
	require.NoError(t, x.Claim(ctx, "acme", "L2", k, never), "the creator died before storing the lead: take over")

	k2 := []string{"email_dave"}
	require.NoError(t, x.Claim(ctx, "acme", "dead-after-append", k2, never))
	time.Sleep(150 * time.Millisecond)
	exists := func(_ context.Context, id string) (bool, error) { return id == "dead-after-append", nil }
	var taken *ErrTaken
	require.ErrorAs(t, x.Claim(ctx, "acme", "L3", k2, exists), &taken, "the creator died after storing the lead: it keeps the key")
	assert.Equal(t, "dead-after-append", taken.LeadID)
}

// holder returns the lead holding a key, if any.
func (x *Index) holder(ctx context.Context, tenant string, k string) (string, bool, error) {
	entry, err := x.kv.Get(ctx, kvKey(tenant, k))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	var c claim
	if err := json.Unmarshal(entry.Value(), &c); err != nil {
		return "", false, err
	}
	return c.LeadID, true, nil
}
