package cli

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// tokenClaims are the claims crmctl reads from a token to show it and to default --tenant and
// --user. crmctl does not verify the signature: the services do, and crmctl has no keys.
type tokenClaims struct {
	Subject string   `json:"sub"`
	Tenant  string   `json:"tenant"`
	Roles   []string `json:"roles"`
	Expiry  int64    `json:"exp"`
	Issuer  string   `json:"iss"`
}

// parseClaims decodes the payload of a compact JWT without verifying it.
func parseClaims(tok string) (tokenClaims, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return tokenClaims{}, errors.New("not a JWT (header.payload.signature)")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return tokenClaims{}, fmt.Errorf("not a JWT: payload: %w", err)
	}
	var c tokenClaims
	if err := json.Unmarshal(b, &c); err != nil {
		return tokenClaims{}, fmt.Errorf("not a JWT: payload: %w", err)
	}
	return c, nil
}

// tokenPath is where 'crmctl login' stores the token: $EVCRM_CONFIG_DIR/token, or the user
// config directory's evcrm/token (~/.config/evcrm/token on Linux).
func (a *app) tokenPath() (string, error) {
	if d := a.getenv("EVCRM_CONFIG_DIR"); d != "" {
		return filepath.Join(d, "token"), nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "evcrm", "token"), nil
}

// storedToken returns the token 'crmctl login' stored, or "" when there is none.
func (a *app) storedToken() string {
	p, err := a.tokenPath()
	if err != nil {
		return ""
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// resolveIdentity picks the token (--token / EVCRM_TOKEN, else the stored one) and, unless
// --tenant / --user (or their env variables) were given, takes tenant and user from it, so
// the x-tenant-id crmctl sends agrees with the token and events tail reads the right tenant.
func (a *app) resolveIdentity(cmd *cobra.Command) {
	if a.token == "" {
		a.token = a.storedToken()
	}
	if a.token == "" {
		return
	}
	c, err := parseClaims(a.token)
	if err != nil {
		return // the services will say what is wrong with it
	}
	if c.Tenant != "" && !cmd.Flags().Changed("tenant") && a.getenv("EVCRM_TENANT") == "" {
		a.tenant = c.Tenant
	}
	if c.Subject != "" && !cmd.Flags().Changed("user") && a.getenv("EVCRM_USER") == "" {
		a.user = c.Subject
	}
}

func (a *app) loginCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "login",
		Short: "Store a bearer token for later commands",
		Long: `login stores a bearer token (a JWT) in the user config directory
(~/.config/evcrm/token on Linux, or $EVCRM_CONFIG_DIR/token), readable by the user only.
Later commands send it when neither --token nor EVCRM_TOKEN is given, and take --tenant and
--user from it. The token is --token, or read from standard input (the launcher prints one).`,
		Example: `  crmctl login --token "$ADMIN_TOKEN"
  pbpaste | crmctl login`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tok := ""
			if cmd.Flags().Changed("token") || a.getenv("EVCRM_TOKEN") != "" {
				tok = a.token
			} else {
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if err != nil && !errors.Is(err, io.EOF) {
					return err
				}
				tok = strings.TrimSpace(line)
			}
			tok = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(tok), "Bearer "))
			claims, err := parseClaims(tok)
			if err != nil {
				return fmt.Errorf("login: %w", err)
			}
			if claims.Expiry != 0 && time.Unix(claims.Expiry, 0).Before(time.Now()) {
				return fmt.Errorf("login: the token expired at %s", time.Unix(claims.Expiry, 0).UTC().Format(time.RFC3339))
			}
			p, err := a.tokenPath()
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
				return err
			}
			if err := os.WriteFile(p, []byte(tok+"\n"), 0o600); err != nil {
				return err
			}
			exp := "never"
			if claims.Expiry != 0 {
				exp = time.Unix(claims.Expiry, 0).UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(a.stderr, "logged in as %s in tenant %s (roles %s; expires %s); token stored in %s\n",
				claims.Subject, claims.Tenant, strings.Join(claims.Roles, ","), exp, p)
			return nil
		},
	}
	return c
}

func (a *app) logoutCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Remove the token stored by login",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			p, err := a.tokenPath()
			if err != nil {
				return err
			}
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			fmt.Fprintln(a.stderr, "logged out")
			return nil
		},
	}
}
