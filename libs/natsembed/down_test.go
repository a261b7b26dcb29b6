package natsembed_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/natsembed"
)

// A server that was shut down (a node that died) comes back with Restart on the port it had
// picked, and reports its own replica of a stream.
func TestRestartAfterShutdownKeepsThePortAndTheStream(t *testing.T) {
	t.Parallel()
	srv, err := natsembed.Start(natsembed.Config{Port: -1, StoreDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(srv.Shutdown)
	url := srv.ClientURL()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx := context.Background()
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.FileStorage})
	require.NoError(t, err)
	for range 3 {
		_, err = js.Publish(ctx, "s.1", []byte("x"))
		require.NoError(t, err)
	}

	srv.Shutdown()
	assert.False(t, srv.Running())
	srv.Shutdown() // twice is harmless
	require.NoError(t, srv.Restart())
	assert.True(t, srv.Running())
	assert.Equal(t, url, srv.ClientURL(), "the port picked at the first start")

	st, ok, err := srv.LocalStreamState("S")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, natsembed.StreamState{Msgs: 3, FirstSeq: 1, LastSeq: 3}, st)
	_, ok, err = srv.LocalStreamState("NONE")
	require.NoError(t, err)
	assert.False(t, ok)
	require.Eventually(t, func() bool { return nc.IsConnected() }, 10*time.Second, 20*time.Millisecond, "the client reconnected")
}
