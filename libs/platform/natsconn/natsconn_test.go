package natsconn_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/platform/config"
	"github.com/evcrm/evcrm/libs/platform/logging"
	"github.com/evcrm/evcrm/libs/platform/natsconn"
	"github.com/evcrm/evcrm/libs/testkit"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestConnectReconnectsAfterServerRestart(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	var logs syncBuffer
	nc, err := natsconn.Connect(config.Base{Service: "leads", NATSURL: n.ClientURL()}, logging.New(&logs, nil))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	assert.True(t, nc.IsConnected())
	assert.Equal(t, "leads", nc.Opts.Name)

	n.Restart(t)
	require.Eventually(t, func() bool { return nc.IsConnected() && nc.Stats().Reconnects > 0 }, 10*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "nats reconnected") }, 5*time.Second, 20*time.Millisecond)
	assert.Contains(t, logs.String(), "nats disconnected")
}

func TestConnectRejectsBadConfig(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	_, err := natsconn.Connect(config.Base{Service: "leads"}, logging.New(&logs, nil))
	assert.ErrorContains(t, err, "-nats-url")
	_, err = natsconn.Connect(config.Base{Service: "leads", NATSURL: "nats://127.0.0.1:1", NATSCreds: filepath.Join(t.TempDir(), "missing.creds")}, logging.New(&logs, nil))
	assert.ErrorContains(t, err, "-nats-creds")
	// A password in the URL stays out of the error (and so out of the logs).
	_, err = natsconn.Connect(config.Base{Service: "leads", NATSURL: "nats://leads:s3cret-pw@127.0.0.1:1"}, logging.New(&logs, nil))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cret-pw")
	assert.Contains(t, err.Error(), "leads:xxxxx@127.0.0.1:1")
}
