package daemon_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/platform/daemon"
	"github.com/evcrm/evcrm/libs/testkit"
)

// These tests set os.Args, so they do not run in parallel.

func spec(build func(context.Context, daemon.Env) (daemon.Built, error)) daemon.Spec {
	return daemon.Spec{Name: "demo", GRPCAddr: "127.0.0.1:0", MetricsAddr: "", DataDir: "", Build: build}
}

func TestRunChecksTheConfigurationBeforeConnecting(t *testing.T) {
	built := false
	build := func(context.Context, daemon.Env) (daemon.Built, error) { built = true; return daemon.Built{}, nil }

	os.Args = []string{"demo", "-h"}
	assert.NoError(t, daemon.Run(context.Background(), spec(build)), "-h is a clean exit")

	os.Args = []string{"demo", "-replicas", "2", "-data-dir", t.TempDir()}
	err := daemon.Run(context.Background(), spec(build))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "replicas")

	os.Args = []string{"demo"}
	err = daemon.Run(context.Background(), spec(build))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "data-dir")
	assert.False(t, built)
}

func TestRunReturnsTheBuildError(t *testing.T) {
	n := testkit.StartNATS(t)
	boom := errors.New("boom")
	var got daemon.Env
	os.Args = []string{"demo", "-nats-url", n.ClientURL(), "-data-dir", t.TempDir(), "-replicas", "3", "-log-level", "warn", "-dev-auth"}
	err := daemon.Run(context.Background(), spec(func(_ context.Context, env daemon.Env) (daemon.Built, error) {
		got = env
		return daemon.Built{}, boom
	}))
	require.ErrorIs(t, err, boom)
	assert.Equal(t, 3, got.Config.Replicas)
	assert.Equal(t, "demo", got.Config.Service)
	assert.NotNil(t, got.NATS)
	assert.NotNil(t, got.Projection)
}
