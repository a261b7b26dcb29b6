// Command crmdev is the development launcher behind `make run`: it starts NATS JetStream (in
// process), ClickHouse (a supervised child process) and the leads, pipeline, campaign and
// analytics services (child processes built from this repository) on one machine, with their
// state under .data/, waits for their health, loads the demo data on the first start and prints
// where everything listens. Ctrl-C stops it all in order. `crmdev demo` drives a running system
// as a load generator.
//
// Every flag has an EVCRM_* environment fallback (--nats-url: EVCRM_NATS_URL). See
// docs/operations.md.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
)

func main() {
	out := &console{w: os.Stdout}
	root := newRoot(out)
	if err := root.ExecuteContext(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "crmdev:", err)
		os.Exit(1)
	}
}

func newRoot(out *console) *cobra.Command {
	root := &cobra.Command{
		Use:   "crmdev",
		Short: "Run the whole evcrm system on this machine (make run)",
		// Usage after a failed start would bury the message that says what to change.
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newRunCmd(out), newDemoCmd(out))
	return root
}

func newRunCmd(out *console) *cobra.Command {
	s := &settings{}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Start NATS, ClickHouse and the four services with demo data; Ctrl-C stops them",
		Long: `Start NATS JetStream (embedded), ClickHouse (child process) and the leads, pipeline,
campaign and analytics services (child processes, built into <data-dir>/bin unless --bin-dir
is given), wait until all answer gRPC health, load the demo data on the first start of the data
dir, and print the addresses. Ctrl-C stops the services, then ClickHouse, then NATS; the next
run resumes with the same data.

--nats-url and --clickhouse-addr point the services at external servers instead of starting
the embedded ones. Every flag falls back to the environment variable EVCRM_<FLAG>
(--leads-grpc-addr: EVCRM_LEADS_GRPC_ADDR).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags(), lookupEnv); err != nil {
				return err
			}
			return runSystem(cmd.Context(), s, out)
		},
	}
	s.addFlags(cmd.Flags())
	return cmd
}

func newDemoCmd(out *console) *cobra.Command {
	var (
		s        = &settings{Services: map[string]*serviceAddrs{}}
		rate     float64
		duration time.Duration
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Drive a running system with demo traffic (a load generator for benchmarks)",
		Long: `Send a stream of realistic demo operations (new leads, qualification, conversions,
stage moves, campaign responses) to a running system at --rate operations per second for
--duration, then print what was done. The system is the one crmdev run started, or any other
whose addresses the flags name.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags(), lookupEnv); err != nil {
				return err
			}
			if rate <= 0 || duration <= 0 {
				return fmt.Errorf("--rate and --duration must be positive")
			}
			conns, closeConns, err := dialServices(s)
			if err != nil {
				return err
			}
			defer closeConns()
			ctx, cancel := signalContext(cmd.Context())
			defer cancel()
			summary, err := loadDemo(ctx, s, conns, rate, duration, out.Writer("demo"))
			if err != nil {
				return err
			}
			out.Printf("demo load done: %s", summary)
			return nil
		},
	}
	fs := cmd.Flags()
	for _, svc := range services {
		a := defaultServiceAddrs[svc]
		s.Services[svc] = &a
		fs.StringVar(&a.GRPC, svc+"-grpc-addr", a.GRPC, svc+" gRPC address")
	}
	fs.StringVar(&s.Tenant, "tenant", demoTenant, "tenant to write to")
	fs.Int64Var(&s.SeedValue, "seed-value", 1, "random seed of the generated calls (each run writes new records whatever the seed)")
	fs.Float64Var(&rate, "rate", 50, "calls per second")
	fs.DurationVar(&duration, "duration", time.Minute, "how long to run")
	return cmd
}
