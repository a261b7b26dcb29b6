package uniqueness

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLookupFindsTheHolderWithoutClaiming(t *testing.T) {
	t.Parallel()
	x := open(t, Options{})
	ctx := context.Background()
	_, found, err := x.Lookup(ctx, "acme", "email_ada")
	require.NoError(t, err)
	assert.False(t, found)

	require.NoError(t, x.Claim(ctx, "acme", "lead-1", []string{"email_ada"}, never))
	id, found, err := x.Lookup(ctx, "acme", "email_ada")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, "lead-1", id)

	// Tenants are apart, and a lookup claimed nothing.
	_, found, err = x.Lookup(ctx, "other", "email_ada")
	require.NoError(t, err)
	assert.False(t, found)
	require.NoError(t, x.Claim(ctx, "other", "lead-2", []string{"email_ada"}, never))
}
