package main

import (
	"context"
	"io"
	"os/signal"
	"syscall"
	"time"

	"github.com/evcrm/evcrm/tools/crmdev/demo"
)

// seedFunc loads the demo data into a running system and summarises what it wrote. It is a
// parameter of seedOnce so the marker logic can be tested without a year of data.
type seedFunc func(ctx context.Context, s *settings, conns serviceConns, log io.Writer) (string, error)

// demoConfig is the generator's configuration for the launcher's settings.
func demoConfig(s *settings, conns serviceConns, log io.Writer) (demo.Config, error) {
	toks, err := newUserTokens(s)
	if err != nil {
		return demo.Config{}, err
	}
	return demo.Config{
		Seed: s.SeedValue, Tenant: s.Tenant, LeadCount: s.DemoLeads,
		LeadsConn: conns["leads"], PipelineConn: conns["pipeline"], CampaignConn: conns["campaign"], AnalyticsConn: conns["analytics"],
		Log: log, Token: toks.token,
	}, nil
}

// seedDemo is the year of demo data, backfilled through the services' public APIs.
func seedDemo(ctx context.Context, s *settings, conns serviceConns, log io.Writer) (string, error) {
	cfg, err := demoConfig(s, conns, log)
	if err != nil {
		return "", err
	}
	sum, err := demo.Seed(ctx, cfg)
	return sum.String(), err
}

// loadDemo drives a running system in real time for `crmdev demo`.
func loadDemo(ctx context.Context, s *settings, conns serviceConns, rate float64, d time.Duration, log io.Writer) (string, error) {
	cfg, err := demoConfig(s, conns, log)
	if err != nil {
		return "", err
	}
	sum, err := demo.Load(ctx, cfg, rate, d)
	return sum.String(), err
}

func signalContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
}
