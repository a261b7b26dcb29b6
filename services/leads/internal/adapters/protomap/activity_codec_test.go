package protomap_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/leads/internal/domain/activity"
)

func fullActivity() activity.Activity {
	return activity.Activity{ID: "act-1", Version: 1, Kind: activity.KindEmail,
		Records: []activity.RecordRef{{Type: activity.RecordContact, ID: "c-1"}, {Type: activity.RecordAccount, ID: "a-1"}},
		Subject: "Re: pricing", Body: "Sounds good.\nAda", Direction: activity.DirectionInbound, Outcome: "replied",
		Duration: 90 * time.Second, Participants: []string{"ada@example.com", "Bob"}, OccurredAt: at(time.Hour),
		LoggedBy: "rep-1", CreatedAt: at(2 * time.Hour)}
}

func TestActivityCodecRoundTrip(t *testing.T) {
	t.Parallel()
	codec := protomap.ActivityCodec{}
	e := activity.ActivityLogged{Activity: fullActivity(), At: at(2 * time.Hour)}
	msg, err := codec.Encode(e)
	require.NoError(t, err)
	assert.Empty(t, unsetFields(msg.(*leadsv1.ActivityLogged).GetActivity()), "every Activity field is mapped")
	back, err := codec.Decode(record(t, msg, e.At))
	require.NoError(t, err)
	assert.Equal(t, e, back)
	assert.Equal(t, e.At, codec.OccurredAt(e))

	_, err = codec.Encode(nil)
	assert.Error(t, err)
	_, err = codec.Decode(record(t, &leadsv1.TaskCreated{}, e.At))
	assert.Error(t, err, "a task event is not an activity event")
}

func TestNewActivityFromProto(t *testing.T) {
	t.Parallel()
	p := protomap.ActivityToProto(fullActivity())
	cmd, err := protomap.NewActivityFromProto("new-id", "rep-9", p)
	require.NoError(t, err)
	assert.Equal(t, "new-id", cmd.ID)
	assert.Equal(t, "rep-9", cmd.LoggedBy, "logged_by comes from the caller, not the request")
	assert.Equal(t, fullActivity().Records, cmd.Records)
	assert.Equal(t, 90*time.Second, cmd.Duration)

	bad := &leadsv1.Activity{Kind: 42, Direction: 9, Records: []*leadsv1.RecordRef{nil, {Type: 77, Id: "x"}},
		Duration: &durationpb.Duration{Seconds: 1, Nanos: -1}, OccurredAt: &timestamppb.Timestamp{Seconds: -1 << 62}}
	_, err = protomap.NewActivityFromProto("id", "rep", bad)
	assert.Equal(t, []string{"kind", "direction", "records[0]", "records[1].type", "duration", "occurred_at"}, violations(t, err))
	_, err = protomap.NewActivityFromProto("id", "rep", nil)
	assert.Len(t, violations(t, err), 1)
}
