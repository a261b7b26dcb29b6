package testkit_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/libs/testkit/internal/emptyd"
)

const emptydPkg = "github.com/evcrm/evcrm/libs/testkit/internal/emptyd/cmd/emptyd"

func serving(t *testing.T, conn *grpc.ClientConn) {
	t.Helper()
	res, err := healthpb.NewHealthClient(conn).Check(testkit.As(t, "acme", "u1"), &healthpb.HealthCheckRequest{},
		grpc.WaitForReady(true))
	require.NoError(t, err)
	assert.Equal(t, healthpb.HealthCheckResponse_SERVING, res.GetStatus())
}

func TestBuildBinaryBuildsOnce(t *testing.T) {
	t.Parallel()
	assert.Equal(t, testkit.BuildBinary(t, emptydPkg), testkit.BuildBinary(t, emptydPkg))
}

func TestProcessKillAndRestart(t *testing.T) {
	t.Parallel()
	p := testkit.StartProcess(t, testkit.BuildBinary(t, emptydPkg), testkit.StartNATS(t))
	conn := p.Conn(t)
	serving(t, conn)
	addr := p.Addr()

	p.Kill()
	p.Kill() // a second kill does nothing
	_, err := healthpb.NewHealthClient(conn).Check(testkit.As(t, "acme", "u1"), &healthpb.HealthCheckRequest{})
	require.Error(t, err, "the process is gone")

	p.Restart(t)
	assert.Equal(t, addr, p.Addr(), "same address after a restart")
	serving(t, conn) // the old connection reconnects
}

func TestCheckDaemon(t *testing.T) {
	testkit.CheckDaemon(t, testkit.Daemon{
		Name: "emptyd",
		Run:  emptyd.Run,
		Probe: func(ctx context.Context, conn *grpc.ClientConn) error {
			_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
			return err
		},
	})
}

// Another service runs for real as a child process on the test's NATS: built once per test
// binary (testkit.Main removes it), killed like a crashed server and started again.
func ExampleStartProcess() {
	_ = func(t *testing.T) {
		n := testkit.StartNATS(t)
		bin := testkit.BuildBinary(t, "github.com/evcrm/evcrm/services/pipeline/cmd/pipeline")
		p := testkit.StartProcess(t, bin, n, "-replicas", "1") // the service's own flags last
		// A generated client on it: pipelinev1.NewPipelineServiceClient(p.Conn(t)).
		_ = p.Conn(t)
		p.Kill()     // SIGKILL: no graceful stop
		p.Restart(t) // same address and data directory
	}
}

// A daemon's main_test checks its wiring with one RPC of its own.
func ExampleCheckDaemon() {
	_ = func(t *testing.T) { // func TestRunServesAndStopsCleanly(t *testing.T), in package main
		run := func(context.Context) error { return nil } // main's run(ctx)
		testkit.CheckDaemon(t, testkit.Daemon{Name: "pipeline", Run: run,
			Probe: func(ctx context.Context, conn *grpc.ClientConn) error {
				_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
				return err
			}})
	}
}
