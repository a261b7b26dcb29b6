package input_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/input"
)

func TestIDs(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]bool{"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b": true, "a_B-9": true, "": false,
		"a b": false, "a.b": false, strings.Repeat("x", 64): true, strings.Repeat("x", 65): false} {
		assert.Equal(t, want, input.ValidID(id), id)
	}
	for id, want := range map[string]bool{"olga@acme.com": true, "svc:leads": true, "": false, "a b": false,
		"tab\t": false, strings.Repeat("ü", 128): true, strings.Repeat("ü", 129): false} {
		assert.Equal(t, want, input.ValidUserID(id), id)
	}
}

func TestCheckText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s         string
		max       int
		multiline bool
		ok        bool
	}{
		{"plain", 10, false, true},
		{"too long!!!", 10, false, false},
		{"line\nbreak", 20, false, false},
		{"line\nbreak\ttab", 20, true, true},
		{"nul\x00", 20, true, false},
		{"ünïcödé", 7, false, true},
	} {
		assert.Equal(t, tc.ok, input.CheckText(tc.s, tc.max, tc.multiline) == "", "%q", tc.s)
	}
}

func TestTags(t *testing.T) {
	t.Parallel()
	var v apperr.Violations
	got := input.Tags([]string{" Big  Deal ", "big deal", "Q2", "", "x\x01"}, "tags", &v)
	assert.Equal(t, []string{"big deal", "q2"}, got)
	assert.Equal(t, apperr.Violations{
		{Field: "tags[3]", Description: "must be 1 to 64 printable characters"},
		{Field: "tags[4]", Description: "must be 1 to 64 printable characters"},
	}, v)

	v = nil
	many := make([]string, input.MaxTags+1)
	for i := range many {
		many[i] = strings.Repeat("t", i%60+1) + string(rune('a'+i%26))
	}
	input.Tags(many, "tags", &v)
	assert.Equal(t, []string{"tags"}, []string{v[0].Field})
}
