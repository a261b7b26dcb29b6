package segment

import (
	"reflect"
	"testing"
)

func ptr(v int64) *int64 { return &v }

func TestPushdown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		criteria string
		o        Object
		want     Filter
	}{
		{"status in (NEW, MQL) and source in (web_form) and temperature in (hot) and territory in (emea)", ObjectLead,
			Filter{Statuses: []string{"NEW", "MARKETING_QUALIFIED"}, Sources: []string{"WEB_FORM"}, Temperatures: []string{"HOT"}, Territories: []string{"emea"}}},
		{"status in (NEW, MQL) and status in (MQL, SQL)", ObjectLead, Filter{Statuses: []string{"MARKETING_QUALIFIED"}}},
		{"status in (NEW) and status in (SQL)", ObjectLead, Filter{Empty: true, Statuses: []string{}}},
		{`tag has "a" and tag has "b" and tag has not "c"`, ObjectLead, Filter{Tag: "a"}},
		{`tag has not "c" and tag has "b"`, ObjectLead, Filter{Tag: "b"}},
		{"score >= 60 and score < 90 and score > 61", ObjectLead, Filter{MinScore: ptr(62), MaxScore: ptr(89)}},
		{"score = 5", ObjectLead, Filter{MinScore: ptr(5), MaxScore: ptr(5)}},
		{"score != 5 and employees > 10", ObjectLead, Filter{}},
		{"score > 10 and score < 5", ObjectLead, Filter{Empty: true, MinScore: ptr(11), MaxScore: ptr(4)}},
		{"created within 30d and created within 10d and updated within 1d", ObjectLead, Filter{CreatedAfter: days(10), UpdatedAfter: days(1)}},
		{"status in (NEW) or score > 5", ObjectLead, Filter{}},
		{"not status in (NEW)", ObjectLead, Filter{}},
		{"status in (NEW)", ObjectLead, Filter{Statuses: []string{"NEW"}}},
		{"(status in (NEW) and score > 1) and tag has x", ObjectLead, Filter{Statuses: []string{"NEW"}, MinScore: ptr(2), Tag: "x"}},
		{"country in (us) and tag has x and created within 2d", ObjectContact, Filter{Country: "US", Tag: "x", CreatedAfter: days(2)}},
		{"country in (us, ca)", ObjectContact, Filter{}},
		{"country in (us) and country in (ca)", ObjectContact, Filter{Empty: true, Country: "CA"}},
		{"country in (us)", ObjectLead, Filter{}},
	}
	for _, tt := range tests {
		e, err := Parse(tt.criteria)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.criteria, err)
		}
		if got := Pushdown(e, tt.o, now); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Pushdown(%q)\n got %+v\nwant %+v", tt.criteria, got, tt.want)
		}
	}
}
