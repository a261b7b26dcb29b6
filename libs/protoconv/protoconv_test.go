package protoconv_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/evcrm/evcrm/libs/protoconv"
)

func TestZeroIsUnsetAndValuesRoundTrip(t *testing.T) {
	t.Parallel()
	assert.Nil(t, protoconv.Timestamp(time.Time{}))
	assert.True(t, protoconv.Time(nil).IsZero())
	at := time.Date(2026, 11, 22, 10, 0, 0, 123, time.FixedZone("x", 3600))
	assert.True(t, at.Equal(protoconv.Time(protoconv.Timestamp(at))))
	assert.Equal(t, time.UTC, protoconv.Time(protoconv.Timestamp(at)).Location())

	assert.Nil(t, protoconv.Duration(0))
	assert.Zero(t, protoconv.FromDuration(nil))
	assert.Equal(t, 90*time.Minute, protoconv.FromDuration(protoconv.Duration(90*time.Minute)))
}
