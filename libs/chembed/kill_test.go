package chembed_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/chembed"
)

// Kill is a crash: the process is gone at once (no graceful shutdown), Err reports the signal,
// and Restart brings the server back on the same ports with its data.
func TestServerKillAndRestart(t *testing.T) {
	t.Parallel()
	srv := start(t, chembed.Config{Dir: t.TempDir()})
	execAll(t, open(t, srv),
		"CREATE TABLE kept (id UInt64) ENGINE = MergeTree() ORDER BY id",
		"INSERT INTO kept (id) SELECT number FROM system.numbers LIMIT 3",
	)
	done := srv.Done()
	began := time.Now()
	srv.Kill()
	select {
	case <-done:
	default:
		t.Fatal("Kill returned before the process exited")
	}
	assert.Less(t, time.Since(began), 5*time.Second)
	require.ErrorContains(t, srv.Err(), "killed")
	assert.Zero(t, srv.Pid())
	srv.Kill() // a killed server: nothing to do

	addr := srv.Addr()
	require.NoError(t, srv.Restart(t.Context()))
	assert.Equal(t, addr, srv.Addr())
	var n uint64
	require.NoError(t, open(t, srv).QueryRow(t.Context(), "SELECT count() FROM kept").Scan(&n))
	assert.Equal(t, uint64(3), n)
}
