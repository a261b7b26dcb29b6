package natsperm

import (
	"fmt"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
)

// Credential pairs a user's permissions with how its password is given.
type Credential struct {
	Permissions
	// PasswordVar names the environment variable nats-server reads the password from
	// (rendered unquoted, $NAME). Takes precedence over Password.
	PasswordVar string
	// Password is a literal password (tests, the development launcher).
	Password string
}

// PasswordVar is the environment variable holding a user's password in deploy/:
// EVCRM_NATS_<USER>_PASSWORD, upper case, '-' as '_'.
func PasswordVar(user string) string {
	return "EVCRM_NATS_" + strings.ToUpper(strings.ReplaceAll(user, "-", "_")) + "_PASSWORD"
}

// DeployCredentials are the users of deploy/: the service users plus an integration user per
// tenant given, all with passwords from the environment.
func DeployCredentials(integrationTenants ...string) ([]Credential, error) {
	var out []Credential
	for _, p := range ServiceUsers() {
		out = append(out, Credential{Permissions: p, PasswordVar: PasswordVar(p.User)})
	}
	for _, t := range integrationTenants {
		p, err := Integration(t)
		if err != nil {
			return nil, err
		}
		out = append(out, Credential{Permissions: p, PasswordVar: PasswordVar(p.User)})
	}
	return out, nil
}

// RenderConf renders users as a nats-server configuration authorization block.
func RenderConf(users []Credential) string {
	var b strings.Builder
	b.WriteString("authorization {\n  users: [\n")
	for _, u := range users {
		fmt.Fprintf(&b, "    {\n      user: %q\n", u.User)
		if u.PasswordVar != "" {
			fmt.Fprintf(&b, "      password: $%s\n", u.PasswordVar)
		} else {
			fmt.Fprintf(&b, "      password: %q\n", u.Password)
		}
		b.WriteString("      permissions: {\n")
		writeList(&b, "publish", u.Publish, "        ")
		writeList(&b, "subscribe", u.Subscribe, "        ")
		b.WriteString("      }\n    }\n")
	}
	b.WriteString("  ]\n}\n")
	return b.String()
}

// writeList writes one allow list; quoted, because an unquoted $JS... would be read as a
// variable reference.
func writeList(b *strings.Builder, kind string, subjects []string, indent string) {
	fmt.Fprintf(b, "%s%s: {\n%s  allow: [\n", indent, kind, indent)
	for _, s := range subjects {
		fmt.Fprintf(b, "%s    %q\n", indent, s)
	}
	fmt.Fprintf(b, "%s  ]\n%s}\n", indent, indent)
}

// RenderHelmUsers renders users as the YAML list under config.merge.authorization.users of the
// official NATS Helm chart, indented by indent. Password variables use the chart's << $NAME >>
// syntax, which it writes unquoted into nats.conf (a plain "$NAME" string would be quoted and
// taken literally as the password).
func RenderHelmUsers(users []Credential, indent string) string {
	var b strings.Builder
	for _, u := range users {
		fmt.Fprintf(&b, "%s- user: %q\n", indent, u.User)
		if u.PasswordVar != "" {
			fmt.Fprintf(&b, "%s  password: << $%s >>\n", indent, u.PasswordVar)
		} else {
			fmt.Fprintf(&b, "%s  password: %q\n", indent, u.Password)
		}
		fmt.Fprintf(&b, "%s  permissions:\n", indent)
		for _, l := range []struct {
			kind     string
			subjects []string
		}{{"publish", u.Publish}, {"subscribe", u.Subscribe}} {
			fmt.Fprintf(&b, "%s    %s:\n%s      allow:\n", indent, l.kind, indent)
			for _, s := range l.subjects {
				fmt.Fprintf(&b, "%s        - %q\n", indent, s)
			}
		}
	}
	return b.String()
}

// ServerUsers converts users with literal passwords for server.Options.Users of an embedded
// nats-server.
func ServerUsers(users []Credential) []*server.User {
	out := make([]*server.User, len(users))
	for i, u := range users {
		out[i] = &server.User{
			Username: u.User,
			Password: u.Password,
			Permissions: &server.Permissions{
				Publish:   &server.SubjectPermission{Allow: append([]string(nil), u.Publish...)},
				Subscribe: &server.SubjectPermission{Allow: append([]string(nil), u.Subscribe...)},
			},
		}
	}
	return out
}
