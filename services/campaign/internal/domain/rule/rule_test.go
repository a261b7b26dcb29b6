package rule_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/rule"
)

func str() *rule.Field     { return &rule.Field{Kind: rule.KindString} }
func num() *rule.Field     { return &rule.Field{Kind: rule.KindNumber} }
func boolean() *rule.Field { return &rule.Field{Kind: rule.KindBool} }

// leadSchema is a small stand-in for crm.leads.v1.Lead.
func leadSchema() *rule.Field {
	return &rule.Field{Kind: rule.KindMessage, Fields: map[string]*rule.Field{
		"id": str(), "country": str(), "status": str(), "owner_id": str(), "do_not_contact": boolean(),
		"tags": {Kind: rule.KindString, Repeated: true},
		"score": {Kind: rule.KindMessage, Scalar: "total", Fields: map[string]*rule.Field{
			"total": num(), "fit": num(), "temperature": str()}},
		"custom_fields": {Kind: rule.KindMap},
	}}
}

func catalog() rule.Catalog {
	return rule.Catalog{
		"LeadCreated": {Payload: &rule.Field{Kind: rule.KindMessage, Fields: map[string]*rule.Field{"lead": leadSchema()}},
			Record: leadSchema(), RecordType: rule.RecordLead},
		"LeadStatusChanged": {Payload: &rule.Field{Kind: rule.KindMessage, Fields: map[string]*rule.Field{"from": str(), "to": str()}},
			Record: leadSchema(), RecordType: rule.RecordLead},
		"OpportunityWon": {Payload: &rule.Field{Kind: rule.KindMessage, Fields: map[string]*rule.Field{"amount": str()}}},
	}
}

func values() rule.Values {
	lead := map[string]any{"id": "l1", "country": "US", "status": "MARKETING_QUALIFIED", "owner_id": "u1",
		"do_not_contact": false, "tags": []any{"vip", "webinar"},
		"score":         map[string]any{"total": "72", "fit": 30.0, "temperature": "HOT"},
		"custom_fields": map[string]any{"region": map[string]any{"string_value": "west"}}}
	return rule.Values{Event: map[string]any{"from": "NEW", "to": "MARKETING_QUALIFIED"}, Record: lead}
}

func TestConditionEval(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cond string
		want bool
	}{
		{``, true},
		{`record.country == "US"`, true},
		{`record.country == 'DE'`, false},
		{`record.country != "DE"`, true},
		{`event.to == "MARKETING_QUALIFIED" and record.score >= 60 and record.tags has "vip"`, true},
		{`record.score.total > 72`, false},
		{`record.score.total <= 72`, true},
		{`record.score.fit < 30.5`, true},
		{`record.tags has "cold"`, false},
		{`not record.tags has "cold"`, true},
		{`record.country in ("DE", "US", "FR")`, true},
		{`record.country in ("DE")`, false},
		{`record.do_not_contact`, false},
		{`not record.do_not_contact`, true},
		{`record.do_not_contact == false`, true},
		{`record.country == "DE" or (record.status == "MARKETING_QUALIFIED" and record.owner_id == "u1")`, true},
		{`record.country == "DE" or record.status == "NEW"`, false},
		{`not (record.country == "DE" or record.status == "NEW")`, true},
		{`record.custom_fields.region.string_value == "west"`, true},
		{`record.custom_fields.missing == null`, true},
		{`record.custom_fields.missing > 3`, false},
		{`record.status >= "M"`, true},
		{`true`, true},
		{`false or record.score.temperature == "HOT"`, true},
		{`-1 < record.score`, true},
	}
	for _, tc := range tests {
		t.Run(tc.cond, func(t *testing.T) {
			t.Parallel()
			c, err := rule.Compile(tc.cond, catalog()["LeadStatusChanged"])
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.Holds(values()))
		})
	}
}

func TestConditionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cond, trigger string
		pos           int
		msg           string
	}{
		{`record.contry == "US"`, "LeadCreated", 8, "unknown field record.contry"},
		{`event.lead.score.totl > 3`, "LeadCreated", 18, "unknown field event.lead.score.totl"},
		{`record.country = "US"`, "LeadCreated", 16, "use =="},
		{`record.country == `, "LeadCreated", 19, "expected a value"},
		{`record.country == "US`, "LeadCreated", 19, "unterminated string"},
		{`(record.country == "US"`, "LeadCreated", 24, "expected )"},
		{`record.country == US`, "LeadCreated", 19, "unknown name \"US\""},
		{`record.tags == "vip"`, "LeadCreated", 13, "use has"},
		{`record.country has "US"`, "LeadCreated", 16, "needs a list"},
		{`record.country`, "LeadCreated", 1, "not true/false"},
		{`record.amount == 3`, "OpportunityWon", 1, "no record"},
		{`record.do_not_contact > true`, "LeadCreated", 23, "does not apply"},
		{`record.country in ("US",)`, "LeadCreated", 25, "expected a value"},
		{`record.country == "US" and`, "LeadCreated", 27, "expected a value"},
		{`record == "x"`, "LeadCreated", 1, "needs a field"},
		{`record.country == "US" @`, "LeadCreated", 24, "unexpected character"},
		{`"x"`, "LeadCreated", 1, "must be true or false"},
		{`event.lead == "x"`, "LeadCreated", 12, "compares a message"},
	}
	for _, tc := range tests {
		t.Run(tc.cond, func(t *testing.T) {
			t.Parallel()
			_, err := rule.Compile(tc.cond, catalog()[tc.trigger])
			require.Error(t, err)
			var se *rule.SyntaxError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.pos, se.Pos, err.Error())
			assert.Contains(t, se.Msg, tc.msg)
		})
	}
}

func TestConditionDepthBounded(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("(", 200) + "true" + strings.Repeat(")", 200)
	assert.ErrorContains(t, rule.Parse(deep), "nested too deeply")
	assert.ErrorContains(t, rule.Parse(strings.Repeat("not ", 200)+"true"), "nested too deeply")
}

func def() rule.Definition {
	return rule.Definition{Name: "US leads", EventType: "LeadCreated", Condition: `record.country == "US"`, Enabled: true,
		Actions: []rule.Action{{Kind: rule.ActionAddTag, Tag: "us-lead"}}}
}

func fields(t *testing.T, err error) map[string]string {
	t.Helper()
	e, ok := apperr.As(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, apperr.Invalid, e.Kind)
	out := map[string]string{}
	for _, f := range e.Fields {
		out[f.Field] = f.Description
	}
	return out
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*rule.Definition)
		field  string
		msg    string
	}{
		{"no name", func(d *rule.Definition) { d.Name = " " }, "name", "required"},
		{"long name", func(d *rule.Definition) { d.Name = strings.Repeat("x", 256) }, "name", "at most"},
		{"no trigger", func(d *rule.Definition) { d.EventType = "" }, "trigger.event_type", "required"},
		{"unknown trigger", func(d *rule.Definition) { d.EventType = "LeadExploded" }, "trigger.event_type", "unknown event type"},
		{"unknown field", func(d *rule.Definition) { d.Condition = `record.contry == "US"` }, "condition", "column 8: unknown field record.contry"},
		{"bad syntax, unknown trigger", func(d *rule.Definition) { d.EventType = "X"; d.Condition = `((` }, "condition", "column 3"},
		{"no actions", func(d *rule.Definition) { d.Actions = nil }, "actions", "at least one"},
		{"eleven actions", func(d *rule.Definition) {
			d.Actions = make([]rule.Action, 11)
			for i := range d.Actions {
				d.Actions[i] = rule.Action{Kind: rule.ActionAddTag, Tag: "t"}
			}
		}, "actions", "at most 10"},
		{"empty action", func(d *rule.Definition) { d.Actions = []rule.Action{{}} }, "actions[0]", "set one action"},
		{"tag missing", func(d *rule.Definition) { d.Actions[0].Tag = "" }, "actions[0].add_tag.tag", "required"},
		{"campaign id bad", func(d *rule.Definition) {
			d.Actions = append(d.Actions, rule.Action{Kind: rule.ActionAddToCampaign, CampaignID: "a b"})
		}, "actions[1].add_to_campaign.campaign_id", "A-Z"},
		{"owner and territory", func(d *rule.Definition) {
			d.Actions = []rule.Action{{Kind: rule.ActionAssignOwner, OwnerID: "u", TerritoryID: "t"}}
		}, "actions[0].assign_owner.territory_id", "not both"},
		{"no owner", func(d *rule.Definition) { d.Actions = []rule.Action{{Kind: rule.ActionAssignOwner}} }, "actions[0].assign_owner.owner_id", "set owner_id"},
		{"task subject", func(d *rule.Definition) {
			d.Actions = []rule.Action{{Kind: rule.ActionCreateTask, DueIn: -time.Hour}}
		}, "actions[0].create_task.subject", "required"},
		{"task due", func(d *rule.Definition) {
			d.Actions = []rule.Action{{Kind: rule.ActionCreateTask, Subject: "call", DueIn: -time.Hour}}
		}, "actions[0].create_task.due_in", "between"},
		{"auto respond template", func(d *rule.Definition) {
			d.Actions = []rule.Action{{Kind: rule.ActionAutoRespond, CampaignID: "c1"}}
		}, "actions[0].auto_respond.template_id", "required"},
		{"notify message", func(d *rule.Definition) {
			d.Actions = []rule.Action{{Kind: rule.ActionNotify, Recipient: "owner"}}
		}, "actions[0].notify.message", "required"},
		{"tag without a lead", func(d *rule.Definition) { d.EventType = "OpportunityWon"; d.Condition = "" }, "actions[0]", "needs an event about a lead"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := def()
			d.Actions = append([]rule.Action(nil), d.Actions...)
			tc.change(&d)
			err := rule.Validate(d, catalog())
			require.Error(t, err)
			got := fields(t, err)
			require.Contains(t, got, tc.field, "violations: %v", got)
			assert.Contains(t, got[tc.field], tc.msg)
		})
	}
	require.NoError(t, rule.Validate(def(), catalog()))
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cat := catalog()
	s := rule.Rule{ID: "r1"}
	evs, err := rule.Create(s, "r1", def(), cat, now)
	require.NoError(t, err)
	for _, e := range evs {
		s = rule.Apply(s, e)
	}
	assert.Equal(t, uint64(1), s.Version)
	assert.True(t, s.Enabled)
	assert.Equal(t, now, s.CreatedAt)

	_, err = rule.Create(s, "r1", def(), cat, now)
	assert.Equal(t, apperr.AlreadyExists, apperr.KindOf(err))

	evs, err = rule.Update(s, def(), cat, now)
	require.NoError(t, err)
	assert.Empty(t, evs, "unchanged definition")

	d := def()
	d.Enabled = false // ignored by Update
	d.Actions = []rule.Action{{Kind: rule.ActionRemoveTag, Tag: "cold"}}
	later := now.Add(time.Hour)
	evs, err = rule.Update(s, d, cat, later)
	require.NoError(t, err)
	s = rule.Apply(s, evs[0])
	assert.Equal(t, uint64(2), s.Version)
	assert.True(t, s.Enabled)
	assert.Equal(t, now, s.CreatedAt)
	assert.Equal(t, later, s.UpdatedAt)

	evs, err = rule.SetEnabled(s, true, later)
	require.NoError(t, err)
	assert.Empty(t, evs)
	evs, err = rule.SetEnabled(s, false, later)
	require.NoError(t, err)
	s = rule.Apply(s, evs[0])
	assert.False(t, s.Enabled)

	evs, err = rule.Delete(s, later)
	require.NoError(t, err)
	s = rule.Apply(s, evs[0])
	assert.False(t, s.Exists())
	_, err = rule.Delete(s, later)
	assert.Equal(t, apperr.NotFound, apperr.KindOf(err))
	_, err = rule.Update(s, def(), cat, later)
	assert.Equal(t, apperr.NotFound, apperr.KindOf(err))
}

func TestDecide(t *testing.T) {
	t.Parallel()
	r := rule.Rule{ID: "r1", Version: 1, Enabled: true, EventType: "LeadCreated",
		Actions: []rule.Action{{Kind: rule.ActionAddTag, Tag: "us-lead"}}}
	c, err := rule.Compile(`record.country == "US"`, catalog()["LeadCreated"])
	require.NoError(t, err)
	us := rule.Values{Record: map[string]any{"country": "US"}}
	de := rule.Values{Record: map[string]any{"country": "DE"}}

	d, ok := rule.Decide(r, c, "LeadCreated", us, false)
	require.True(t, ok)
	assert.Equal(t, rule.OutcomeFired, d.Outcome)
	assert.Equal(t, r.Actions, d.Actions)

	d, _ = rule.Decide(r, c, "LeadCreated", de, false)
	assert.Equal(t, rule.Decision{Outcome: rule.OutcomeSkipped}, d)

	d, _ = rule.Decide(r, c, "LeadCreated", us, true)
	assert.Equal(t, rule.Decision{Outcome: rule.OutcomeCycleStopped}, d)

	_, ok = rule.Decide(r, c, "LeadStatusChanged", us, false)
	assert.False(t, ok, "other trigger")
	off := r
	off.Enabled = false
	_, ok = rule.Decide(off, c, "LeadCreated", us, false)
	assert.False(t, ok, "disabled")
}

func TestKeys(t *testing.T) {
	t.Parallel()
	k := rule.ActionKey("r1", "0190-e1", 2)
	assert.Equal(t, "rule:r1:0190-e1:2", k)
	for _, key := range []string{k, k + "/lead-7", "resp:" + k} {
		r, e, ok := rule.ParseActionKey(key)
		assert.True(t, ok)
		assert.Equal(t, "r1", r)
		assert.Equal(t, "0190-e1", e)
	}
	for _, key := range []string{"", "rule:", "rule:r1", "rule:r1:e1", "req-123", "rule::e:1"} {
		_, _, ok := rule.ParseActionKey(key)
		assert.False(t, ok, key)
	}
	assert.Equal(t, rule.RunID("r1", "e1"), rule.RunID("r1", "e1"))
	assert.NotEqual(t, rule.RunID("r1", "e1"), rule.RunID("r1", "e2"))
	assert.Len(t, rule.RunID("r1", "e1"), 32)
	assert.Equal(t, `add_tag us-lead`, rule.Describe(rule.Action{Kind: rule.ActionAddTag, Tag: "us-lead"}))
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`record.country == "US"`,
		`event.to == "MARKETING_QUALIFIED" and record.score >= 60 and record.tags has "vip"`,
		`not (record.country in ("DE", 'FR') or record.do_not_contact)`,
		`record.score.total > -1.5e3`,
		`"a\"b" == event.x`, `((`, `record.`, `== ==`, `record.tags has`, "\xff", `'unterminated`,
	} {
		f.Add(s)
	}
	schema := catalog()["LeadStatusChanged"]
	f.Fuzz(func(t *testing.T, src string) {
		perr := rule.Parse(src)
		c, cerr := rule.Compile(src, schema)
		if perr != nil && cerr == nil {
			t.Fatalf("Parse failed (%v) but Compile accepted %q", perr, src)
		}
		if cerr != nil {
			var se *rule.SyntaxError
			if !errorsAs(cerr, &se) || se.Pos < 1 {
				t.Fatalf("Compile(%q) = %v, want a positioned SyntaxError", src, cerr)
			}
			return
		}
		_ = c.Holds(values()) // must not panic
		_ = c.Holds(rule.Values{})
	})
}

func BenchmarkConditionEval(b *testing.B) {
	c, err := rule.Compile(`event.to == "MARKETING_QUALIFIED" and record.score >= 60 and record.tags has "vip" and not record.do_not_contact`,
		catalog()["LeadStatusChanged"])
	require.NoError(b, err)
	v := values()
	b.ReportAllocs()
	for b.Loop() {
		if !c.Holds(v) {
			b.Fatal("want true")
		}
	}
}
