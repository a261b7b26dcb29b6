package chwriter

import (
	"testing"

	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func TestMicros(t *testing.T) {
	t.Parallel()
	tests := []struct {
		units int64
		nanos int32
		want  int64
	}{
		{1000, 500_000_000, 1_000_500_000},
		{0, 499, 0},
		{0, 500, 1},
		{0, -500, -1},
		{-2, -250_000_500, -2_250_001},
	}
	for _, tt := range tests {
		if got := micros(&commonv1.Money{Units: tt.units, Nanos: tt.nanos}); got != tt.want {
			t.Errorf("micros(%d, %d) = %d, want %d", tt.units, tt.nanos, got, tt.want)
		}
	}
	if micros(nil) != 0 {
		t.Error("micros(nil) != 0")
	}
}

func TestEnumName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   protoreflect.Enum
		want string
	}{
		{leadsv1.LeadStatus_LEAD_STATUS_MARKETING_QUALIFIED, "marketing_qualified"},
		{leadsv1.LeadStatus_LEAD_STATUS_UNSPECIFIED, ""},
		{campaignv1.CampaignChannel_CAMPAIGN_CHANNEL_PAID_ADS, "paid_ads"},
		{campaignv1.ResponseKind_RESPONSE_KIND_CLICKED, "clicked"},
	}
	for _, tt := range tests {
		if got := enumName(tt.in); got != tt.want {
			t.Errorf("enumName(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
