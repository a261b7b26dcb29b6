// Package service builds the analytics application: the ClickHouse connection and schema
// (migrations applied at start), the projector that writes the streams' events into ClickHouse,
// and the query side. main and the end-to-end tests use it alike.
package service

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/evcrm/evcrm/libs/platform/lifecycle"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/services/analytics/internal/app"
)

// ClickHouseOptions say where the analytics tables live.
type ClickHouseOptions struct {
	// Addr is the native protocol address(es), comma-separated.
	Addr     string
	Database string
	User     string
	Password string
}

// Options are what the service needs beyond a NATS connection.
type Options struct {
	ClickHouse ClickHouseOptions
	// BatchSize and BatchWait bound an insert batch (events, time).
	BatchSize int
	BatchWait time.Duration
	// Replicas of the streams the service creates when missing.
	Replicas int
	Logger   *slog.Logger
	// Metrics, when set, receives the projector's metrics.
	Metrics *projection.Metrics
}

// Service is the built application and its background workers.
type Service struct {
	App     *app.App
	workers []lifecycle.Worker
	closers []func() error
}

// New builds the service on nc.
func New(ctx context.Context, nc *nats.Conn, o Options) (*Service, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Service{App: app.New(app.Deps{})}
	return s, nil
}

// Workers are the service's background loops (the projector), to run beside the gRPC server.
func (s *Service) Workers() []lifecycle.Worker { return s.workers }

// Close releases the ClickHouse connection. Stop the workers first.
func (s *Service) Close() error {
	var err error
	for i := len(s.closers) - 1; i >= 0; i-- {
		err = errors.Join(err, s.closers[i]())
	}
	return err
}
