package vcard_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/services/leads/internal/adapters/vcard"
)

func parseFile(t *testing.T, name string) []vcard.Card {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	require.NoError(t, err)
	defer f.Close()
	cards, err := vcard.Parse(f)
	require.NoError(t, err)
	return cards
}

func TestAppleContacts30(t *testing.T) {
	t.Parallel()
	cards := parseFile(t, "apple_contacts_3.0.vcf")
	require.Len(t, cards, 2)
	c := cards[0]
	assert.Equal(t, 1, c.Line)
	assert.Equal(t, "3.0", c.Version)
	assert.Equal(t, "Johnny", c.GivenName)
	assert.Equal(t, "Appleseed", c.FamilyName)
	assert.Equal(t, "johnny@me.example", c.PreferredEmail(), "type=pref wins")
	assert.Equal(t, "+1 408 555 0102", c.WorkPhone())
	assert.Equal(t, "+1 (408) 555-0101", c.MobilePhone())
	assert.Equal(t, "Apple Inc.", c.Org)
	assert.Equal(t, "Retail", c.Department)
	assert.Equal(t, "Genius", c.Title)
	a, ok := c.PreferredAddress()
	require.True(t, ok)
	assert.Equal(t, vcard.Address{Types: []string{"work", "pref"}, Street: "1 Infinite Loop", City: "Cupertino", Region: "CA", PostalCode: "95014", Country: "United States"}, a)
	assert.Equal(t, "Met at WWDC, keynote line\nSecond line of the note that is long enough to be folded by the exporter.", c.Note)
	assert.Equal(t, []string{"Customers", "VIP"}, c.Categories)
	assert.Equal(t, 18, cards[1].Line)
	assert.Equal(t, "Ångström", cards[1].GivenName)
}

func TestGoogleContacts30(t *testing.T) {
	t.Parallel()
	cards := parseFile(t, "google_contacts_3.0.vcf")
	require.Len(t, cards, 4)
	assert.Equal(t, []int{1, 14, 22, 28}, []int{cards[0].Line, cards[1].Line, cards[2].Line, cards[3].Line})
	assert.Equal(t, "grace@navy.example", cards[0].PreferredEmail(), "work before home")
	assert.Equal(t, "+1 202 555 0100", cards[0].WorkPhone())
	assert.Equal(t, "+1 202 555 0199", cards[0].MobilePhone())
	assert.Equal(t, "", cards[2].PreferredEmail())
}

func TestOutlook21(t *testing.T) {
	t.Parallel()
	cards := parseFile(t, "outlook_2.1.vcf")
	require.Len(t, cards, 1)
	c := cards[0]
	assert.Equal(t, "Ada", c.GivenName)
	assert.Equal(t, "ada@engines.example", c.PreferredEmail())
	assert.Equal(t, "+44 20 7946 0001", c.WorkPhone())
	assert.Equal(t, "+44 7700 900001", c.MobilePhone())
	assert.Equal(t, "First note line\nSecond line with café and a soft break", c.Note)
	a, _ := c.PreferredAddress()
	assert.Equal(t, "London", a.City)
}

func TestVCard40(t *testing.T) {
	t.Parallel()
	cards := parseFile(t, "rfc6350_4.0.vcf")
	require.Len(t, cards, 1)
	c := cards[0]
	assert.Equal(t, "4.0", c.Version)
	assert.Equal(t, "edsger@tue.example", c.PreferredEmail())
	assert.Equal(t, "+31-40-247-9111", c.WorkPhone())
	assert.Equal(t, "+31-6-1234-5678", c.MobilePhone())
	assert.Equal(t, "TU Eindhoven", c.Org)
	assert.Equal(t, []string{"academia", "algorithms"}, c.Categories)
}

func TestMalformedFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		line     int
		reason   string
	}{
		{"empty", "", 0, "no card"},
		{"not vcard", "email,name\na@b.c,A\n", 1, "expected BEGIN:VCARD"},
		{"no end", "BEGIN:VCARD\nVERSION:3.0\nFN:A\n", 1, "no END:VCARD"},
		{"nested", "BEGIN:VCARD\nFN:A\nBEGIN:VCARD\nEND:VCARD\n", 3, "END:VCARD missing"},
		{"latin-1", "BEGIN:VCARD\nFN:Zo\xeb\nEND:VCARD\n", 2, "not valid UTF-8"},
		{"binary", "BEGIN:VCARD\x00", 1, "NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := vcard.Parse(strings.NewReader(tt.in))
			require.ErrorIs(t, err, vcard.ErrMalformed)
			var me *vcard.MalformedError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, tt.line, me.Line)
			assert.Contains(t, me.Reason, tt.reason)
		})
	}
}
