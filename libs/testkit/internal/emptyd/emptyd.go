// Package emptyd is a service daemon that serves nothing but the platform's gRPC basics
// (health, reflection): the smallest real daemon for testing the test kit's process and
// daemon helpers.
package emptyd

import (
	"context"

	"github.com/evcrm/evcrm/libs/platform/daemon"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
)

// Run runs the daemon with the flags in os.Args until ctx ends.
func Run(ctx context.Context) error {
	return daemon.Run(ctx, daemon.Spec{
		Name: "emptyd", GRPCAddr: "127.0.0.1:0", MetricsAddr: "", DataDir: ".data/emptyd",
		Build: func(context.Context, daemon.Env) (daemon.Built, error) {
			return daemon.Built{Register: func(*grpcserver.Server) {}}, nil
		},
	})
}
