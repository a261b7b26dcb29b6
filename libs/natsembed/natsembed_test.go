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

func TestStartRestartKeepsJetStreamData(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv, err := natsembed.Start(natsembed.Config{Port: -1, StoreDir: dir, SyncAlways: true})
	require.NoError(t, err)
	t.Cleanup(srv.Shutdown)
	assert.True(t, srv.Underlying().JetStreamEnabled())
	assert.True(t, srv.Underlying().JetStreamConfig() != nil)

	nc, err := nats.Connect(srv.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx := context.Background()
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.FileStorage})
	require.NoError(t, err)
	_, err = js.Publish(ctx, "s.1", []byte("kept"))
	require.NoError(t, err)

	url := srv.ClientURL()
	require.NoError(t, srv.Restart())
	assert.Equal(t, url, srv.ClientURL(), "a restart keeps the port so clients reconnect")

	require.Eventually(t, func() bool {
		s, err := js.Stream(ctx, "S")
		if err != nil {
			return false
		}
		m, err := s.GetMsg(ctx, 1)
		return err == nil && string(m.Data) == "kept"
	}, 10*time.Second, 50*time.Millisecond)
}

func TestStartNeedsAStoreDir(t *testing.T) {
	t.Parallel()
	_, err := natsembed.Start(natsembed.Config{Port: -1})
	assert.ErrorContains(t, err, "StoreDir")
}
