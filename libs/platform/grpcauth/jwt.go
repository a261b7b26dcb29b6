package grpcauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/httprc/v3"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"google.golang.org/grpc/metadata"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/reqctx"
)

// MetadataAuthorization carries the bearer token ("Bearer <jwt>"); the REST gateway forwards the
// HTTP Authorization header under the same name.
const MetadataAuthorization = "authorization"

// Claims of an evcrm token besides the registered ones (iss, aud, exp, nbf, sub).
const (
	// ClaimTenant is the tenant id the token acts in.
	ClaimTenant = "tenant"
	// ClaimRoles is the array of role names (libs/platform/authz).
	ClaimRoles = "roles"
	// ClaimTerritories is the array of territory ids the user works (row-level scope,
	// libs/platform/authz.ScopeOf).
	ClaimTerritories = "territories"
	// ClaimTeam is the array of user ids whose records a sales manager oversees (row-level
	// scope); without it a manager oversees the whole tenant.
	ClaimTeam = "team"
	// RoleService marks a service credential: its bearer is another evcrm service, which names
	// the tenant and the actor of the call in x-tenant-id / x-user-id metadata.
	RoleService = "service"
)

// MaxTokenLen bounds the bearer token accepted, so a huge header costs nothing to reject.
const MaxTokenLen = 8 << 10

// acceptedAlgs are the JWS algorithms a token may be signed with. Anything else — none, HS*
// (whose "secret" would be the public key) — is refused before any key is looked at.
var acceptedAlgs = map[string]bool{"EdDSA": true, "RS256": true, "ES256": true}

// JWTConfig configures [NewJWT].
type JWTConfig struct {
	// JWKS is the key set that signs tokens: a file path, or an http(s):// URL fetched at start
	// and refreshed in the background.
	JWKS string
	// Issuer must equal the token's iss claim.
	Issuer string
	// Audience must be one of the token's aud values.
	Audience string
	// ClockSkew is the tolerance on exp and nbf for clocks that disagree.
	ClockSkew time.Duration
	// RefreshInterval is the shortest time between fetches of a JWKS URL (the server's
	// Cache-Control may lengthen it up to a day); zero means 5 minutes.
	RefreshInterval time.Duration
	// Now is the clock the token times are checked against; nil means time.Now.
	Now func() time.Time
}

// JWT authenticates calls by a bearer JWT signed by a key of a JWKS. The principal's tenant and
// roles come from the token only; see [JWT.Authenticate] for service credentials.
type JWT struct {
	cfg   JWTConfig
	keys  jwk.Set
	cache *jwk.Cache
}

// NewJWT loads the key set (fetching it once when it is a URL, so a wrong URL fails the start)
// and returns the authenticator. Close stops the refresh of a URL key set.
func NewJWT(ctx context.Context, cfg JWTConfig) (*JWT, error) {
	switch {
	case cfg.JWKS == "":
		return nil, errors.New("grpcauth: JWT needs a JWKS (file or URL)")
	case cfg.Issuer == "" || cfg.Audience == "":
		// Without both, a token minted by the same IdP for another application would be accepted.
		return nil, errors.New("grpcauth: JWT needs an issuer and an audience")
	case cfg.ClockSkew < 0:
		return nil, errors.New("grpcauth: negative clock skew")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	j := &JWT{cfg: cfg}
	if strings.HasPrefix(cfg.JWKS, "https://") || strings.HasPrefix(cfg.JWKS, "http://") {
		every := cfg.RefreshInterval
		if every <= 0 {
			every = 5 * time.Minute
		}
		cache, err := jwk.NewCache(context.WithoutCancel(ctx), httprc.NewClient())
		if err != nil {
			return nil, fmt.Errorf("grpcauth: JWKS cache: %w", err)
		}
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := cache.Register(rctx, cfg.JWKS, jwk.WithMinInterval(every), jwk.WithMaxInterval(24*time.Hour)); err != nil {
			_ = cache.Shutdown(context.Background())
			return nil, fmt.Errorf("grpcauth: fetch JWKS %s: %w", cfg.JWKS, err)
		}
		set, err := cache.CachedSet(cfg.JWKS)
		if err != nil {
			_ = cache.Shutdown(context.Background())
			return nil, fmt.Errorf("grpcauth: JWKS %s: %w", cfg.JWKS, err)
		}
		j.keys, j.cache = set, cache
	} else {
		set, err := jwk.ReadFile(cfg.JWKS)
		if err != nil {
			return nil, fmt.Errorf("grpcauth: read JWKS file %s: %w", cfg.JWKS, err)
		}
		j.keys = set
	}
	if err := checkPublic(j.keys); err != nil {
		j.Close()
		return nil, err
	}
	return j, nil
}

// checkPublic refuses a key set without keys or holding a symmetric or private key: the services
// only verify, and a secret in a JWKS file the services read is a secret leaked.
func checkPublic(set jwk.Set) error {
	if set.Len() == 0 {
		return errors.New("grpcauth: the JWKS holds no key")
	}
	for i := range set.Len() {
		k, _ := set.Key(i)
		// IsPrivateKey fails for symmetric keys, which are as secret as private ones.
		if priv, err := jwk.IsPrivateKey(k); err != nil || priv {
			return errors.New("grpcauth: the JWKS must hold public keys only (no private or symmetric keys)")
		}
	}
	return nil
}

// Close stops refreshing a URL key set; it is safe to call on any JWT.
func (j *JWT) Close() {
	if j.cache != nil {
		_ = j.cache.Shutdown(context.Background())
	}
}

// Authenticate verifies the bearer token of the call and returns its principal: tenant from the
// tenant claim, actor id from sub, roles from roles. An x-tenant-id in the metadata must agree with
// the token (a proxy cannot switch tenants) and is otherwise ignored; x-user-id and x-roles are
// ignored.
//
// A service credential (roles contains "service") is the exception: it proves that another evcrm
// service calls, which acts for the tenant and actor it names in x-tenant-id / x-user-id (campaign's
// rule engine acting in a tenant). If the credential has a tenant claim, it is limited to it.
func (j *JWT) Authenticate(_ context.Context, md metadata.MD) (Principal, error) {
	raw, err := bearer(md)
	if err != nil {
		return Principal{}, err
	}
	tok, err := j.Verify(raw)
	if err != nil {
		return Principal{}, err
	}
	sub, _ := tok.Subject()
	var tenant string
	if tok.Has(ClaimTenant) {
		if err := tok.Get(ClaimTenant, &tenant); err != nil {
			return Principal{}, unauth("TOKEN_INVALID", "the token's tenant claim is not a string")
		}
	}
	roles, err := stringsClaim(tok, ClaimRoles)
	if err != nil {
		return Principal{}, err
	}
	territories, err := stringsClaim(tok, ClaimTerritories)
	if err != nil {
		return Principal{}, err
	}
	team, err := stringsClaim(tok, ClaimTeam)
	if err != nil {
		return Principal{}, err
	}
	mdTenant, err := single(md, MetadataTenant)
	if err != nil {
		return Principal{}, err
	}
	if slices.Contains(roles, RoleService) {
		if tenant != "" && mdTenant != tenant {
			return Principal{}, &apperr.Error{Kind: apperr.PermissionDenied, Reason: "TENANT_FORBIDDEN",
				Message: "the service credential is limited to another tenant"}
		}
		user, err := single(md, MetadataUser)
		if err != nil {
			return Principal{}, err
		}
		if user == "" {
			user = sub
		}
		// Only the service role: a credential never gains a user's roles from metadata.
		return Principal{Tenant: mdTenant, Actor: reqctx.Actor{Type: reqctx.ActorService, ID: user,
			Roles: []string{RoleService}}}, nil
	}
	if tenant == "" {
		return Principal{}, unauth("TENANT_MISSING", "the token has no tenant claim")
	}
	if mdTenant != "" && mdTenant != tenant {
		return Principal{}, &apperr.Error{Kind: apperr.PermissionDenied, Reason: "TENANT_FORBIDDEN",
			Message: "the token does not allow acting in the requested tenant"}
	}
	return Principal{Tenant: tenant, Actor: reqctx.Actor{Type: reqctx.ActorUser, ID: sub, Roles: roles,
		Territories: territories, Team: team}}, nil
}

// Verify checks raw's algorithm, signature, issuer, audience, exp and nbf (with the configured
// skew) and returns the token. exp and sub are required. Errors are Unauthenticated apperrs.
func (j *JWT) Verify(raw string) (jwt.Token, error) {
	if len(raw) > MaxTokenLen {
		return nil, unauth("TOKEN_INVALID", "the bearer token is too long")
	}
	alg, err := headerAlg(raw)
	if err != nil {
		return nil, unauth("TOKEN_INVALID", "the bearer token is not a JWS compact token")
	}
	if !acceptedAlgs[alg] {
		return nil, unauth("TOKEN_INVALID", "the token's signing algorithm is not accepted")
	}
	tok, err := jwt.ParseString(raw,
		// The key's own alg, or the algorithms its type allows (an RSA key never verifies
		// HS256); the header alg was checked against the allowlist above.
		jwt.WithKeySet(j.keys, jws.WithInferAlgorithmFromKey(true)),
		jwt.WithValidate(true),
		jwt.WithIssuer(j.cfg.Issuer),
		jwt.WithAudience(j.cfg.Audience),
		jwt.WithAcceptableSkew(j.cfg.ClockSkew),
		jwt.WithClock(jwt.ClockFunc(j.cfg.Now)),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
		jwt.WithRequiredClaim(jwt.SubjectKey),
	)
	switch {
	case err == nil:
		return tok, nil
	case errors.Is(err, jwt.TokenExpiredError()):
		return nil, unauth("TOKEN_EXPIRED", "the token has expired")
	case errors.Is(err, jwt.TokenNotYetValidError()):
		return nil, unauth("TOKEN_NOT_YET_VALID", "the token is not valid yet")
	case errors.Is(err, jwt.InvalidIssuerError()), errors.Is(err, jwt.InvalidAudienceError()):
		return nil, unauth("TOKEN_WRONG_AUDIENCE", "the token was issued by another issuer or for another audience")
	default:
		// Signature, key, format: the details help an attacker more than a user.
		return nil, unauth("TOKEN_INVALID", "the bearer token is not valid")
	}
}

func unauth(reason, msg string) error {
	return &apperr.Error{Kind: apperr.Unauthenticated, Reason: reason, Message: msg}
}

// bearer returns the token of the call's single authorization value.
func bearer(md metadata.MD) (string, error) {
	vs := md.Get(MetadataAuthorization)
	if len(vs) == 0 {
		return "", unauth("TOKEN_MISSING", "the call has no bearer token (authorization metadata)")
	}
	// grpc-gateway forwards the HTTP Authorization header twice (its built-in rule and the header
	// matcher); identical copies are one credential, different ones are refused.
	for _, v := range vs[1:] {
		if v != vs[0] {
			return "", unauth("TOKEN_INVALID", "the call has more than one authorization value")
		}
	}
	scheme, tok, ok := strings.Cut(strings.TrimSpace(vs[0]), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") || strings.TrimSpace(tok) == "" {
		return "", unauth("TOKEN_INVALID", `the authorization value must be "Bearer <token>"`)
	}
	return strings.TrimSpace(tok), nil
}

// headerAlg reads the alg of a compact JWS's protected header.
func headerAlg(raw string) (string, error) {
	h, _, ok := strings.Cut(raw, ".")
	if !ok {
		return "", errors.New("no header")
	}
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return "", err
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(b, &hdr); err != nil {
		return "", err
	}
	return hdr.Alg, nil
}

// stringsClaim returns the array of strings in claim name; nil when the token lacks it. A
// present claim is never nil, so an empty team ([]) is told from no team claim at all.
func stringsClaim(tok jwt.Token, name string) ([]string, error) {
	if !tok.Has(name) {
		return nil, nil
	}
	var v any
	if err := tok.Get(name, &v); err != nil {
		return nil, unauth("TOKEN_INVALID", "the token's "+name+" claim cannot be read")
	}
	list, ok := v.([]any)
	if !ok {
		return nil, unauth("TOKEN_INVALID", "the token's "+name+" claim must be an array of strings")
	}
	out := make([]string, 0, len(list))
	for _, r := range list {
		s, ok := r.(string)
		if !ok {
			return nil, unauth("TOKEN_INVALID", "the token's "+name+" claim must be an array of strings")
		}
		out = append(out, s)
	}
	return out, nil
}
