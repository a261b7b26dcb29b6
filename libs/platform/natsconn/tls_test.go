package natsconn_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/platform/config"
	"github.com/evcrm/evcrm/libs/platform/logging"
	"github.com/evcrm/evcrm/libs/platform/natsconn"
	"github.com/evcrm/evcrm/libs/testkit"
)

// A NATS server that verifies client certificates (tls { verify: true }): a service with a
// tls:// URL, -tls-ca and its certificate connects; without its certificate, or with one of
// another CA, it is refused.
func TestConnectWithMutualTLS(t *testing.T) {
	t.Parallel()
	certs := testkit.NewTLSFiles(t)
	tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: certs.ServerCert, KeyFile: certs.ServerKey, CaFile: certs.CA, Verify: true})
	require.NoError(t, err)
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoSigs: true, TLSConfig: tc, TLSVerify: true, TLSTimeout: 2})
	require.NoError(t, err)
	go srv.Start()
	t.Cleanup(srv.Shutdown)
	require.True(t, srv.ReadyForConnections(10*time.Second))
	url := "tls://localhost:" + strings.TrimPrefix(srv.ClientURL()[strings.LastIndex(srv.ClientURL(), ":"):], ":")

	var logs syncBuffer
	base := config.Base{Service: "leads", NATSURL: url, TLSCA: certs.CA, TLSCert: certs.ServerCert, TLSKey: certs.ServerKey}
	nc, err := natsconn.Connect(base, logging.New(&logs, nil))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	assert.True(t, nc.TLSRequired())

	noCert := base
	noCert.TLSCert, noCert.TLSKey = "", ""
	_, err = natsconn.Connect(noCert, logging.New(&logs, nil))
	assert.Error(t, err, "no client certificate")
	foreign := base
	foreign.TLSCert, foreign.TLSKey = certs.ForeignCert, certs.ForeignKey
	_, err = natsconn.Connect(foreign, logging.New(&logs, nil))
	assert.Error(t, err, "another CA's certificate")
}
