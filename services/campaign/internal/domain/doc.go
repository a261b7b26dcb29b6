// Package domain holds the campaign service's pure Go domain packages: campaign (lifecycle,
// member status set, cost), member (membership and responses), segment (criteria grammar and
// evaluation), rule (automation triggers, conditions, actions). They import no protobuf, NATS
// or gRPC code.
package domain
