package dedupe_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/services/leads/internal/domain/dedupe"
)

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"jane@acme.com", "jane@acme.com"},
		{"  Jane.Doe@ACME.com \n", "jane.doe@acme.com"},
		{"jane+news@acme.com", "jane@acme.com"},
		{"jane+a+b@acme.com", "jane@acme.com"},
		{"j.a.n.e@gmail.com", "j.a.n.e@gmail.com"}, // dots kept
		{"+tag@acme.com", "+tag@acme.com"},         // no base address: kept whole
		{"jane@acme.com.", "jane@acme.com"},
		{"not-an-email", "not-an-email"},
		{"", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, dedupe.NormalizeEmail(tc.in))
		})
	}
}

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"+1 (555) 123-4567", "+15551234567"},
		{"+1.555.123.4567", "+15551234567"},
		{"001 555 123 4567", "+15551234567"},
		{"+44 (0)20 7946 0958", "+442079460958"},
		{"0044 (0)20 7946 0958", "+442079460958"},
		{"+49 30 1234567 ext. 12", "+49301234567"},
		{"+49 30 1234567 x12", "+49301234567"},
		{"+49 30 1234567;ext=12", "+49301234567"},
		{"+49 30 1234567#12", "+49301234567"},
		{"030 1234567", "0301234567"}, // national: no country inferred
		{"12345", ""},                 // too short
		{"+1234567890123456", ""},     // more than 15 digits
		{"+0 555 1234567", ""},        // no country code starts with 0
		{"call me", ""},
		{"", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, dedupe.NormalizePhone(tc.in))
		})
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	a := dedupe.Keys("Jane+x@Acme.com", "+1 555 123 4567")
	b := dedupe.Keys("jane@acme.com", "001-555-123-4567")
	require.Len(t, a, 2)
	assert.Equal(t, a, b, "variants of one contact point share keys")
	assert.Regexp(t, `^email_[0-9a-f]{64}$`, a[0])
	assert.Regexp(t, `^phone_[0-9a-f]{64}$`, a[1])
	assert.NotContains(t, a[0], "jane", "keys hold no personal data in clear")
	assert.NotEqual(t, dedupe.Key(dedupe.KindEmail, "x"), dedupe.Key(dedupe.KindPhone, "x"))
	assert.Empty(t, dedupe.Keys("", "12"))
}
