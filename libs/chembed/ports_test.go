package chembed

import (
	"io"
	"net"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Not parallel: it swaps pickFreePort, which parallel tests only read after it is restored.
func TestStartPicksNewPortsWhenOneIsTaken(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port

	real := pickFreePort
	t.Cleanup(func() { pickFreePort = real })
	calls := 0
	pickFreePort = func(host string) (int, io.Closer, error) {
		calls++
		if calls == 1 { // as if another process bound it between the pick and the server's bind
			return busyPort, io.NopCloser(nil), nil
		}
		return real(host)
	}

	srv, err := Start(t.Context(), Config{Dir: t.TempDir()})
	require.NoError(t, err)
	defer srv.Stop()
	assert.Greater(t, calls, 2, "picked again after the failed bind")
	_, port, _ := net.SplitHostPort(srv.Addr())
	assert.NotEqual(t, strconv.Itoa(busyPort), port)
}
