package customfield_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
)

func TestValidateValues(t *testing.T) {
	t.Parallel()
	defs := map[string]customfield.Definition{
		"plan":    {Name: "plan", Type: customfield.TypeString},
		"seats":   {Name: "seats", Type: customfield.TypeNumber},
		"trial":   {Name: "trial", Type: customfield.TypeBool},
		"renewal": {Name: "renewal", Type: customfield.TypeDate},
	}
	for _, tc := range []struct {
		name   string
		values map[string]customfield.Value
		fields []string
	}{
		{"all valid", map[string]customfield.Value{"plan": customfield.StringValue("pro"),
			"seats": customfield.NumberValue(12), "trial": customfield.BoolValue(true),
			"renewal": customfield.DateValue("2025-12-31")}, nil},
		{"undefined", map[string]customfield.Value{"nope": customfield.StringValue("x")}, []string{"cf.nope"}},
		{"wrong type", map[string]customfield.Value{"seats": customfield.StringValue("12")}, []string{"cf.seats"}},
		{"bad date", map[string]customfield.Value{"renewal": customfield.DateValue("31.12.2025")}, []string{"cf.renewal"}},
		{"nan", map[string]customfield.Value{"seats": customfield.NumberValue(math.NaN())}, []string{"cf.seats"}},
		{"several, sorted", map[string]customfield.Value{"zz": customfield.BoolValue(true), "plan": customfield.BoolValue(true)},
			[]string{"cf.plan", "cf.zz"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var v apperr.Violations
			customfield.ValidateValues(defs, tc.values, "cf.", &v)
			var got []string
			for _, f := range v {
				got = append(got, f.Field)
			}
			assert.Equal(t, tc.fields, got)
		})
	}
}

func TestDefinitionValidate(t *testing.T) {
	t.Parallel()
	var v apperr.Violations
	customfield.Definition{Name: "Bad Name", Type: customfield.TypeUnspecified}.Validate("field.", &v)
	assert.Len(t, v, 2)
	v = nil
	customfield.Definition{Name: "ok_name1", Type: customfield.TypeDate}.Validate("field.", &v)
	assert.Empty(t, v)
}
