package reqctx

import (
	"strings"
	"testing"
)

func TestValidTenantID(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]bool{
		"acme": true, "Acme_Corp-1": true, strings.Repeat("a", 64): true,
		"": false, strings.Repeat("a", 65): false, "acme.corp": false, "acme*": false, "acme>": false,
		"ac me": false, "acmé": false, "acme\n": false,
	} {
		if got := ValidTenantID(id); got != want {
			t.Errorf("ValidTenantID(%q) = %v, want %v", id, got, want)
		}
	}
}
