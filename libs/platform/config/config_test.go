package config_test

import (
	"errors"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/platform/config"
)

type svcConfig struct {
	config.Base
	ClickHouseAddr string        `flag:"clickhouse-addr" default:"127.0.0.1:9000" usage:"ClickHouse native address"`
	BatchSize      int           `flag:"batch-size" default:"500" usage:"rows per insert"`
	BatchWait      time.Duration `flag:"batch-wait" default:"1s" usage:"longest wait before a batch is inserted"`
	Streams        []string      `flag:"streams" default:"CRM_LEADS,CRM_PIPELINE" usage:"streams to project"`
	Secret         string        `flag:"secret" env:"-" usage:"never read from the environment"`
	Ratio          float64       `flag:"ratio" default:"0.5" usage:"a ratio"`
}

func (c svcConfig) Validate() error {
	errs := []error{c.Base.Validate()}
	if c.BatchSize < 1 {
		errs = append(errs, config.Invalid("batch-size", "must be at least 1, got %d", c.BatchSize))
	}
	return errors.Join(errs...)
}

func newConfig() svcConfig {
	return svcConfig{Base: config.Base{Service: "analytics", GRPCAddr: ":9104"}}
}

func envFrom(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	cfg := newConfig()
	require.NoError(t, config.Loader{LookupEnv: envFrom(nil)}.Load(&cfg))
	assert.Equal(t, "analytics", cfg.Service)
	assert.Equal(t, ":9104", cfg.GRPCAddr, "a preset value wins over the tag default")
	assert.Equal(t, ":9464", cfg.MetricsAddr)
	assert.Equal(t, "nats://127.0.0.1:4222", cfg.NATSURL)
	assert.Equal(t, slog.LevelInfo, cfg.LogLevel)
	assert.Empty(t, cfg.OTLPEndpoint)
	assert.False(t, cfg.DevAuth)
	assert.Empty(t, cfg.HTTPAddr, "the REST gateway is off unless the service presets or the operator sets an address")
	assert.False(t, cfg.AllowBackfill, "backfill is an explicit opt-in")
	assert.Equal(t, 15*time.Second, cfg.ShutdownTimeout)
	assert.Equal(t, "127.0.0.1:9000", cfg.ClickHouseAddr)
	assert.Equal(t, 500, cfg.BatchSize)
	assert.Equal(t, time.Second, cfg.BatchWait)
	assert.Equal(t, []string{"CRM_LEADS", "CRM_PIPELINE"}, cfg.Streams)
	assert.InDelta(t, 0.5, cfg.Ratio, 1e-9)
}

func TestLoadPrecedence(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, c svcConfig)
	}{
		{name: "env overrides default",
			env: map[string]string{"EVCRM_NATS_URL": "nats://a:4222, nats://b:4222", "EVCRM_LOG_LEVEL": "debug", "EVCRM_DEV_AUTH": "true", "EVCRM_BATCH_WAIT": "250ms"},
			check: func(t *testing.T, c svcConfig) {
				assert.Equal(t, "nats://a:4222, nats://b:4222", c.NATSURL)
				assert.Equal(t, slog.LevelDebug, c.LogLevel)
				assert.True(t, c.DevAuth)
				assert.Equal(t, 250*time.Millisecond, c.BatchWait)
			}},
		{name: "flag overrides env",
			args: []string{"-grpc-addr", "127.0.0.1:7000", "--log-level=warn", "-dev-auth", "-streams", "CRM_CAMPAIGN"},
			env:  map[string]string{"EVCRM_GRPC_ADDR": ":1", "EVCRM_LOG_LEVEL": "error", "EVCRM_DEV_AUTH": "false"},
			check: func(t *testing.T, c svcConfig) {
				assert.Equal(t, "127.0.0.1:7000", c.GRPCAddr)
				assert.Equal(t, slog.LevelWarn, c.LogLevel)
				assert.True(t, c.DevAuth)
				assert.Equal(t, []string{"CRM_CAMPAIGN"}, c.Streams)
			}},
		{name: "env:- is not read from the environment",
			env: map[string]string{"EVCRM_SECRET": "leaked"},
			check: func(t *testing.T, c svcConfig) {
				assert.Empty(t, c.Secret)
			}},
		{name: "otlp endpoint enables tracing",
			env: map[string]string{"EVCRM_OTLP_ENDPOINT": "http://otel-collector:4317"},
			check: func(t *testing.T, c svcConfig) {
				assert.Equal(t, "http://otel-collector:4317", c.OTLPEndpoint)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := newConfig()
			require.NoError(t, config.Loader{Args: tc.args, LookupEnv: envFrom(tc.env)}.Load(&cfg))
			tc.check(t, cfg)
		})
	}
}

func TestLoadErrorsNameFlagAndEnv(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nope.creds")
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want []string // substrings of the error
		flag string   // the flag of the first FieldError
	}{
		{name: "bad duration from flag", args: []string{"-shutdown-timeout", "soon"}, flag: "shutdown-timeout",
			want: []string{`"soon"`, "-shutdown-timeout", "$EVCRM_SHUTDOWN_TIMEOUT"}},
		{name: "bad int from env", env: map[string]string{"EVCRM_BATCH_SIZE": "many"}, flag: "batch-size",
			want: []string{`"many"`, "-batch-size", "$EVCRM_BATCH_SIZE", "not an integer"}},
		{name: "bad log level", env: map[string]string{"EVCRM_LOG_LEVEL": "loud"}, flag: "log-level",
			want: []string{"-log-level", "$EVCRM_LOG_LEVEL"}},
		{name: "bad bool", env: map[string]string{"EVCRM_DEV_AUTH": "yes please"}, flag: "dev-auth",
			want: []string{"-dev-auth", "$EVCRM_DEV_AUTH"}},
		{name: "service Validate", args: []string{"-batch-size", "0"}, flag: "batch-size",
			want: []string{"-batch-size / $EVCRM_BATCH_SIZE", "at least 1"}},
		{name: "grpc addr", env: map[string]string{"EVCRM_GRPC_ADDR": "localhost"}, flag: "grpc-addr",
			want: []string{"-grpc-addr / $EVCRM_GRPC_ADDR", "host:port"}},
		{name: "metrics port out of range", args: []string{"-metrics-addr", ":70000"}, flag: "metrics-addr",
			want: []string{"-metrics-addr / $EVCRM_METRICS_ADDR"}},
		{name: "http addr", env: map[string]string{"EVCRM_HTTP_ADDR": "9301"}, flag: "http-addr",
			want: []string{"-http-addr / $EVCRM_HTTP_ADDR", "host:port"}},
		{name: "nats scheme", args: []string{"-nats-url", "http://x:4222"}, flag: "nats-url",
			want: []string{"-nats-url / $EVCRM_NATS_URL", "scheme"}},
		{name: "nats empty", args: []string{"-nats-url", " , "}, flag: "nats-url",
			want: []string{"at least one URL"}},
		{name: "missing creds file", args: []string{"-nats-creds", missing}, flag: "nats-creds",
			want: []string{"-nats-creds / $EVCRM_NATS_CREDS"}},
		{name: "otlp without scheme", args: []string{"-otlp-endpoint", "collector:4317"}, flag: "otlp-endpoint",
			want: []string{"-otlp-endpoint / $EVCRM_OTLP_ENDPOINT", "http://"}},
		{name: "service name", args: []string{"-service", "Leads Service"}, flag: "service",
			want: []string{"-service / $EVCRM_SERVICE"}},
		{name: "non-positive shutdown timeout", args: []string{"-shutdown-timeout", "0s"}, flag: "shutdown-timeout",
			want: []string{"must be positive"}},
		{name: "request limit below import chunks", args: []string{"-max-request-bytes", "1048576"}, flag: "max-request-bytes",
			want: []string{"-max-request-bytes / $EVCRM_MAX_REQUEST_BYTES", "2 MiB"}},
		{name: "negative rate limit", env: map[string]string{"EVCRM_RATE_LIMIT": "-1"}, flag: "rate-limit",
			want: []string{"-rate-limit / $EVCRM_RATE_LIMIT"}},
		{name: "NaN rate limit", args: []string{"-rate-limit", "NaN"}, flag: "rate-limit", want: []string{"finite"}},
		{name: "negative burst", args: []string{"-rate-burst", "-5"}, flag: "rate-burst", want: []string{">= 0"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := newConfig()
			err := config.Loader{Args: tc.args, LookupEnv: envFrom(tc.env)}.Load(&cfg)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			var fe *config.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.flag, fe.Flag)
			assert.Equal(t, config.EnvName(tc.flag), fe.Env)
		})
	}
}

func TestValidateReportsAllProblems(t *testing.T) {
	t.Parallel()
	cfg := newConfig()
	err := config.Loader{Args: []string{"-grpc-addr", "x", "-batch-size", "-1", "-otlp-endpoint", "y"}, LookupEnv: envFrom(nil)}.Load(&cfg)
	require.Error(t, err)
	for _, f := range []string{"-grpc-addr", "-batch-size", "-otlp-endpoint"} {
		assert.Contains(t, err.Error(), f)
	}
}

func TestLoadMisuse(t *testing.T) {
	t.Parallel()
	var notPtr svcConfig
	assert.Error(t, config.Loader{}.Load(notPtr))

	type dup struct {
		A string `flag:"a"`
		B string `flag:"a"`
	}
	assert.ErrorContains(t, config.Loader{LookupEnv: envFrom(nil)}.Load(&dup{}), "declared twice")

	type unsupported struct {
		M map[string]string `flag:"m"`
	}
	assert.ErrorContains(t, config.Loader{LookupEnv: envFrom(nil)}.Load(&unsupported{}), "unsupported type")

	type badDefault struct {
		N int `flag:"n" default:"ten"`
	}
	assert.ErrorContains(t, config.Loader{LookupEnv: envFrom(nil)}.Load(&badDefault{}), "bad default")

	cfg := newConfig()
	assert.ErrorContains(t, config.Loader{Args: []string{"-no-such-flag"}, LookupEnv: envFrom(nil)}.Load(&cfg), "no-such-flag")
	assert.ErrorContains(t, config.Loader{Args: []string{"stray"}, LookupEnv: envFrom(nil)}.Load(&cfg), "unexpected arguments")
}

func TestHelp(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	cfg := newConfig()
	err := config.Loader{Name: "analytics", Args: []string{"-h"}, LookupEnv: envFrom(nil), Output: &out}.Load(&cfg)
	require.ErrorIs(t, err, flag.ErrHelp)
	help := out.String()
	assert.Contains(t, help, "Usage of analytics")
	assert.Contains(t, help, "-grpc-addr")
	assert.Contains(t, help, "[$EVCRM_GRPC_ADDR]")
	assert.Contains(t, help, `(default ":9104")`)
	assert.Contains(t, help, "-dev-auth")
	assert.NotContains(t, help, "$EVCRM_SECRET")
}

func TestEnvName(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "EVCRM_GRPC_ADDR", config.EnvName("grpc-addr"))
	assert.Equal(t, "EVCRM_CLICKHOUSE_ADDR", config.EnvName("clickhouse.addr"))
}

func TestNATSCredsFileAccepted(t *testing.T) {
	t.Parallel()
	creds := filepath.Join(t.TempDir(), "svc.creds")
	require.NoError(t, os.WriteFile(creds, []byte("x"), 0o600))
	cfg := newConfig()
	require.NoError(t, config.Loader{Args: []string{"-nats-creds", creds}, LookupEnv: envFrom(nil)}.Load(&cfg))
	assert.Equal(t, creds, cfg.NATSCreds)
}

type extraConfig struct {
	PipelineAddr string `flag:"pipeline-addr" default:"localhost:9102" usage:"pipeline service"`
}

func (c extraConfig) Validate() error {
	if c.PipelineAddr == "bad" {
		return config.Invalid("pipeline-addr", "must be host:port")
	}
	return nil
}

func TestLoadMoreDestinationsShareTheFlagSet(t *testing.T) {
	t.Parallel()
	cfg, extra := newConfig(), extraConfig{}
	require.NoError(t, config.Loader{Args: []string{"-batch-size", "7"},
		LookupEnv: envFrom(map[string]string{"EVCRM_PIPELINE_ADDR": "pipe:1"})}.Load(&cfg, &extra))
	assert.Equal(t, 7, cfg.BatchSize)
	assert.Equal(t, "pipe:1", extra.PipelineAddr, "the extra struct's env fallback")

	err := config.Loader{Args: []string{"-pipeline-addr", "bad", "-batch-size", "0"}, LookupEnv: envFrom(nil)}.Load(&cfg, &extra)
	var fe *config.FieldError
	require.ErrorAs(t, err, &fe)
	assert.ErrorContains(t, err, "pipeline-addr")
	assert.ErrorContains(t, err, "batch-size", "both structs are validated")

	dup := struct {
		BatchSize int `flag:"batch-size"`
	}{}
	assert.ErrorContains(t, config.Loader{LookupEnv: envFrom(nil)}.Load(&cfg, &dup), "declared twice")
}
