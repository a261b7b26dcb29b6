// Command natsauth writes the NATS users of libs/natsperm's permission table: the
// authorization block of deploy/nats/auth.conf, or the generated block of the Helm values.
//
//	go run ./libs/natsperm/cmd/natsauth -integration acme,globex > deploy/nats/auth.conf
//	go run ./libs/natsperm/cmd/natsauth -helm deploy/k8s/nats/values.yaml -integration acme
//
// Integration users take their passwords from EVCRM_NATS_INTEGRATION_<TENANT>_PASSWORD.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/evcrm/evcrm/libs/natsperm"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "natsauth:", err)
		os.Exit(1)
	}
}

func run() error {
	integration := flag.String("integration", "", "comma-separated tenant ids that get a read-only integration user")
	helm := flag.String("helm", "", "rewrite the generated block of this Helm values file instead of printing auth.conf")
	flag.Parse()
	var tenants []string
	if *integration != "" {
		tenants = strings.Split(*integration, ",")
	}
	if *helm == "" {
		conf, err := natsperm.DeployConf(tenants...)
		if err != nil {
			return err
		}
		_, err = os.Stdout.WriteString(conf)
		return err
	}
	b, err := os.ReadFile(*helm)
	if err != nil {
		return err
	}
	out, err := natsperm.ReplaceHelmUsers(string(b), tenants...)
	if err != nil {
		return err
	}
	return os.WriteFile(*helm, []byte(out), 0o644)
}
