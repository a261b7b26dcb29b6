// Package cli is crmctl: the command tree (cobra) over the evcrm services' gRPC APIs, the
// CRM event streams and the analytics rebuild. Execute runs it in process, which is how the
// binary's main and the tests use it.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	// Every CRM message type must be in the global registry so events tail can decode any
	// payload by its event_type; these packages hold the event messages.
	_ "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	_ "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	_ "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
)

// Output formats of --output.
const (
	outputTable = "table"
	outputJSON  = "json"
)

// service names one evcrm gRPC service crmctl talks to.
type service string

const (
	svcLeads     service = "leads"
	svcPipeline  service = "pipeline"
	svcCampaign  service = "campaign"
	svcAnalytics service = "analytics"
)

// serviceDefaults are the default addresses (the launcher's ports) and env variables.
var serviceDefaults = []struct {
	svc  service
	addr string
}{
	{svcLeads, "127.0.0.1:9101"},
	{svcPipeline, "127.0.0.1:9102"},
	{svcCampaign, "127.0.0.1:9103"},
	{svcAnalytics, "127.0.0.1:9104"},
}

// app is one run of crmctl: the global flags and what the commands share.
type app struct {
	stdout, stderr io.Writer

	addrs    map[service]*string
	natsURL  string
	tenant   string
	user     string
	roles    string
	token    string
	backfill string
	output   string
	timeout  time.Duration
	progress bool

	conns map[service]*grpc.ClientConn
	// getenv reads the EVCRM_* defaults of the flags (os.Getenv; none for the docs).
	getenv func(string) string
}

// Execute runs crmctl with args (without the program name), writing results to stdout and
// messages, errors and progress bars to stderr. It returns the process exit code: 0 on success,
// 1 on any failure (the error already printed).
func Execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr, addrs: map[service]*string{}, conns: map[service]*grpc.ClientConn{}, getenv: os.Getenv}
	defer a.close()
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		var exit *exitError
		if !errors.As(err, &exit) {
			fmt.Fprintln(stderr, formatError(err))
		}
		return 1
	}
	return 0
}

// exitError is a failure whose explanation has already been printed (an import with failed
// rows): Execute only turns it into the exit code.
type exitError struct{ msg string }

func (e *exitError) Error() string { return e.msg }

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "crmctl",
		Short: "Command-line client of the evcrm services",
		Long: `crmctl talks to the evcrm services over gRPC (leads, pipeline, campaign, analytics) and
to NATS JetStream (events tail). Addresses and credentials come from flags or EVCRM_*
environment variables; the defaults match 'make run'. Services running JWT authentication
need a bearer token: --token, EVCRM_TOKEN, or 'crmctl login' (the launcher prints tokens).

Every command that sends a request takes --from-json with the request as protojson (a
string, @file, or - for stdin); flags given beside it override its fields. Results print as a
table (--output table) or as the response in protojson (--output json). A failed call prints
the server's error with one line per invalid field and exits with status 1.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	for _, d := range serviceDefaults {
		env := "EVCRM_" + strings.ToUpper(string(d.svc)) + "_ADDR"
		a.addrs[d.svc] = pf.String(string(d.svc)+"-addr", a.envOr(env, d.addr),
			fmt.Sprintf("gRPC address of the %s service (env %s)", d.svc, env))
	}
	pf.StringVar(&a.natsURL, "nats-url", a.envOr("EVCRM_NATS_URL", "nats://127.0.0.1:4222"), "NATS URL(s), comma-separated, for events tail (env EVCRM_NATS_URL)")
	pf.StringVar(&a.tenant, "tenant", a.envOr("EVCRM_TENANT", "acme"), "tenant the calls act in (env EVCRM_TENANT)")
	pf.StringVar(&a.user, "user", a.envOr("EVCRM_USER", "demo"), "user id the calls act as (env EVCRM_USER)")
	pf.StringVar(&a.roles, "roles", a.envOr("EVCRM_ROLES", ""), "comma-separated roles of the user (env EVCRM_ROLES)")
	pf.StringVar(&a.token, "token", a.envOr("EVCRM_TOKEN", ""), "bearer token (JWT) sent as 'authorization: Bearer <token>'; default: the one 'crmctl login' stored; --tenant and --user default to its claims (env EVCRM_TOKEN)")
	pf.StringVar(&a.backfill, "backfill-time", a.envOr("EVCRM_BACKFILL_TIME", ""), "serve writes as of this past RFC 3339 time (x-evcrm-backfill-time; the service must run with -allow-backfill) (env EVCRM_BACKFILL_TIME)")
	pf.StringVarP(&a.output, "output", "o", a.envOr("EVCRM_OUTPUT", outputTable), "output format: table or json (env EVCRM_OUTPUT)")
	pf.DurationVar(&a.timeout, "timeout", 30*time.Second, "deadline of each unary call")
	pf.BoolVar(&a.progress, "progress", true, "show progress bars (only ever on a terminal)")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		a.resolveIdentity(cmd)
		if a.output != outputTable && a.output != outputJSON {
			return fmt.Errorf("--output must be table or json, not %q", a.output)
		}
		if a.backfill != "" {
			if _, err := time.Parse(time.RFC3339Nano, a.backfill); err != nil {
				return fmt.Errorf("--backfill-time: %q is not an RFC 3339 time", a.backfill)
			}
		}
		return nil
	}
	root.AddCommand(
		a.leadsCommand(),
		a.accountsCommand(),
		a.contactsCommand(),
		a.opportunitiesCommand(),
		a.pipelinesCommand(),
		a.campaignsCommand(),
		a.segmentsCommand(),
		a.rulesCommand(),
		a.analyticsCommand(),
		a.importCommand(),
		a.exportCommand(),
		a.eventsCommand(),
		a.auditCommand(),
		a.rebuildCommand(),
		a.loginCommand(),
		a.logoutCommand(),
		a.genDocsCommand(),
	)
	return root
}

// group is a command that only holds subcommands.
func group(use, short string, aliases []string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Aliases: aliases, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	c.AddCommand(subs...)
	return c
}

func (a *app) envOr(key, def string) string {
	if v := a.getenv(key); v != "" {
		return v
	}
	return def
}
