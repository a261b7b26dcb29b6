package segment

import (
	"testing"
	"time"
)

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func days(n int) time.Time { return now.Add(-time.Duration(n) * 24 * time.Hour) }

func TestEval(t *testing.T) {
	t.Parallel()
	ann := Person{Object: ObjectLead, ID: "ann", Status: "MARKETING_QUALIFIED", Source: "WEB_FORM", Temperature: "HOT",
		Tags: []string{"enterprise", "eu"}, Score: 75, TerritoryID: "emea", Country: "DE", Industry: "Software", Employees: 500,
		CreatedAt: days(10), UpdatedAt: days(1),
		Touches: []Touch{{CampaignID: "c1", At: days(40)}, {CampaignID: "c1", Kind: KindClicked, At: days(35)},
			{CampaignID: "c2", At: days(5)}, {CampaignID: "c2", Kind: KindOpened, Responded: true, At: days(4)}}}
	bare := Person{Object: ObjectContact, ID: "bob"}
	tests := []struct {
		criteria string
		p        Person
		want     bool
	}{
		{"status in (MQL, SQL)", ann, true},
		{"status in (NEW)", ann, false},
		{"not status in (NEW)", bare, true},
		{"status in (NEW)", bare, false},
		{"source in (web_form)", ann, true},
		{"temperature in (warm)", ann, false},
		{`tag has "ENTERPRISE"`, ann, true},
		{`tag has not "enterprise"`, ann, false},
		{`tag has not "churned"`, ann, true},
		{`tag has not "churned"`, bare, true},
		{"score >= 75 and score <= 75 and score = 75 and score > 74 and score < 76 and score != 1", ann, true},
		{"score > 75", ann, false},
		{"employees >= 500", ann, true},
		{"employees > 0", bare, false},
		{"territory in (emea, apac)", ann, true},
		{"country in (de)", ann, true},
		{"country in (US)", bare, false},
		{"industry in (software)", ann, true},
		{"industry in (software)", bare, false},
		{"created within 10d", ann, true},
		{"created within 9d", ann, false},
		{"updated within 2d", ann, true},
		{"created within 100d", bare, false},
		{`member of campaign "c1"`, ann, true},
		{`member of campaign "c3"`, ann, false},
		{`clicked campaign "c1"`, ann, true},
		{`clicked campaign "c1" within 30d`, ann, false},
		{`clicked campaign "c1" within 35d`, ann, true},
		{`opened campaign "c1"`, ann, false},
		{`responded campaign "c2" within 7d`, ann, true},
		{`responded campaign "c1"`, ann, false},
		{`unsubscribed campaign "c2"`, ann, false},
		{"score > 100 or tag has eu", ann, true},
		{"not (score > 100 or tag has eu)", ann, false},
		{"(score > 100 or tag has eu) and status in (NEW)", ann, false},
	}
	for _, tt := range tests {
		e, err := Parse(tt.criteria)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.criteria, err)
		}
		if got := Eval(e, tt.p, now); got != tt.want {
			t.Errorf("Eval(%q, %s) = %v, want %v", tt.criteria, tt.p.ID, got, tt.want)
		}
	}
}

func TestNeedsTouches(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		"score > 1": false,
		`score > 1 or not member of campaign "x"`: true,
		`(tag has a and converted campaign "y")`:  true,
		`status in (NEW) and created within 3d`:   false,
	} {
		e, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := NeedsTouches(e); got != want {
			t.Errorf("NeedsTouches(%q) = %v", in, got)
		}
	}
}
