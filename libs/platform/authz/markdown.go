package authz

import (
	"slices"
	"strings"
)

// Doc markers around the generated permission table in docs/security.md.
const (
	DocBegin = "<!-- authz table: generated from libs/platform/authz, do not edit -->"
	DocEnd   = "<!-- end of authz table -->"
)

// Markdown renders [Table] as one Markdown table per service: a row per RPC, a column per role
// (admin is always allowed and has no column).
func Markdown() string {
	var b strings.Builder
	cols := Roles[1:]
	service := ""
	for _, m := range Methods() {
		svc, method, _ := strings.Cut(strings.TrimPrefix(m, "/"), "/")
		if svc != service {
			service = svc
			b.WriteString("\n#### " + svc + "\n\n| RPC |")
			for _, r := range cols {
				b.WriteString(" " + r + " |")
			}
			b.WriteString("\n|---|")
			b.WriteString(strings.Repeat("---|", len(cols)))
			b.WriteString("\n")
		}
		b.WriteString("| " + method + " |")
		for _, r := range cols {
			if slices.Contains(Table[m], r) {
				b.WriteString(" ✓ |")
			} else {
				b.WriteString("   |")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}
