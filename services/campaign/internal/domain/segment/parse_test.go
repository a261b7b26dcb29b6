package segment

import (
	"errors"
	"strings"
	"testing"
)

func TestParseCanonical(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"status with prefix and case", "STATUS IN (lead_status_new, Marketing_Qualified)", "status in (NEW, MARKETING_QUALIFIED)"},
		{"status aliases", "status in (mql, SQL, sal)", "status in (MARKETING_QUALIFIED, SALES_QUALIFIED, SALES_ACCEPTED)"},
		{"duplicate values once", "source in (web_form, WEB_FORM, LEAD_SOURCE_WEB_FORM)", "source in (WEB_FORM)"},
		{"temperature", "temperature in (hot, TEMPERATURE_WARM)", "temperature in (HOT, WARM)"},
		{"tag has", `tag has "Enterprise  Plan"`, `tag has "enterprise plan"`},
		{"tag has not bare word", "tag has not churned", `tag has not "churned"`},
		{"score ops", "score >= 60 and score < 90 and score != 70 and score == 5", "score >= 60 and score < 90 and score != 70 and score = 5"},
		{"negative number", "employees > -1", "employees > -1"},
		{"country upper", "country in (us, \"ca\")", "country in (US, CA)"},
		{"industry quoted", `industry in ("Financial Services", software)`, `industry in ("Financial Services", software)`},
		{"territory keyword quoted", `territory in ("and", emea-north)`, `territory in ("and", emea-north)`},
		{"within", "created within 90d and updated within 7D", "created within 90d and updated within 7d"},
		{"member", `member of campaign "c-1"`, `member of campaign "c-1"`},
		{"response within", `clicked campaign "0190f" within 30d`, `clicked campaign "0190f" within 30d`},
		{"response any time", `unsubscribed campaign "x"`, `unsubscribed campaign "x"`},
		{"and binds tighter than or", "score > 1 or score > 2 and score > 3", "score > 1 or score > 2 and score > 3"},
		{"parens kept where needed", "(score > 1 or score > 2) and score > 3", "(score > 1 or score > 2) and score > 3"},
		{"redundant parens dropped", "((score > 1)) and (score > 2 and score > 3)", "score > 1 and score > 2 and score > 3"},
		{"nested or flattened", "score > 1 or (score > 2 or score > 3)", "score > 1 or score > 2 or score > 3"},
		{"not", "not (tag has \"a\" or tag has \"b\")", `not (tag has "a" or tag has "b")`},
		{"not not", "not not score > 1", "not not score > 1"},
		{"not binds tighter than and", "not score > 1 and score > 2", "not score > 1 and score > 2"},
		{"multi line", "status in (NEW)\n  and tag has \"x\"\n", `status in (NEW) and tag has "x"`},
		{"escapes", `tag has "say \"hi\" \\ now"`, `tag has "say \"hi\" \\ now"`},
		{"proto example", "status in (MARKETING_QUALIFIED, SALES_ACCEPTED) and source in (web_form, event)\nand tag has \"enterprise\" and tag has not \"churned\" and score >= 60\nand country in (US, CA) and created within 90d\nand clicked campaign \"0190f\" within 30d",
			`status in (MARKETING_QUALIFIED, SALES_ACCEPTED) and source in (WEB_FORM, EVENT) and tag has "enterprise" and tag has not "churned" and score >= 60 and country in (US, CA) and created within 90d and clicked campaign "0190f" within 30d`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			got := String(e)
			if got != tt.want {
				t.Fatalf("String = %q, want %q", got, tt.want)
			}
			again, err := Parse(got)
			if err != nil || String(again) != got {
				t.Fatalf("canonical text does not round-trip: %q → %v %q", got, err, String(again))
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"empty", "  ", "criteria are empty at 1:3"},
		{"missing close paren", "status in (NEW, MARKETING_QUALIFIED", "expected ',' or ')' at 1:36, found end of criteria"},
		{"unclosed group", "(score > 1 or score > 2 and tag has \"x\"", "expected ')' at 1:40, found end of criteria"},
		{"unknown status", "status in (NEW, HOTT)", `unknown status "HOTT"; expected one of NEW, MARKETING_QUALIFIED, SALES_ACCEPTED, SALES_QUALIFIED, CONVERTED, DISQUALIFIED, RECYCLED at 1:17`},
		{"unknown source", "source in (LEAD_STATUS_NEW)", `unknown source "LEAD_STATUS_NEW"; expected one of WEB_FORM, EVENT, REFERRAL, ADVERTISEMENT, SOCIAL, EMAIL, PARTNER, IMPORT, OTHER at 1:12`},
		{"unknown term", "score > 1 and colour in (red)", "unknown term 'colour'; expected " + termStarts + " at 1:15"},
		{"missing in", "status (NEW)", "expected 'in' at 1:8, found '('"},
		{"missing operator", "score 60", "expected a comparison (=, !=, <, <=, >, >=) at 1:7, found '60'"},
		{"days without unit", "created within 30", "expected a number of days like 30d at 1:16, found '30'"},
		{"zero days", "updated within 0d", "days must be 1 to 36500 at 1:16"},
		{"campaign id unquoted", "member of campaign abc", "expected a campaign id in quotes at 1:20, found 'abc'"},
		{"bad campaign id", `clicked campaign "a b"`, "campaign id must be 1 to 64 characters of A-Z, a-z, 0-9, _ and - at 1:18"},
		{"trailing garbage", "score > 1 score > 2", "expected 'and', 'or' or end of criteria at 1:11, found 'score'"},
		{"dangling and", "score > 1 and", "expected " + termStarts + " at 1:14, found end of criteria"},
		{"second line position", "score > 1\n  and tag hass \"x\"", "expected 'has' at 2:11, found 'hass'"},
		{"unterminated string", `tag has "abc`, "unterminated string at 1:9"},
		{"bad escape", `tag has "a\nb"`, `unknown escape; only \" and \\ are allowed at 1:11`},
		{"bad character", "score > 1 & score < 2", "unexpected character '&' at 1:11"},
		{"lone bang", "score ! 1", "expected '!=' after '!' at 1:7"},
		{"bad country", "country in (USA)", `country "USA" must be a two-letter ISO 3166-1 code at 1:13`},
		{"malformed number", "score > 12abc", `malformed number "12a"; durations are written like 30d at 1:9`},
		{"empty tag", `tag has "  "`, "tag is empty at 1:9"},
		{"columns count runes", `tag has "é" and é`, "unknown term 'é'; expected " + termStarts + " at 1:17"},
		{"deep nesting", strings.Repeat("(", 100) + "score > 1" + strings.Repeat(")", 100), "criteria nested deeper than 64 levels at 1:65"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tt.in)
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %v, want *Error", tt.in, err)
			}
			if err.Error() != tt.want {
				t.Fatalf("error\n got %q\nwant %q", err.Error(), tt.want)
			}
		})
	}
}

func TestCheckObject(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		o    Object
		want string
	}{
		{`tag has "x" and country in (US) and created within 3d and member of campaign "c"`, ObjectContact, ""},
		{`tag has "x" or not score > 3`, ObjectContact, "score applies to leads only; this segment selects contacts at 1:20"},
		{`score > 3`, ObjectLead, ""},
	} {
		e, err := Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if err := CheckObject(e, tt.o); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("CheckObject(%q, %s) = %q, want %q", tt.in, tt.o, got, tt.want)
		}
	}
}
