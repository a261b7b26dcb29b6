package grpcauth

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Files of a development key directory ([LoadOrCreateDevIssuer]).
const (
	// DevSigningKeyFile holds the private Ed25519 JWK (mode 0600).
	DevSigningKeyFile = "signing-key.jwk"
	// DevJWKSFile holds the public JWKS the services verify with (-auth-jwks).
	DevJWKSFile = "jwks.json"
)

// TokenClaims are the claims [DevIssuer.Mint] puts into a token.
type TokenClaims struct {
	// Subject is the user id (sub).
	Subject string
	// Tenant is the tenant id; empty only for a service credential valid in every tenant.
	Tenant string
	// Roles are the role names.
	Roles []string
	// Territories and Team, when not nil, become the territories and team claims (row-level
	// scope, libs/platform/authz.ScopeOf).
	Territories, Team []string
	// TTL is how long the token is valid from now.
	TTL time.Duration
	// NotBefore, when set, is the token's nbf.
	NotBefore time.Time
}

// DevIssuer mints Ed25519-signed tokens. It exists for the development launcher, crmctl against a
// local launcher, and tests; production tokens come from an identity provider whose JWKS the
// services are configured with.
type DevIssuer struct {
	// Issuer and Audience go into every token (iss, aud).
	Issuer, Audience string
	key              jwk.Key
}

// NewDevIssuer returns an issuer with a fresh Ed25519 key.
func NewDevIssuer(issuer, audience string) (*DevIssuer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	key, err := jwk.Import(priv)
	if err != nil {
		return nil, err
	}
	kid := make([]byte, 8)
	if _, err := rand.Read(kid); err != nil {
		return nil, err
	}
	if err := key.Set(jwk.KeyIDKey, "dev-"+hex.EncodeToString(kid)); err != nil {
		return nil, err
	}
	if err := key.Set(jwk.AlgorithmKey, jwa.EdDSA()); err != nil {
		return nil, err
	}
	return &DevIssuer{Issuer: issuer, Audience: audience, key: key}, nil
}

// LoadOrCreateDevIssuer reads the signing key in dir, creating dir, the key and the public JWKS
// ([DevJWKSFile]) when the key does not exist yet, so tokens minted by one launcher run stay
// valid in the next.
func LoadOrCreateDevIssuer(dir, issuer, audience string) (*DevIssuer, error) {
	keyPath := filepath.Join(dir, DevSigningKeyFile)
	raw, err := os.ReadFile(keyPath)
	switch {
	case err == nil:
		key, err := jwk.ParseKey(raw)
		if err != nil {
			return nil, fmt.Errorf("grpcauth: %s: %w", keyPath, err)
		}
		d := &DevIssuer{Issuer: issuer, Audience: audience, key: key}
		// Rewritten each time: the JWKS is derived, and a deleted or edited one is repaired.
		return d, d.writeJWKS(dir)
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	d, err := NewDevIssuer(issuer, audience)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	b, err := json.Marshal(d.key)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(keyPath, b, 0o600); err != nil {
		return nil, err
	}
	return d, d.writeJWKS(dir)
}

func (d *DevIssuer) writeJWKS(dir string) error {
	b, err := d.JWKS()
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, DevJWKSFile), b, 0o644)
}

// JWKS returns the public key set that verifies the issuer's tokens.
func (d *DevIssuer) JWKS() ([]byte, error) {
	pub, err := d.key.PublicKey()
	if err != nil {
		return nil, err
	}
	set := jwk.NewSet()
	if err := set.AddKey(pub); err != nil {
		return nil, err
	}
	return json.MarshalIndent(set, "", "  ")
}

// Mint returns a signed token with c's claims, the issuer's iss and aud, iat now and exp now+TTL.
func (d *DevIssuer) Mint(c TokenClaims) (string, error) {
	if c.Subject == "" || c.TTL <= 0 {
		return "", errors.New("grpcauth: a token needs a subject and a positive TTL")
	}
	now := time.Now()
	b := jwt.NewBuilder().Issuer(d.Issuer).Audience([]string{d.Audience}).Subject(c.Subject).
		IssuedAt(now).Expiration(now.Add(c.TTL))
	if !c.NotBefore.IsZero() {
		b = b.NotBefore(c.NotBefore)
	}
	if c.Tenant != "" {
		b = b.Claim(ClaimTenant, c.Tenant)
	}
	roles := c.Roles
	if roles == nil {
		roles = []string{}
	}
	if c.Territories != nil {
		b = b.Claim(ClaimTerritories, c.Territories)
	}
	if c.Team != nil {
		b = b.Claim(ClaimTeam, c.Team)
	}
	tok, err := b.Claim(ClaimRoles, roles).Build()
	if err != nil {
		return "", err
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.EdDSA(), d.key))
	if err != nil {
		return "", err
	}
	return string(signed), nil
}
