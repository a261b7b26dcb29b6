package pagetoken_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/pagetoken"
)

type cur struct {
	Str string `json:"s"`
	ID  string `json:"i"`
}

func TestTokensRoundTripOnlyForTheirQuery(t *testing.T) {
	t.Parallel()
	tok := pagetoken.Encode("l", "h1", cur{Str: "2026-01-01", ID: "x"})
	var c cur
	ok, err := pagetoken.Decode(tok, "l", "h1", &c)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, cur{Str: "2026-01-01", ID: "x"}, c)

	ok, err = pagetoken.Decode("", "l", "h1", &c)
	assert.NoError(t, err)
	assert.False(t, ok, "no token: the first page")
	for _, bad := range []struct{ tok, kind, hash string }{
		{tok, "s", "h1"}, {tok, "l", "h2"}, {"garbage!", "l", "h1"}, {"e30", "l", "h1"},
	} {
		_, err := pagetoken.Decode(bad.tok, bad.kind, bad.hash, &c)
		assert.ErrorIs(t, err, pagetoken.ErrInvalid, "%+v", bad)
	}
}

func TestFingerprintIgnoresSetOrderButNotPartBoundaries(t *testing.T) {
	t.Parallel()
	sum := func(fill func(*pagetoken.Fingerprint)) string {
		var f pagetoken.Fingerprint
		fill(&f)
		return f.Sum()
	}
	assert.Equal(t, sum(func(f *pagetoken.Fingerprint) { f.Set([]string{"a", "b", "a"}) }),
		sum(func(f *pagetoken.Fingerprint) { f.Set([]string{"b", "a"}) }))
	assert.NotEqual(t, sum(func(f *pagetoken.Fingerprint) { f.Str("ab"); f.Str("c") }),
		sum(func(f *pagetoken.Fingerprint) { f.Str("a"); f.Str("bc") }))
	assert.Equal(t, sum(func(f *pagetoken.Fingerprint) { pagetoken.IntSet(f, []int{2, 1}) }),
		sum(func(f *pagetoken.Fingerprint) { f.Set([]string{"1", "2"}) }))
}
