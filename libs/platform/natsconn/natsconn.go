// Package natsconn opens a service's NATS connection from its base config: named after the
// service, authenticated with the credentials file when one is configured, reconnecting forever
// (JetStream is the system of record; a service without it can only fail its calls until it is
// back), and logging every disconnect, reconnect and asynchronous error.
package natsconn

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/evcrm/evcrm/libs/platform/config"
	"github.com/evcrm/evcrm/libs/platform/logging"
)

// Connect opens the connection described by cfg (NATSURL, NATSCreds, Service). extra options
// are applied last and may override the defaults.
func Connect(cfg config.Base, logger *slog.Logger, extra ...nats.Option) (*nats.Conn, error) {
	if cfg.NATSURL == "" {
		return nil, errors.New("natsconn: no NATS URL configured (-nats-url / $EVCRM_NATS_URL)")
	}
	opts := []nats.Option{
		nats.Name(cfg.Service),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectJitter(100*time.Millisecond, time.Second),
		// Keep publishing through short outages: the event store retries until its timeout.
		nats.ReconnectBufSize(8 << 20),
		nats.RetryOnFailedConnect(false),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				logger.Warn("nats disconnected", logging.Err(err))
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			logger.Info("nats reconnected", slog.String("url", nc.ConnectedUrlRedacted()))
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			attrs := []any{logging.Err(err)}
			if sub != nil {
				attrs = append(attrs, slog.String("subject", sub.Subject))
			}
			logger.Error("nats async error", attrs...)
		}),
		nats.ClosedHandler(func(*nats.Conn) { logger.Info("nats connection closed") }),
	}
	if cfg.NATSCreds != "" {
		if _, err := os.Stat(cfg.NATSCreds); err != nil {
			return nil, fmt.Errorf("natsconn: credentials file (-nats-creds): %w", err)
		}
		opts = append(opts, nats.UserCredentials(cfg.NATSCreds))
	}
	if anyTLS(cfg.NATSURL) {
		// tls:// URLs: verify the server with -tls-ca and present the service's certificate
		// when the server asks for one (NATS's verify mode). Other URLs stay plaintext.
		tc, err := cfg.TLS().Client()
		if err != nil {
			return nil, fmt.Errorf("natsconn: %w", err)
		}
		if tc != nil {
			opts = append(opts, nats.Secure(tc))
		}
	}
	nc, err := nats.Connect(cfg.NATSURL, append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("natsconn: connect to %s: %w", redacted(cfg.NATSURL), err)
	}
	logger.Info("nats connected", slog.String("url", nc.ConnectedUrlRedacted()), slog.String("server", nc.ConnectedServerName()))
	return nc, nil
}

// redacted is a URL list with the passwords replaced: a URL may carry user:password (the
// development launcher gives each service one), and the error ends up in logs.
func redacted(urls string) string {
	parts := strings.Split(urls, ",")
	for i, raw := range parts {
		if u, err := url.Parse(strings.TrimSpace(raw)); err == nil {
			parts[i] = u.Redacted()
		} else {
			parts[i] = "(unparsable URL)"
		}
	}
	return strings.Join(parts, ",")
}

// anyTLS reports whether one of the comma-separated URLs asks for TLS (tls://).
func anyTLS(urls string) bool {
	for u := range strings.SplitSeq(urls, ",") {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(u)), "tls://") {
			return true
		}
	}
	return false
}
