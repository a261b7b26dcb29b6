package segment

import (
	"testing"
	"time"
)

// FuzzParse checks that no input panics the lexer, parser, printer, evaluator or pushdown, and
// that the canonical text of whatever parses parses back to the same canonical text.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"status in (MARKETING_QUALIFIED, SALES_ACCEPTED) and source in (web_form, event)",
		`tag has "enterprise" and tag has not "churned" and score >= 60`,
		`country in (US, CA) and created within 90d and clicked campaign "0190f" within 30d`,
		`not (member of campaign "a" or opened campaign "b") and employees < 50`,
		`industry in ("Financial Services") or territory in ("and", x-1)`,
		"((score > 1))", "(", ")", "not", `"`, `tag has "\"`, "score > -", "9999999999999999999d",
		"status in (", "updated within 0d", "a\nb", "é", "score >= 1 or",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Parse(%q) error %T, want *Error", s, err)
			}
			return
		}
		canon := String(e)
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", canon, s, err)
		}
		if c2 := String(again); c2 != canon {
			t.Fatalf("canonical text unstable: %q → %q", canon, c2)
		}
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		Eval(e, Person{Tags: []string{"x"}, Touches: []Touch{{CampaignID: "a", Kind: KindOpened, At: at}}}, at)
		Pushdown(e, ObjectLead, at)
		Pushdown(e, ObjectContact, at)
		_ = CheckObject(e, ObjectContact)
	})
}
