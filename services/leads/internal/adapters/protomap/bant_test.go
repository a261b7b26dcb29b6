package protomap_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

func TestBantFromProto(t *testing.T) {
	t.Parallel()
	current := lead.Bant{Budget: lead.Money{Currency: "USD", Units: 10}, Need: "old need", NeedConfirmed: true}
	tests := []struct {
		name string
		in   *leadsv1.Bant
		mask []string
		want lead.Bant
	}{
		{"empty mask replaces all", protomap.BantToProto(fullBant()), nil, fullBant()},
		{"nil record with empty mask clears", nil, nil, lead.Bant{}},
		{"mask takes the named parts", protomap.BantToProto(fullBant()), []string{"authority", "timeline", "budget_confirmed"},
			lead.Bant{Budget: current.Budget, BudgetConfirmed: true, Authority: "CTO signs",
				Need: "old need", NeedConfirmed: true, Timeline: at(90 * 24 * time.Hour)}},
		{"a named part absent from the record is cleared", &leadsv1.Bant{}, []string{"need", "budget"},
			lead.Bant{NeedConfirmed: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mask *fieldmaskpb.FieldMask
			if tt.mask != nil {
				mask = &fieldmaskpb.FieldMask{Paths: tt.mask}
			}
			got, err := protomap.BantFromProto(tt.in, mask, current)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestBantFromProtoViolations(t *testing.T) {
	t.Parallel()
	bad := &leadsv1.Bant{Budget: &commonv1.Money{CurrencyCode: "USD", Units: 1, Nanos: -3}}
	tests := []struct {
		name string
		mask []string
		want []string
	}{
		{"bad budget, whole record", nil, []string{"bant.budget"}},
		{"bad budget named", []string{"budget"}, []string{"bant.budget"}},
		{"bad budget not named is ignored, unknown path is not", []string{"need", "budget.units"},
			[]string{"update_mask.paths[1]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := protomap.BantFromProto(bad, &fieldmaskpb.FieldMask{Paths: tt.mask}, lead.Bant{})
			assert.Equal(t, tt.want, violations(t, err))
		})
	}
}
