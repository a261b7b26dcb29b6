package protomap_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/services/campaign/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/member"
)

func TestMemberCodecRoundTrip(t *testing.T) {
	t.Parallel()
	m := member.Member{ID: member.ID("c1", member.TypeContact, "p1"), Version: 0, CampaignID: "c1", Type: member.TypeContact,
		PersonID: "p1", AddedAt: at, AddedBy: "segment:s1", Channel: campaign.ChannelEmail}
	codec := protomap.MemberCodec{KeyPrefix: "resp:"}
	tests := []struct {
		name      string
		ev        member.Event
		causation string
	}{
		{"added", member.Added{Member: m, At: at}, ""},
		{"responded with key", member.Responded{CampaignID: "c1", Type: member.TypeContact, PersonID: "p1", Status: "clicked",
			Kind: campaign.KindClicked, Responded: true, FirstResponse: true, At: at, Metadata: map[string]string{"link": "x"},
			Channel: campaign.ChannelEmail, Key: "batch:7"}, "resp:batch:7"},
		{"responded without key", member.Responded{CampaignID: "c1", Type: member.TypeContact, PersonID: "p1", Status: "sent",
			Kind: campaign.KindSent, At: at, Channel: campaign.ChannelEmail}, "req-123"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := codec.Encode(tc.ev)
			require.NoError(t, err)
			got, err := codec.Decode(record(t, msg, tc.causation))
			require.NoError(t, err)
			assert.Equal(t, tc.ev, got)
		})
	}
	// The folded state restores the keys, so a resent response is a duplicate after a reload.
	s := member.Apply(member.Member{}, member.Added{Member: m, At: at})
	s = member.Apply(s, tests[1].ev)
	assert.True(t, s.Seen("batch:7"))
	assert.Equal(t, s.ID, protomap.MemberFromProto(protomap.MemberToProto(s)).ID)
}
