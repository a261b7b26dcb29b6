package protomap_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/evcrm/evcrm/libs/customfield"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

func TestLeadRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		lead lead.Lead
	}{
		{"fully populated", fullLead()},
		{"zero", lead.Lead{}},
		{"minimal", lead.Lead{ID: "x", Version: 1, Details: lead.Details{LastName: "Doe"}, Status: lead.StatusNew}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := protomap.LeadToProto(tt.lead)
			// Through the wire too: what a consumer decodes is what the projector maps.
			b, err := proto.Marshal(p)
			require.NoError(t, err)
			var wire leadsv1.Lead
			require.NoError(t, proto.Unmarshal(b, &wire))
			assert.Equal(t, tt.lead, protomap.LeadFromProto(&wire))
		})
	}
}

func TestLeadToProtoSetsEveryField(t *testing.T) {
	t.Parallel()
	assert.Empty(t, unsetFields(protomap.LeadToProto(fullLead())))
	p := protomap.LeadToProto(fullLead())
	for _, sub := range []proto.Message{p.GetUtm(), p.GetAnnualRevenue(), p.GetScore(), p.GetBant(),
		p.GetConverted(), p.GetEngagement()} {
		assert.Empty(t, unsetFields(sub), "%T", sub)
	}
}

func validLeadProto() *leadsv1.Lead {
	p := protomap.DetailsToProto(fullDetails())
	p.Tags = []string{"vip"}
	p.OwnerId = "user-1"
	return p
}

func TestNewLeadFromProtoTakesSettableFieldsOnly(t *testing.T) {
	t.Parallel()
	p := protomap.LeadToProto(fullLead()) // output-only fields set too: they are ignored
	got, err := protomap.NewLeadFromProto("lead-new", p)
	require.NoError(t, err)
	assert.Equal(t, lead.NewLead{ID: "lead-new", Details: fullDetails(), Tags: []string{"hot", "vip"},
		OwnerID: "user-9"}, got)
}

func TestNewLeadFromProtoViolations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(p *leadsv1.Lead)
		want   []string
	}{
		{"several bad fields at once", func(p *leadsv1.Lead) {
			p.Source = 99
			p.AnnualRevenue = &commonv1.Money{CurrencyCode: "EUR", Units: 1, Nanos: 1_000_000_000}
			p.CustomFields["plan"] = &leadsv1.CustomValue{}
			p.CustomFields["aaa"] = nil
		}, []string{"lead.source", "lead.annual_revenue", "lead.custom_fields.aaa", "lead.custom_fields.plan"}},
		{"negative source", func(p *leadsv1.Lead) { p.Source = -1 }, []string{"lead.source"}},
		{"nanos below range", func(p *leadsv1.Lead) {
			p.AnnualRevenue = &commonv1.Money{CurrencyCode: "EUR", Units: -1, Nanos: -1_000_000_000}
		}, []string{"lead.annual_revenue"}},
		{"sign mismatch", func(p *leadsv1.Lead) {
			p.AnnualRevenue = &commonv1.Money{CurrencyCode: "EUR", Units: 5, Nanos: -1}
		}, []string{"lead.annual_revenue"}},
		{"lower-case currency", func(p *leadsv1.Lead) {
			p.AnnualRevenue = &commonv1.Money{CurrencyCode: "eur", Units: 5}
		}, []string{"lead.annual_revenue"}},
		{"amount without currency", func(p *leadsv1.Lead) {
			p.AnnualRevenue = &commonv1.Money{Units: 5}
		}, []string{"lead.annual_revenue"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := validLeadProto()
			tt.mutate(p)
			_, err := protomap.NewLeadFromProto("lead-new", p)
			assert.Equal(t, tt.want, violations(t, err))
		})
	}
}

func TestNewLeadFromProtoAcceptsEdgeMoney(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		money *commonv1.Money
		want  lead.Money
	}{
		{"unset", nil, lead.Money{}},
		{"all zero", &commonv1.Money{}, lead.Money{}},
		{"zero amount with currency", &commonv1.Money{CurrencyCode: "USD"}, lead.Money{Currency: "USD"}},
		{"max nanos", &commonv1.Money{CurrencyCode: "USD", Units: 1, Nanos: 999_999_999},
			lead.Money{Currency: "USD", Units: 1, Nanos: 999_999_999}},
		{"negative both", &commonv1.Money{CurrencyCode: "USD", Units: -1, Nanos: -1},
			lead.Money{Currency: "USD", Units: -1, Nanos: -1}},
		{"nanos only", &commonv1.Money{CurrencyCode: "USD", Nanos: -5}, lead.Money{Currency: "USD", Nanos: -5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := validLeadProto()
			p.AnnualRevenue = tt.money
			got, err := protomap.NewLeadFromProto("x", p)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.Details.AnnualRevenue)
			m, err := protomap.MoneyFromProto(tt.money, "amount")
			require.NoError(t, err)
			assert.Equal(t, tt.want, m)
		})
	}
}

func TestNewLeadFromProtoRequiresALead(t *testing.T) {
	t.Parallel()
	_, err := protomap.NewLeadFromProto("x", nil)
	assert.Equal(t, []string{"lead"}, violations(t, err))
}

func TestUpdateFromProto(t *testing.T) {
	t.Parallel()
	p := validLeadProto()
	got, err := protomap.UpdateFromProto(p, &fieldmaskpb.FieldMask{Paths: []string{
		"email", "utm", "custom_fields.plan", "custom_fields", "annual_revenue", "source", "utm.term"}})
	require.NoError(t, err)
	assert.Equal(t, lead.Update{
		Paths:   []string{lead.PathEmail, lead.PathUTM, "custom_fields.plan", lead.PathCustomFields, lead.PathAnnualRevenue, lead.PathSource, lead.PathUTMTerm},
		Details: fullDetails(),
	}, got)
}

func TestUpdateFromProtoAcceptsEveryDomainPath(t *testing.T) {
	t.Parallel()
	paths := append(lead.Paths(), lead.PathUTM, lead.PathCustomFields, "custom_fields.new_field")
	got, err := protomap.UpdateFromProto(&leadsv1.Lead{}, &fieldmaskpb.FieldMask{Paths: paths})
	require.NoError(t, err)
	assert.Equal(t, paths, got.Paths)
	assert.Equal(t, lead.Details{}, got.Details, "every named field is cleared")
}

func TestUpdateFromProtoViolations(t *testing.T) {
	t.Parallel()
	badValues := func(p *leadsv1.Lead) {
		p.Source = 42
		p.AnnualRevenue = &commonv1.Money{CurrencyCode: "EURO", Units: 1}
		p.CustomFields["plan"] = &leadsv1.CustomValue{}
	}
	tests := []struct {
		name   string
		mutate func(p *leadsv1.Lead)
		paths  []string
		want   []string
	}{
		{"unknown path", nil, []string{"email", "nope"}, []string{"update_mask.paths[1]"}},
		{"fields of other RPCs and output-only fields", nil,
			[]string{"tags", "status", "owner_id", "bant", "score", "id", "utm.nope", "custom_fields.Bad-Name"},
			[]string{"update_mask.paths[0]", "update_mask.paths[1]", "update_mask.paths[2]", "update_mask.paths[3]",
				"update_mask.paths[4]", "update_mask.paths[5]", "update_mask.paths[6]", "update_mask.paths[7]"}},
		{"bad values of named fields", badValues, []string{"source", "annual_revenue", "custom_fields.plan"},
			[]string{"lead.source", "lead.annual_revenue", "lead.custom_fields.plan"}},
		{"custom value named through the whole map", badValues, []string{"custom_fields"},
			[]string{"lead.custom_fields.plan"}},
		{"bad path and bad value together", badValues, []string{"source", "first_nam"},
			[]string{"update_mask.paths[1]", "lead.source"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := validLeadProto()
			if tt.mutate != nil {
				tt.mutate(p)
			}
			_, err := protomap.UpdateFromProto(p, &fieldmaskpb.FieldMask{Paths: tt.paths})
			assert.ElementsMatch(t, tt.want, violations(t, err))
		})
	}
}

func TestUpdateFromProtoIgnoresBadValuesOfFieldsNotNamed(t *testing.T) {
	t.Parallel()
	p := validLeadProto()
	p.Source = 42
	p.AnnualRevenue = &commonv1.Money{CurrencyCode: "x"}
	p.CustomFields["plan"] = &leadsv1.CustomValue{}
	got, err := protomap.UpdateFromProto(p, &fieldmaskpb.FieldMask{Paths: []string{"email", "custom_fields.seats"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"email", "custom_fields.seats"}, got.Paths)
	assert.Equal(t, "ada@example.com", got.Details.Email)
	assert.Equal(t, customfield.NumberValue(42.5), got.Details.CustomFields["seats"])
	assert.Equal(t, lead.SourceUnspecified, got.Details.Source, "an unmapped value never reaches the domain")
}
