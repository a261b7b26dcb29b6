package natsembed_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
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

// Users given in the config are the only ones admitted, with their permissions, and they stay
// after a restart.
func TestStartWithUsers(t *testing.T) {
	t.Parallel()
	srv, err := natsembed.Start(natsembed.Config{Port: -1, StoreDir: t.TempDir(), Users: []*server.User{
		{Username: "admin", Password: "a-secret"},
		{Username: "reader", Password: "r-secret", Permissions: &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: []string{"allowed.>"}},
			Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX.>"}},
		}},
	}})
	require.NoError(t, err)
	t.Cleanup(srv.Shutdown)

	_, err = nats.Connect(srv.ClientURL())
	assert.ErrorIs(t, err, nats.ErrAuthorization, "no credentials")
	_, err = nats.Connect(srv.ClientURL(), nats.UserInfo("reader", "wrong"))
	assert.ErrorIs(t, err, nats.ErrAuthorization, "a wrong password")

	require.NoError(t, srv.Restart())
	denied := make(chan error, 1)
	nc, err := nats.Connect(srv.ClientURL(), nats.UserInfo("reader", "r-secret"),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { denied <- err }))
	require.NoError(t, err)
	defer nc.Close()
	require.NoError(t, nc.Publish("other.subject", nil))
	select {
	case err := <-denied:
		assert.ErrorIs(t, err, nats.ErrPermissionViolation)
	case <-time.After(5 * time.Second):
		t.Fatal("a publish outside the allow list was not refused")
	}

	admin, err := nats.Connect(srv.ClientURL(), nats.UserInfo("admin", "a-secret"))
	require.NoError(t, err)
	defer admin.Close()
	js, err := jetstream.New(admin)
	require.NoError(t, err)
	_, err = js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	assert.NoError(t, err, "a user without permissions may do anything")
}
