package grpcclient_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"google.golang.org/grpc/metadata"

	"github.com/evcrm/evcrm/libs/platform/grpcclient"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/reqctx"
)

// A backfilled request stays backfilled in the calls it makes to other services.
func TestOutgoingForwardsBackfill(t *testing.T) {
	t.Parallel()
	past := time.Date(2026, 2, 3, 4, 5, 6, 700, time.UTC)
	md, _ := metadata.FromOutgoingContext(grpcclient.Outgoing(reqctx.WithBackfill(context.Background(), past)))
	assert.Equal(t, []string{"2026-02-03T04:05:06.0000007Z"}, md.Get(grpcserver.MetadataBackfillTime))

	md, _ = metadata.FromOutgoingContext(grpcclient.Outgoing(context.Background()))
	assert.Empty(t, md.Get(grpcserver.MetadataBackfillTime))
}
