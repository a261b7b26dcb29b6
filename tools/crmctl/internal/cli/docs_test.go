package cli_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/tools/crmctl/internal/cli"
)

// docs/crmctl.md documents every command: its generated part must be what the command tree
// generates now.
func TestDocsReferenceIsCurrent(t *testing.T) {
	b, err := os.ReadFile("../../../../docs/crmctl.md")
	require.NoError(t, err)
	_, generated, found := strings.Cut(string(b), cli.ReferenceMarker)
	require.True(t, found, "docs/crmctl.md has no reference marker")
	assert.Equal(t, "\n\n"+cli.Reference(), generated,
		"docs/crmctl.md is stale: run 'go run ./tools/crmctl gen-docs docs/crmctl.md' at the repository root")
}

// Every leaf command is in the reference with its usage line.
func TestReferenceHasEveryCommand(t *testing.T) {
	ref := cli.Reference()
	for _, want := range []string{"### crmctl leads create", "### crmctl opportunities close won", "### crmctl events tail",
		"### crmctl import", "### crmctl analytics funnel", "### crmctl rebuild", "crmctl campaigns members add CAMPAIGN_ID [flags]"} {
		assert.Contains(t, ref, want)
	}
	assert.NotContains(t, ref, "gen-docs", "hidden commands stay out")
}
