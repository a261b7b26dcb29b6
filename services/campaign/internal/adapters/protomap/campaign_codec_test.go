package protomap_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/evcrm/evcrm/libs/eventstore"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/libs/money/moneytest"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
)

var at = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// record encodes msg as the event store would, with causation.
func record(t *testing.T, msg proto.Message, causation string) eventstore.Recorded {
	t.Helper()
	b, err := proto.Marshal(msg)
	require.NoError(t, err)
	return eventstore.Recorded{Envelope: &eventsv1.Envelope{EventType: string(msg.ProtoReflect().Descriptor().FullName()),
		Payload: b, OccurredAt: timestamppb.New(at), CausationId: causation}}
}

func sample() campaign.Campaign {
	return campaign.Campaign{ID: "c1", Version: 3, Status: campaign.StatusActive,
		Details: campaign.Details{Name: "Spring", Description: "d", Channel: campaign.ChannelWebinar, StartDate: "2025-03-01",
			EndDate: "2025-03-31", Budget: money.MustParse("EUR", "1000.25"),
			ExpectedRevenue: money.MustParse("EUR", "-0.5"), ExpectedResponsePercent: "12.5",
			ParentCampaignID: "p1", OwnerID: "u1", TargetSegmentID: "s1", MemberStatuses: campaign.DefaultStatuses()},
		ActualCost: money.MustParse("EUR", "10"), CreatedAt: at, UpdatedAt: at.Add(time.Hour)}
}

func TestCampaignCodecRoundTrip(t *testing.T) {
	t.Parallel()
	c := sample()
	after := c
	after.Name = "Renamed"
	events := []campaign.Event{
		campaign.CampaignCreated{Campaign: c, At: at},
		campaign.CampaignUpdated{Changed: []string{"name"}, Before: c, After: after, At: at},
		campaign.CampaignStatusChanged{From: campaign.StatusActive, To: campaign.StatusPaused, Note: "n", At: at},
		campaign.CampaignCostRecorded{Entry: campaign.CostEntry{Amount: money.MustParse("EUR", "0.000000001"), Date: "2025-03-02",
			Description: "ads"}, ActualCost: money.MustParse("EUR", "10.000000001"), Channel: campaign.ChannelWebinar, At: at},
	}
	codec := protomap.CampaignCodec{}
	for _, ev := range events {
		t.Run(ev.EventType(), func(t *testing.T) {
			msg, err := codec.Encode(ev)
			require.NoError(t, err)
			assert.Equal(t, ev.EventType(), string(msg.ProtoReflect().Descriptor().Name()))
			got, err := codec.Decode(record(t, msg, ""))
			require.NoError(t, err)
			assert.Equal(t, moneytest.Canonical(ev), moneytest.Canonical(got), "amounts compare by value, not by exponent")
		})
	}
}

func TestDetailsFromProtoReportsUndecodable(t *testing.T) {
	t.Parallel()
	p := protomap.DetailsToProto(sample().Details)
	p.Channel = 99
	p.Budget.Nanos = -5 // units positive
	p.MemberStatuses[0].Kind = 42
	_, err := protomap.DetailsFromProto(p, "campaign")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "campaign.channel")
	assert.Contains(t, err.Error(), "campaign.budget")
	assert.Contains(t, err.Error(), "campaign.member_statuses[0].kind")
}
