package tlsconf_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/platform/tlsconf"
	"github.com/evcrm/evcrm/libs/testkit"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	c := testkit.NewTLSFiles(t)
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	require.NoError(t, os.WriteFile(garbage, []byte("not a certificate"), 0o600))
	for name, tc := range map[string]struct {
		f   tlsconf.Files
		err string
	}{
		"nothing: plaintext":      {f: tlsconf.Files{}},
		"server and mutual":       {f: tlsconf.Files{Cert: c.ServerCert, Key: c.ServerKey, ClientCA: c.CA, CA: c.CA}},
		"client only":             {f: tlsconf.Files{CA: c.CA}},
		"certificate without key": {f: tlsconf.Files{Cert: c.ServerCert}, err: "set both or neither"},
		"client CA without cert":  {f: tlsconf.Files{ClientCA: c.CA}, err: "needs the server's own certificate"},
		"key of another cert":     {f: tlsconf.Files{Cert: c.ServerCert, Key: c.ClientKey}, err: "key pair"},
		"CA bundle without PEM":   {f: tlsconf.Files{CA: garbage}, err: "no PEM certificate"},
		"missing CA file":         {f: tlsconf.Files{CA: filepath.Join(t.TempDir(), "nope.pem")}, err: "no such file"},
	} {
		err := tc.f.Validate()
		if tc.err == "" {
			assert.NoError(t, err, name)
		} else {
			assert.ErrorContains(t, err, tc.err, name)
		}
	}
	for _, f := range []func(tlsconf.Files) (any, error){
		func(f tlsconf.Files) (any, error) { return f.Server() },
		func(f tlsconf.Files) (any, error) { return f.Client() },
		func(f tlsconf.Files) (any, error) { return f.Loopback() },
	} {
		got, err := f(tlsconf.Files{})
		require.NoError(t, err)
		assert.Nil(t, got, "no files: plaintext everywhere")
	}
}

// A rotated certificate (the files replaced in place) is served without a restart.
func TestServerPicksUpARotatedCertificate(t *testing.T) {
	t.Parallel()
	first, second := testkit.NewTLSFiles(t), testkit.NewTLSFiles(t)
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	install := func(c testkit.TLSFiles, mod time.Time) {
		for src, dst := range map[string]string{c.ServerCert: cert, c.ServerKey: key} {
			b, err := os.ReadFile(src)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(dst, b, 0o600))
			require.NoError(t, os.Chtimes(dst, mod, mod))
		}
	}
	install(first, time.Now().Add(-time.Hour))
	cfg, err := tlsconf.Files{Cert: cert, Key: key}.Server()
	require.NoError(t, err)
	served := func() []byte {
		c, err := cfg.GetCertificate(nil)
		require.NoError(t, err)
		return c.Certificate[0]
	}
	before := served()
	install(second, time.Now())
	require.Eventually(t, func() bool { return string(served()) != string(before) }, tlsconf.ReloadEvery+5*time.Second, 200*time.Millisecond)
}
