package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/evcrm/evcrm/libs/platform/grpcauth"
)

// The launcher's development identity provider: an Ed25519 key under <data-dir>/auth that signs
// the tokens of the local system. The services verify them with the public JWKS next to it
// (-auth-jwks), exactly as they verify a real identity provider's tokens in production; only the
// key's origin is local. The key stays across runs, so a stored 'crmctl login' keeps working.
const (
	devIssuerName = "https://crmdev.evcrm.local"
	devAudience   = "evcrm"
	// devTokenTTL is how long the printed user tokens and the service credentials live.
	devTokenTTL = 30 * 24 * time.Hour
	// Subjects of the printed tokens.
	adminSubject   = "demo"
	analystSubject = "analyst"
)

// authDir is where the key, the JWKS and the minted tokens live.
func (s *settings) authDir() string { return s.dataPath("auth") }

// tokenFile is the file a minted token is written to: admin.token, analyst.token,
// service-<svc>.token.
func (s *settings) tokenFile(name string) string { return filepath.Join(s.authDir(), name+".token") }

// devIssuer loads (or creates) the launcher's signing key.
func (s *settings) devIssuer() (*grpcauth.DevIssuer, error) {
	iss, err := grpcauth.LoadOrCreateDevIssuer(s.authDir(), devIssuerName, devAudience)
	if err != nil {
		return nil, fmt.Errorf("development auth key in %s: %w", s.authDir(), err)
	}
	return iss, nil
}

// mintDevTokens writes a fresh admin and analyst token of the demo tenant and a service
// credential per service (valid in every tenant, service role only) into the auth dir, readable
// by the user only.
func (s *settings) mintDevTokens() error {
	iss, err := s.devIssuer()
	if err != nil {
		return err
	}
	mint := map[string]grpcauth.TokenClaims{
		// The developer running the launcher is also the platform operator (analytics rebuilds).
		"admin":   {Subject: adminSubject, Tenant: s.Tenant, Roles: []string{"admin", "operator"}, TTL: devTokenTTL},
		"analyst": {Subject: analystSubject, Tenant: s.Tenant, Roles: []string{"analyst"}, TTL: devTokenTTL},
	}
	for _, svc := range services {
		mint["service-"+svc] = grpcauth.TokenClaims{Subject: "svc-" + svc, Roles: []string{grpcauth.RoleService}, TTL: devTokenTTL}
	}
	for name, c := range mint {
		tok, err := iss.Mint(c)
		if err != nil {
			return err
		}
		if err := os.WriteFile(s.tokenFile(name), []byte(tok+"\n"), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// authArgs are the services' authentication flags: JWT with the launcher's JWKS, and the
// service's own credential for calls outside a request (campaign rules calling leads).
func (s *settings) authArgs(svc string) []string {
	return []string{
		"-auth-jwks", filepath.Join(s.authDir(), grpcauth.DevJWKSFile),
		"-auth-issuer", devIssuerName,
		"-auth-audience", devAudience,
		"-service-token-file", s.tokenFile("service-" + svc),
	}
}

// userTokens mints (and caches) a token per user of the demo tenant, so the demo data records
// each simulated sales rep as the actor of their calls, as development auth did.
type userTokens struct {
	iss    *grpcauth.DevIssuer
	tenant string
	mu     sync.Mutex
	toks   map[string]string
}

func newUserTokens(s *settings) (*userTokens, error) {
	iss, err := s.devIssuer()
	if err != nil {
		return nil, err
	}
	return &userTokens{iss: iss, tenant: s.Tenant, toks: map[string]string{}}, nil
}

// token returns an admin token of user in the demo tenant.
func (u *userTokens) token(user string) (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if t, ok := u.toks[user]; ok {
		return t, nil
	}
	t, err := u.iss.Mint(grpcauth.TokenClaims{Subject: user, Tenant: u.tenant, Roles: []string{"admin"}, TTL: 24 * time.Hour})
	if err != nil {
		return "", err
	}
	u.toks[user] = t
	return t, nil
}
