// Package natsperm is the one place that says what each evcrm NATS user may publish and
// subscribe to: one user per service (leads, pipeline, campaign, analytics) and one read-only
// user per tenant for integrations. The table is rendered into deploy/nats/auth.conf and the
// Helm values of deploy/k8s/nats (a test fails when they drift; regenerate with `make
// nats-auth`), and into server.User values for an embedded server.
//
// The boundaries it draws:
//
//   - A service publishes events only on the subjects of the streams it owns
//     (crm.*.<aggregate type>.>), and is the only one that may update those streams.
//   - It reads (stream info, direct get, consumers, fetch, ack) only the streams it consumes.
//   - Nobody may delete or purge a stream: the event log is the system of record.
//   - KV buckets are reachable only by the services that use them.
//   - An integration user of tenant T uses one consumer per event stream, named
//     IntegrationConsumer(T), whose filter must lie inside crm.T.> (the filter is part of the
//     consumer-create subject, and the server checks that it matches the consumer's
//     configuration). It receives on its own subjects and inbox only, and can reach no other
//     consumer, so it can neither read through nor reconfigure the services' consumers.
//
//go:generate go test -run TestDeployConfigMatchesTable -update .
package natsperm
