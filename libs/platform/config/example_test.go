package config_test

import (
	"fmt"
	"time"

	"github.com/evcrm/evcrm/libs/platform/config"
)

// A service embeds Base, adds its own settings with tags, presets its own defaults and loads.
func ExampleLoader_Load() {
	type Config struct {
		config.Base
		ClickHouseAddr string        `flag:"clickhouse-addr" default:"127.0.0.1:9000" usage:"ClickHouse native protocol address"`
		BatchWait      time.Duration `flag:"batch-wait" default:"1s" usage:"longest time a batch waits"`
	}
	cfg := Config{Base: config.Base{Service: "analytics", GRPCAddr: ":9104", MetricsAddr: ":9204"}}

	env := map[string]string{"EVCRM_CLICKHOUSE_ADDR": "ch-1:9000", "EVCRM_DEV_AUTH": "true"}
	err := config.Loader{
		Args:      []string{"-batch-wait", "250ms"},
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	}.Load(&cfg)
	fmt.Println(err, cfg.GRPCAddr, cfg.ClickHouseAddr, cfg.BatchWait, cfg.DevAuth)

	err = config.Loader{Args: []string{"-grpc-addr", "nowhere"}, LookupEnv: func(string) (string, bool) { return "", false }}.Load(&cfg)
	fmt.Println(err)
	// Output:
	// <nil> :9104 ch-1:9000 250ms true
	// config: invalid -grpc-addr / $EVCRM_GRPC_ADDR: "nowhere" is not host:port: address nowhere: missing port in address
}
