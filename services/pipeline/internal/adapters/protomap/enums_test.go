package protomap_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/evcrm/evcrm/libs/customfield"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/services/pipeline/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/contract"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/quote"
)

type protoEnum interface {
	~int32
	Descriptor() protoreflect.EnumDescriptor
}

// enumCase checks one enum mapping against the proto descriptor and the domain's values.
type enumCase struct {
	name string
	run  func(t *testing.T)
}

// bijection checks that every declared proto value maps to a domain value of the same name and
// back, that distinct proto values map to distinct domain values (UNSPECIFIED to the domain's
// zero, the others to specified ones), that every domain value maps to a declared proto value and back,
// and, when the mapping validates requests, that undeclared numbers are refused naming the
// field.
func bijection[D interface {
	~int
	String() string
}, P protoEnum](name string, toProto func(D) P, fromProto func(P, string) (D, error), validates bool) enumCase {
	return enumCase{name: name, run: func(t *testing.T) {
		var zero P
		desc := zero.Descriptor()
		seen := map[D]P{}
		for _, n := range enumValues(desc) {
			p := P(n)
			d, err := fromProto(p, "f")
			require.NoError(t, err, "%v", p)
			assert.Equal(t, p, toProto(d), "%v maps back", p)
			assert.Equal(t, n == 0, d == 0, "%v: UNSPECIFIED and only it is the domain's zero", p)
			// Names agree too, so two values swapped in both directions show.
			assert.True(t, strings.HasSuffix(string(desc.Values().ByNumber(n).Name()), "_"+strings.ToUpper(d.String())),
				"%v maps to domain %q", p, d)
			prev, dup := seen[d]
			assert.False(t, dup, "%v and %v map to the same domain value %v", prev, p, d)
			seen[d] = p
		}
		var domain int
		for d := D(0); !strings.Contains(d.String(), "("); d++ {
			domain++
			p := toProto(d)
			assert.NotNil(t, desc.Values().ByNumber(protoreflect.EnumNumber(p)), "domain %v maps to a declared value", d)
			back, err := fromProto(p, "f")
			require.NoError(t, err)
			assert.Equal(t, d, back, "domain %v maps back", d)
		}
		assert.Equal(t, desc.Values().Len(), domain, "the domain and the proto have as many values")
		if validates {
			for _, n := range []int32{int32(desc.Values().Len()) + 10, -1} {
				_, err := fromProto(P(n), "some.field")
				assert.Equal(t, []string{"some.field"}, violations(t, err), "undeclared %d", n)
			}
		}
	}}
}

// recorded adapts the mapper of an output-only enum (no request carries it).
func recorded[D any, P any](f func(P) D) func(P, string) (D, error) {
	return func(p P, _ string) (D, error) { return f(p), nil }
}

func TestEnumsMapEveryDeclaredValue(t *testing.T) {
	t.Parallel()
	cases := []enumCase{
		bijection("ForecastCategory", protomap.CategoryToProto, protomap.CategoryFromProto, true),
		bijection("StageKind", protomap.StageKindToProto, protomap.StageKindFromProto, true),
		bijection("OpportunityStatus", protomap.StatusToProto, protomap.StatusFromProto, true),
		bijection("OpportunitySource", protomap.SourceToProto, protomap.SourceFromProto, true),
		bijection("ContactRole", protomap.RoleToProto, protomap.RoleFromProto, true),
		bijection("LostReason", protomap.LostReasonToProto, protomap.LostReasonFromProto, true),
		bijection("StageChangeDirection", protomap.DirectionToProto, recorded(protomap.DirectionFromProto), false),
		bijection("AmountChangeReason", protomap.AmountReasonToProto, recorded(protomap.AmountReasonFromProto), false),
		bijection("QuoteStatus", protomap.QuoteStatusToProto, recorded(protomap.QuoteStatusFromProto), false),
		bijection("ContractStatus", protomap.ContractStatusToProto, protomap.ContractStatusFromProto, true),
		bijection("ForecastPeriod", protomap.PeriodToProto, protomap.PeriodFromProto, true),
		bijection[customfield.Type]("CustomFieldType", protomap.FieldTypeToProto, protomap.FieldTypeFromProto, true),
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t)
		})
	}
}

// The sort keys are protomap's own; UNSPECIFIED is the default key, every other declared value
// its own key.
func TestSortKeysMapEveryDeclaredValue(t *testing.T) {
	t.Parallel()
	t.Run("OpportunityOrderBy", func(t *testing.T) {
		t.Parallel()
		seen := map[protomap.OpportunitySort]bool{}
		for _, n := range enumValues(pipelinev1.OpportunityOrderBy(0).Descriptor()) {
			s, err := protomap.OpportunitySortFromProto(pipelinev1.OpportunityOrderBy(n), "order_by")
			require.NoError(t, err)
			if n == 0 {
				assert.Equal(t, protomap.OpportunitySortCreatedAt, s)
				continue
			}
			assert.Equal(t, pipelinev1.OpportunityOrderBy(n), protomap.OpportunitySortToProto(s))
			assert.False(t, seen[s], "%v mapped twice", s)
			seen[s] = true
		}
		assert.Len(t, seen, 4)
		_, err := protomap.OpportunitySortFromProto(5, "order_by")
		assert.Equal(t, []string{"order_by"}, violations(t, err))
	})
	t.Run("ContractOrderBy", func(t *testing.T) {
		t.Parallel()
		seen := map[protomap.ContractSort]bool{}
		for _, n := range enumValues(pipelinev1.ContractOrderBy(0).Descriptor()) {
			s, err := protomap.ContractSortFromProto(pipelinev1.ContractOrderBy(n), "order_by")
			require.NoError(t, err)
			if n == 0 {
				assert.Equal(t, protomap.ContractSortCreatedAt, s)
				continue
			}
			assert.Equal(t, pipelinev1.ContractOrderBy(n), protomap.ContractSortToProto(s))
			assert.False(t, seen[s], "%v mapped twice", s)
			seen[s] = true
		}
		assert.Len(t, seen, 3)
		_, err := protomap.ContractSortFromProto(-2, "order_by")
		assert.Equal(t, []string{"order_by"}, violations(t, err))
	})
}

// Recorded values the tables do not know (written by a newer version) decode to the
// unspecified value instead of failing.
func TestUnknownRecordedEnumsAreUnspecified(t *testing.T) {
	t.Parallel()
	assert.Equal(t, quote.StatusUnspecified, protomap.QuoteStatusFromProto(99))
	assert.Equal(t, opportunity.DirectionUnspecified, protomap.DirectionFromProto(99))
	c, err := protomap.ContractFromProto(&pipelinev1.Contract{Status: 99})
	require.NoError(t, err)
	assert.Equal(t, contract.StatusUnspecified, c.Status)
}
