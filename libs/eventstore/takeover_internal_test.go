package eventstore

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/evcrm/evcrm/libs/testkit"
)

type strCodec struct{}

func (strCodec) Encode(s string) (proto.Message, error) { return wrapperspb.String(s), nil }
func (strCodec) Decode(r Recorded) (string, error) {
	p, err := r.Payload()
	if err != nil {
		return "", err
	}
	return p.(*wrapperspb.StringValue).GetValue(), nil
}

// An executor claims a key, appends, and dies before recording the outcome. After the claim
// times out, a retry takes over: it finds the dead executor's events by causation id on the
// aggregate the claim names, returns them, and appends nothing.
func TestIdempotencyTakeoverFindsDeadExecutorsEvents(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	nc := n.Connect(t)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, EnsureStreams(ctx, js, StreamOptions{}))
	st, err := New(nc, Options{})
	require.NoError(t, err)
	idem, err := NewIdempotency(ctx, js, IdempotencyOptions{ClaimTimeout: 200 * time.Millisecond})
	require.NoError(t, err)
	repo, err := NewRepository(st, "lead", strCodec{}, func() []string { return nil },
		func(s []string, e string) []string { return append(s[:len(s):len(s)], e) }, RepositoryOptions{Idempotency: idem})
	require.NoError(t, err)

	const key = "import-row-17"
	orig := Ref{Tenant: "acme", Type: "lead", ID: "first-choice"}
	c, prior, err := idem.begin(ctx, "acme", key, "CreateLead", orig)
	require.NoError(t, err)
	require.Nil(t, prior)
	dead, err := st.Append(WithMetadata(ctx, Metadata{CausationID: key}), orig, Position{}, Event{Payload: wrapperspb.String("created")})
	require.NoError(t, err)
	_ = c // never completed: the executor died here

	time.Sleep(300 * time.Millisecond)
	res, err := repo.Execute(ctx, Ref{Tenant: "acme", Type: "lead", ID: "second-choice"},
		Command{Name: "CreateLead", IdempotencyKey: key}, func(s []string) ([]string, error) { return []string{"created again"}, nil })
	require.NoError(t, err)
	assert.Equal(t, orig, res.Ref)
	assert.Equal(t, dead.Position, res.Position)
	assert.Equal(t, dead.EventIDs, res.EventIDs)
	assert.True(t, res.Replayed)

	s, err := js.Stream(ctx, "CRM_LEADS")
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), info.State.Msgs, "the takeover appended nothing")

	// The outcome is now recorded: the next retry replays it without a takeover.
	again, err := repo.Execute(ctx, orig, Command{Name: "CreateLead", IdempotencyKey: key}, func([]string) ([]string, error) { return []string{"x"}, nil })
	require.NoError(t, err)
	assert.True(t, again.Replayed)
	assert.Equal(t, dead.Position, again.Position)
}
