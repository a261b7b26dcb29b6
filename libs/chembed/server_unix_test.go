//go:build unix

package chembed_test

import (
	"errors"
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/chembed"
)

func TestServerStopLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	srv, err := chembed.Start(t.Context(), chembed.Config{Dir: t.TempDir()})
	require.NoError(t, err)
	pid := srv.Pid()
	require.NotZero(t, pid)
	require.True(t, groupAlive(t, pid))

	require.NoError(t, srv.Stop())
	assert.False(t, groupAlive(t, pid), "process group %d still has members", pid)
	assert.Zero(t, srv.Pid())
	assert.NoError(t, srv.Err(), "clean exit after SIGTERM")
	select {
	case <-srv.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}
	for _, addr := range []string{srv.Addr(), srv.HTTPAddr()} {
		l, err := net.Listen("tcp", addr)
		require.NoError(t, err, "port %s still taken", addr)
		l.Close()
	}
	assert.NoError(t, srv.Stop(), "second Stop is a no-op")
}

// groupAlive reports whether any process is left in the process group pgid.
func groupAlive(t *testing.T, pgid int) bool {
	t.Helper()
	err := syscall.Kill(-pgid, 0)
	if errors.Is(err, syscall.ESRCH) {
		return false
	}
	if err != nil {
		t.Fatalf("kill(-%d, 0): %v", pgid, err)
	}
	return true
}
