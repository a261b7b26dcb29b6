package reactions_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/evcrm/evcrm/services/leads/internal/domain/activity"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
	"github.com/evcrm/evcrm/services/leads/internal/ports/reactions"
)

func TestSignalFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind activity.Kind
		dir  activity.Direction
		want scoring.Signal
		ok   bool
	}{
		{activity.KindCall, activity.DirectionOutbound, scoring.SignalCall, true},
		{activity.KindCall, activity.DirectionInbound, scoring.SignalCall, true},
		{activity.KindMeeting, 0, scoring.SignalMeeting, true},
		{activity.KindNote, 0, scoring.SignalNote, true},
		{activity.KindEmail, activity.DirectionInbound, scoring.SignalEmailReplied, true},
		{activity.KindEmail, activity.DirectionUnspecified, scoring.SignalEmailReplied, true},
		{activity.KindEmail, activity.DirectionOutbound, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.kind.String()+"/"+tc.dir.String(), func(t *testing.T) {
			got, ok := reactions.SignalFor(activity.Activity{Kind: tc.kind, Direction: tc.dir})
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
	assert.Equal(t, "activity-engagement:evt-1:lead-1", reactions.IdempotencyKey("evt-1", "lead-1"))
}
