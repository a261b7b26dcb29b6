package grpcauth_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/metadata"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/platform/config"
	"github.com/evcrm/evcrm/libs/platform/grpcauth"
	"github.com/evcrm/evcrm/libs/reqctx"
)

const (
	testIss = "https://idp.test"
	testAud = "evcrm"
)

// keyPair is a signing key with its public JWK, as an identity provider holds them.
type keyPair struct {
	priv jwk.Key
	pub  jwk.Key
	alg  jwa.SignatureAlgorithm
}

func newEd25519(t testing.TB, kid string) keyPair {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return pair(t, priv, kid, jwa.EdDSA())
}

func newRSA(t testing.TB, kid string) keyPair {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	return pair(t, priv, kid, jwa.RS256())
}

func pair(t testing.TB, raw any, kid string, alg jwa.SignatureAlgorithm) keyPair {
	t.Helper()
	priv, err := jwk.Import(raw)
	require.NoError(t, err)
	require.NoError(t, priv.Set(jwk.KeyIDKey, kid))
	pub, err := priv.PublicKey()
	require.NoError(t, err)
	return keyPair{priv: priv, pub: pub, alg: alg}
}

// writeJWKS writes the public keys as a JWKS file and returns its path.
func writeJWKS(t testing.TB, keys ...jwk.Key) string {
	t.Helper()
	set := jwk.NewSet()
	for _, k := range keys {
		require.NoError(t, set.AddKey(k))
	}
	b, err := json.Marshal(set)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "jwks.json")
	require.NoError(t, os.WriteFile(p, b, 0o600))
	return p
}

type claims map[string]any

func validClaims(now time.Time) claims {
	return claims{"iss": testIss, "aud": testAud, "sub": "u-1", "tenant": "acme", "roles": []string{"sales_rep"},
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

func sign(t testing.TB, k keyPair, c claims) string {
	t.Helper()
	tok := jwt.New()
	for name, v := range c {
		require.NoError(t, tok.Set(name, v))
	}
	b, err := jwt.Sign(tok, jwt.WithKey(k.alg, k.priv))
	require.NoError(t, err)
	return string(b)
}

// rawJWS builds a compact token with any header, for algorithms a library would refuse to sign.
func rawJWS(header, payload map[string]any, sig []byte) string {
	h, _ := json.Marshal(header)
	p, _ := json.Marshal(payload)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(h) + "." + enc.EncodeToString(p) + "." + enc.EncodeToString(sig)
}

func bearerMD(tok string, kv ...string) metadata.MD {
	return metadata.Pairs(append([]string{"authorization", "Bearer " + tok}, kv...)...)
}

func newJWT(t testing.TB, jwks string, now time.Time) *grpcauth.JWT {
	t.Helper()
	a, err := grpcauth.NewJWT(context.Background(), grpcauth.JWTConfig{JWKS: jwks, Issuer: testIss, Audience: testAud,
		ClockSkew: 30 * time.Second, Now: func() time.Time { return now }})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	return a
}

func TestJWT(t *testing.T) {
	t.Parallel()
	now := time.Now().Truncate(time.Second)
	ed, rs := newEd25519(t, "ed-1"), newRSA(t, "rs-1")
	other := newEd25519(t, "ed-1") // same kid, different key: a forger's
	a := newJWT(t, writeJWKS(t, ed.pub, rs.pub), now)

	with := func(mod func(c claims)) claims {
		c := validClaims(now)
		mod(c)
		return c
	}
	edPub, err := ed.pub.PublicKey()
	require.NoError(t, err)
	var rawPub ed25519.PublicKey
	require.NoError(t, jwk.Export(edPub, &rawPub))
	hsWithPublicKey := func() string {
		k, err := jwk.Import([]byte(rawPub))
		require.NoError(t, err)
		require.NoError(t, k.Set(jwk.KeyIDKey, "ed-1"))
		tok, err := jwt.NewBuilder().Issuer(testIss).Audience([]string{testAud}).Subject("u-1").
			Claim("tenant", "acme").Expiration(now.Add(time.Hour)).Build()
		require.NoError(t, err)
		b, err := jwt.Sign(tok, jwt.WithKey(jwa.HS256(), k))
		require.NoError(t, err)
		return string(b)
	}

	cases := []struct {
		name   string
		md     metadata.MD
		want   grpcauth.Principal
		kind   apperr.Kind
		reason string
	}{
		{name: "EdDSA", md: bearerMD(sign(t, ed, validClaims(now))),
			want: grpcauth.Principal{Tenant: "acme", Actor: reqctx.Actor{Type: reqctx.ActorUser, ID: "u-1", Roles: []string{"sales_rep"}}}},
		{name: "RS256", md: bearerMD(sign(t, rs, validClaims(now))),
			want: grpcauth.Principal{Tenant: "acme", Actor: reqctx.Actor{Type: reqctx.ActorUser, ID: "u-1", Roles: []string{"sales_rep"}}}},
		{name: "matching x-tenant-id; x-user-id and x-roles ignored", md: bearerMD(sign(t, ed, validClaims(now)), "x-tenant-id", "acme", "x-user-id", "root", "x-roles", "admin"),
			want: grpcauth.Principal{Tenant: "acme", Actor: reqctx.Actor{Type: reqctx.ActorUser, ID: "u-1", Roles: []string{"sales_rep"}}}},
		{name: "expired within skew", md: bearerMD(sign(t, ed, with(func(c claims) { c["exp"] = now.Add(-20 * time.Second).Unix() }))),
			want: grpcauth.Principal{Tenant: "acme", Actor: reqctx.Actor{Type: reqctx.ActorUser, ID: "u-1", Roles: []string{"sales_rep"}}}},
		{name: "service credential names tenant and actor", md: bearerMD(sign(t, ed, with(func(c claims) {
			delete(c, "tenant")
			c["sub"], c["roles"] = "svc-campaign", []string{"service"}
		})), "x-tenant-id", "globex", "x-user-id", "campaign-rules", "x-roles", "admin"),
			want: grpcauth.Principal{Tenant: "globex", Actor: reqctx.Actor{Type: reqctx.ActorService, ID: "campaign-rules", Roles: []string{"service"}}}},

		{name: "no token", md: metadata.Pairs("x-tenant-id", "acme", "x-user-id", "u-1"), kind: apperr.Unauthenticated, reason: "TOKEN_MISSING"},
		{name: "not bearer", md: metadata.Pairs("authorization", "Basic dTpw"), kind: apperr.Unauthenticated, reason: "TOKEN_INVALID"},
		{name: "garbage", md: bearerMD("not.a.jwt"), kind: apperr.Unauthenticated, reason: "TOKEN_INVALID"},
		{name: "expired", md: bearerMD(sign(t, ed, with(func(c claims) { c["exp"] = now.Add(-time.Minute).Unix() }))),
			kind: apperr.Unauthenticated, reason: "TOKEN_EXPIRED"},
		{name: "not yet valid", md: bearerMD(sign(t, ed, with(func(c claims) { c["nbf"] = now.Add(time.Minute).Unix() }))),
			kind: apperr.Unauthenticated, reason: "TOKEN_NOT_YET_VALID"},
		{name: "no exp", md: bearerMD(sign(t, ed, with(func(c claims) { delete(c, "exp") }))), kind: apperr.Unauthenticated},
		{name: "no sub", md: bearerMD(sign(t, ed, with(func(c claims) { delete(c, "sub") }))), kind: apperr.Unauthenticated},
		{name: "forged: same kid, other key", md: bearerMD(sign(t, other, validClaims(now))), kind: apperr.Unauthenticated, reason: "TOKEN_INVALID"},
		{name: "unknown kid", md: bearerMD(sign(t, newEd25519(t, "ed-9"), validClaims(now))), kind: apperr.Unauthenticated, reason: "TOKEN_INVALID"},
		{name: "wrong issuer", md: bearerMD(sign(t, ed, with(func(c claims) { c["iss"] = "https://evil.test" }))),
			kind: apperr.Unauthenticated, reason: "TOKEN_WRONG_AUDIENCE"},
		{name: "wrong audience", md: bearerMD(sign(t, ed, with(func(c claims) { c["aud"] = "other-app" }))),
			kind: apperr.Unauthenticated, reason: "TOKEN_WRONG_AUDIENCE"},
		{name: "alg none", md: bearerMD(rawJWS(map[string]any{"alg": "none", "kid": "ed-1"}, validClaims(now), nil)),
			kind: apperr.Unauthenticated, reason: "TOKEN_INVALID"},
		{name: "HS256 keyed with the public key", md: bearerMD(hsWithPublicKey()), kind: apperr.Unauthenticated, reason: "TOKEN_INVALID"},
		{name: "alg header says RS256, signed EdDSA", md: bearerMD(func() string {
			tok := sign(t, ed, validClaims(now))
			h, _ := json.Marshal(map[string]any{"alg": "RS256", "kid": "ed-1"})
			return base64.RawURLEncoding.EncodeToString(h) + tok[len(tok[:indexDot(tok)]):]
		}()), kind: apperr.Unauthenticated, reason: "TOKEN_INVALID"},
		{name: "the same token twice (as grpc-gateway forwards it)", md: metadata.Pairs("authorization", "Bearer "+sign(t, ed, validClaims(now)),
			"authorization", "Bearer "+sign(t, ed, validClaims(now))),
			want: grpcauth.Principal{Tenant: "acme", Actor: reqctx.Actor{Type: reqctx.ActorUser, ID: "u-1", Roles: []string{"sales_rep"}}}},
		{name: "two authorization values", md: metadata.Pairs("authorization", "Bearer "+sign(t, ed, validClaims(now)), "authorization", "Bearer x"),
			kind: apperr.Unauthenticated},
		{name: "user token without tenant", md: bearerMD(sign(t, ed, with(func(c claims) { delete(c, "tenant") }))),
			kind: apperr.Unauthenticated, reason: "TENANT_MISSING"},
		{name: "x-tenant-id of another tenant", md: bearerMD(sign(t, ed, validClaims(now)), "x-tenant-id", "globex"),
			kind: apperr.PermissionDenied, reason: "TENANT_FORBIDDEN"},
		{name: "tenant-bound service credential in another tenant", md: bearerMD(sign(t, ed, with(func(c claims) {
			c["roles"] = []string{"service"}
		})), "x-tenant-id", "globex"), kind: apperr.PermissionDenied, reason: "TENANT_FORBIDDEN"},
		{name: "roles not an array", md: bearerMD(sign(t, ed, with(func(c claims) { c["roles"] = "admin" }))), kind: apperr.Unauthenticated},
		{name: "territories and team", md: bearerMD(sign(t, ed, with(func(c claims) {
			c["roles"], c["territories"], c["team"] = []string{"sales_manager"}, []string{"emea"}, []string{"u-2", "u-3"}
		})), "x-territories", "apac", "x-team", "u-9"),
			want: grpcauth.Principal{Tenant: "acme", Actor: reqctx.Actor{Type: reqctx.ActorUser, ID: "u-1", Roles: []string{"sales_manager"},
				Territories: []string{"emea"}, Team: []string{"u-2", "u-3"}}}},
		{name: "team not an array", md: bearerMD(sign(t, ed, with(func(c claims) { c["team"] = "u-2" }))), kind: apperr.Unauthenticated},
		{name: "territories of numbers", md: bearerMD(sign(t, ed, with(func(c claims) { c["territories"] = []int{1} }))), kind: apperr.Unauthenticated},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := a.Authenticate(context.Background(), tc.md)
			if tc.kind != 0 || tc.reason != "" {
				require.Error(t, err, "accepted as %+v", p)
				assert.Equal(t, tc.kind, apperr.KindOf(err), "%v", err)
				if tc.reason != "" {
					e, _ := apperr.As(err)
					assert.Equal(t, tc.reason, e.Reason, "%v", err)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, p)
		})
	}
}

func indexDot(s string) int {
	for i := range len(s) {
		if s[i] == '.' {
			return i
		}
	}
	return len(s)
}

// A JWKS URL is fetched at start and again after a key rotation, without a restart.
func TestJWTFromURL(t *testing.T) {
	t.Parallel()
	k1, k2 := newEd25519(t, "k1"), newEd25519(t, "k2")
	current := make(chan jwk.Key, 1)
	current <- k1.pub
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		k := <-current
		current <- k
		set := jwk.NewSet()
		_ = set.AddKey(k)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(srv.Close)
	a, err := grpcauth.NewJWT(context.Background(), grpcauth.JWTConfig{JWKS: srv.URL, Issuer: testIss, Audience: testAud,
		RefreshInterval: time.Second})
	require.NoError(t, err)
	t.Cleanup(a.Close)

	_, err = a.Authenticate(context.Background(), bearerMD(sign(t, k1, validClaims(time.Now()))))
	require.NoError(t, err)
	<-current
	current <- k2.pub
	// httprc schedules the next fetch from its minimum interval; allow it a few rounds.
	require.Eventually(t, func() bool {
		_, err := a.Authenticate(context.Background(), bearerMD(sign(t, k2, validClaims(time.Now()))))
		return err == nil
	}, 20*time.Second, 200*time.Millisecond, "the rotated key was never fetched")
	_, err = a.Authenticate(context.Background(), bearerMD(sign(t, k1, validClaims(time.Now()))))
	assert.Equal(t, apperr.Unauthenticated, apperr.KindOf(err), "the retired key still verifies")

	_, err = grpcauth.NewJWT(context.Background(), grpcauth.JWTConfig{JWKS: srv.URL + "/missing-host-part\x00", Issuer: testIss, Audience: testAud})
	assert.Error(t, err)
}

// The services only verify: a JWKS holding a private or symmetric key is refused at start.
func TestJWTRefusesSecretKeys(t *testing.T) {
	t.Parallel()
	ed := newEd25519(t, "k")
	oct, err := jwk.Import([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	for name, k := range map[string]jwk.Key{"private": ed.priv, "symmetric": oct} {
		_, err := grpcauth.NewJWT(context.Background(), grpcauth.JWTConfig{JWKS: writeJWKS(t, k), Issuer: testIss, Audience: testAud})
		assert.ErrorContains(t, err, "public keys only", name)
	}
	_, err = grpcauth.NewJWT(context.Background(), grpcauth.JWTConfig{JWKS: writeJWKS(t, ed.pub), Issuer: testIss})
	assert.ErrorContains(t, err, "audience")
}

// The launcher's issuer mints tokens the JWT authenticator accepts, and keeps its key across runs.
func TestDevIssuer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	iss, err := grpcauth.LoadOrCreateDevIssuer(dir, testIss, testAud)
	require.NoError(t, err)
	tok, err := iss.Mint(grpcauth.TokenClaims{Subject: "ada", Tenant: "acme", Roles: []string{"admin"}, TTL: time.Hour})
	require.NoError(t, err)
	again, err := grpcauth.LoadOrCreateDevIssuer(dir, testIss, testAud)
	require.NoError(t, err)
	tok2, err := again.Mint(grpcauth.TokenClaims{Subject: "bob", Tenant: "acme", TTL: time.Hour})
	require.NoError(t, err)

	a := newJWT(t, filepath.Join(dir, grpcauth.DevJWKSFile), time.Now())
	p, err := a.Authenticate(context.Background(), bearerMD(tok))
	require.NoError(t, err)
	assert.Equal(t, grpcauth.Principal{Tenant: "acme", Actor: reqctx.Actor{Type: reqctx.ActorUser, ID: "ada", Roles: []string{"admin"}}}, p)
	p, err = a.Authenticate(context.Background(), bearerMD(tok2))
	require.NoError(t, err)
	assert.Empty(t, p.Actor.Roles)

	fi, err := os.Stat(filepath.Join(dir, grpcauth.DevSigningKeyFile))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the signing key must not be world-readable")
}

func TestFromBaseJWT(t *testing.T) {
	t.Parallel()
	iss, err := grpcauth.LoadOrCreateDevIssuer(t.TempDir(), testIss, testAud)
	require.NoError(t, err)
	jwks, err := iss.JWKS()
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "jwks.json")
	require.NoError(t, os.WriteFile(p, jwks, 0o600))
	a, err := grpcauth.FromBase(config.Base{AuthJWKS: p, AuthIssuer: testIss, AuthAudience: testAud, AuthClockSkew: time.Second})
	require.NoError(t, err)
	assert.IsType(t, &grpcauth.JWT{}, a)
	_, err = grpcauth.FromBase(config.Base{AuthJWKS: p, AuthIssuer: testIss, AuthAudience: testAud, DevAuth: true})
	assert.Error(t, err, "both JWT and dev auth must be refused")
	_, err = grpcauth.FromBase(config.Base{AuthJWKS: filepath.Join(t.TempDir(), "none.json"), AuthIssuer: testIss, AuthAudience: testAud})
	assert.Error(t, err, "a missing JWKS file must fail the start")
}

// FuzzJWTAuthenticate feeds arbitrary bearer values through the token parsing path: it must
// never panic and never accept anything not signed by the configured key.
func FuzzJWTAuthenticate(f *testing.F) {
	ed := newEd25519(f, "ed-1")
	now := time.Now()
	a := newJWT(f, writeJWKS(f, ed.pub), now)
	valid := sign(f, ed, validClaims(now))
	f.Add(valid)
	f.Add(rawJWS(map[string]any{"alg": "none"}, validClaims(now), nil))
	f.Add("e30.e30.")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := a.Authenticate(context.Background(), metadata.Pairs("authorization", "Bearer "+tok))
		if err == nil && tok != valid {
			// Only a token signed by ed can pass; a fuzzer cannot forge Ed25519.
			if _, verr := jwt.ParseString(tok, jwt.WithKey(jwa.EdDSA(), ed.pub), jwt.WithValidate(false)); verr != nil {
				t.Fatalf("accepted an unverifiable token %q as %+v", tok, p)
			}
		}
	})
}
