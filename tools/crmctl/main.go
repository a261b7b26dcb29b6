// Command crmctl is the command-line client of evcrm: leads, accounts, contacts,
// opportunities, campaigns, segments, rules, analytics, imports and exports over the services'
// gRPC APIs, `events tail` over the CRM streams, and the analytics rebuild. `crmctl --help`
// lists the commands; docs/crmctl.md documents them all.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/evcrm/evcrm/tools/crmctl/internal/cli"
)

func main() {
	// Ctrl-C cancels the running call or ends a tail cleanly; a second one kills at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
