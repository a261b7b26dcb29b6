package protomap_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
)

func TestEnumFromProtoRangeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"status above", func() error { _, err := protomap.StatusFromProto(8, "status"); return err }, "status"},
		{"status negative", func() error { _, err := protomap.StatusFromProto(-1, "to"); return err }, "to"},
		{"source", func() error { _, err := protomap.SourceFromProto(10, "lead.source"); return err }, "lead.source"},
		{"qualification path", func() error {
			_, err := protomap.QualificationPathFromProto(4, "qualification_path")
			return err
		}, "qualification_path"},
		{"disqualify reason", func() error { _, err := protomap.DisqualifyReasonFromProto(7, "reason"); return err }, "reason"},
		{"signal above", func() error { _, err := protomap.SignalFromProto(13, "signal"); return err }, "signal"},
		{"signal negative", func() error { _, err := protomap.SignalFromProto(-3, "weights[0].signal"); return err }, "weights[0].signal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, []string{tt.want}, violations(t, tt.run()))
		})
	}
}

// The domain enums are numbered like the proto enums: every declared proto value maps to the
// domain value of the same number, and the highest is still valid in the domain.
func TestEnumsMapEveryDeclaredValue(t *testing.T) {
	t.Parallel()
	t.Run("status", func(t *testing.T) {
		t.Parallel()
		for n := range leadsv1.LeadStatus_name {
			s, err := protomap.StatusFromProto(leadsv1.LeadStatus(n), "status")
			require.NoError(t, err)
			assert.Equal(t, lead.Status(n), s)
			assert.Equal(t, leadsv1.LeadStatus(n), protomap.StatusToProto(s))
			assert.Equal(t, n != 0, s.Valid())
		}
	})
	t.Run("source", func(t *testing.T) {
		t.Parallel()
		for n := range leadsv1.LeadSource_name {
			s, err := protomap.SourceFromProto(leadsv1.LeadSource(n), "source")
			require.NoError(t, err)
			assert.Equal(t, n != 0, s.Valid())
		}
	})
	t.Run("signal", func(t *testing.T) {
		t.Parallel()
		for n := range leadsv1.EngagementSignal_name {
			s, err := protomap.SignalFromProto(leadsv1.EngagementSignal(n), "signal")
			require.NoError(t, err)
			assert.Equal(t, scoring.Signal(n), s)
			assert.Equal(t, n != 0, s.Valid())
		}
	})
	t.Run("disqualify reason", func(t *testing.T) {
		t.Parallel()
		for n := range leadsv1.DisqualifyReason_name {
			r, err := protomap.DisqualifyReasonFromProto(leadsv1.DisqualifyReason(n), "reason")
			require.NoError(t, err)
			assert.Equal(t, n != 0, r.Valid())
		}
	})
	t.Run("qualification path", func(t *testing.T) {
		t.Parallel()
		for n := range leadsv1.QualificationPath_name {
			p, err := protomap.QualificationPathFromProto(leadsv1.QualificationPath(n), "path")
			require.NoError(t, err)
			assert.Equal(t, lead.QualificationPath(n), p)
		}
	})
}
