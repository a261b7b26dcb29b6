package cli_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/tools/crmctl/internal/cli"
)

// fakeJWT is a token with the given claims; crmctl reads claims without verifying them.
func fakeJWT(exp time.Time) string {
	enc := base64.RawURLEncoding
	payload := fmt.Sprintf(`{"sub":"ada","tenant":"globex","roles":["analyst"],"exp":%d}`, exp.Unix())
	return enc.EncodeToString([]byte(`{"alg":"EdDSA"}`)) + "." + enc.EncodeToString([]byte(payload)) + ".c2ln"
}

// login stores the token (user-only), refuses an expired or malformed one, and logout removes it.
func TestLoginStoresToken(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("EVCRM_CONFIG_DIR", dir)
	t.Setenv("EVCRM_TOKEN", "")
	run := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := cli.Execute(context.Background(), args, &out, &errOut)
		return code, errOut.String()
	}
	tok := fakeJWT(time.Now().Add(time.Hour))
	code, msg := run("login", "--token", tok)
	require.Equal(t, 0, code, msg)
	assert.Contains(t, msg, "logged in as ada in tenant globex")
	p := filepath.Join(dir, "token")
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, tok+"\n", string(b))
	fi, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	code, msg = run("login", "--token", fakeJWT(time.Now().Add(-time.Hour)))
	assert.Equal(t, 1, code)
	assert.Contains(t, msg, "expired")
	code, _ = run("login", "--token", "not-a-token")
	assert.Equal(t, 1, code)

	code, _ = run("logout")
	require.Equal(t, 0, code)
	_, err = os.Stat(p)
	assert.ErrorIs(t, err, os.ErrNotExist)
}
