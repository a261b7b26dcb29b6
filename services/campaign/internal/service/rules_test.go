package service_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/ruleevents"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/rule"
	"github.com/evcrm/evcrm/services/campaign/internal/ports/rules"
)

// rulesEnv is one NATS, the real leads service as a child process and the campaign service.
type rulesEnv struct {
	n     *testkit.NATS
	lp    *leadsProc
	h     *harness
	leads leadsv1.LeadsServiceClient
}

func startRules(t *testing.T) *rulesEnv {
	t.Helper()
	n := testkit.StartNATS(t)
	lp := startLeadsProcess(t, n)
	h := start(t, n, harnessOptions{LeadsAddr: lp.Addr()})
	return &rulesEnv{n: n, lp: lp, h: h, leads: lp.leads(t)}
}

func tagRule(name, trigger, cond string, actions ...*campaignv1.Action) *campaignv1.Rule {
	return &campaignv1.Rule{Name: name, Enabled: true, Trigger: &campaignv1.Trigger{EventType: trigger}, Condition: cond, Actions: actions}
}

func addTag(tag string) *campaignv1.Action {
	return &campaignv1.Action{Action: &campaignv1.Action_AddTag{AddTag: &campaignv1.AddTag{Tag: tag}}}
}

func removeTag(tag string) *campaignv1.Action {
	return &campaignv1.Action{Action: &campaignv1.Action_RemoveTag{RemoveTag: &campaignv1.RemoveTag{Tag: tag}}}
}

// createRule creates r in tenant and waits until the rules read model (which the engine reads)
// has it.
func (e *rulesEnv) createRule(t *testing.T, tenant string, r *campaignv1.Rule) *campaignv1.Rule {
	t.Helper()
	ctx := as(t, tenant, "marketer-1")
	res, err := e.h.client.CreateRule(ctx, &campaignv1.CreateRuleRequest{Rule: r})
	require.NoError(t, err)
	got, err := e.h.client.GetRule(ctx, &campaignv1.GetRuleRequest{RuleId: res.GetRule().GetId(), Read: after(res.GetResult())})
	require.NoError(t, err)
	return got.GetRule()
}

func (e *rulesEnv) createLead(t *testing.T, tenant, name, country string, tags ...string) *leadsv1.Lead {
	t.Helper()
	res, err := e.leads.CreateLead(as(t, tenant, "rep-1"), &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{FirstName: name,
		LastName: "Rule", Email: strings.ToLower(name) + "@example.com", Company: "Acme", Country: country, Tags: tags, Source: leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM}})
	require.NoError(t, err, "%v", status.Convert(err).Details())
	return res.GetLead()
}

// runs waits until the rule's run log holds want runs and returns them, newest first.
func (e *rulesEnv) runs(t *testing.T, tenant, ruleID string, want int) []*campaignv1.RuleRun {
	t.Helper()
	var runs []*campaignv1.RuleRun
	require.Eventually(t, func() bool {
		res, err := e.h.client.ListRuleRuns(as(t, tenant, "marketer-1"), &campaignv1.ListRuleRunsRequest{RuleId: ruleID})
		require.NoError(t, err)
		runs = res.GetRuns()
		return len(runs) >= want
	}, 20*time.Second, 20*time.Millisecond, "rule %s: want %d runs", ruleID, want)
	require.Len(t, runs, want)
	return runs
}

func runFor(runs []*campaignv1.RuleRun, recordID string) *campaignv1.RuleRun {
	for _, r := range runs {
		if r.GetRecordId() == recordID {
			return r
		}
	}
	return nil
}

// count is the number of messages on stream whose subject matches filter.
func (e *rulesEnv) count(t *testing.T, stream, filter string) int {
	t.Helper()
	js := e.n.JetStream(t)
	s, err := js.Stream(context.Background(), stream)
	require.NoError(t, err)
	info, err := s.Info(context.Background(), jetstream.WithSubjectFilter(filter))
	require.NoError(t, err)
	total := 0
	for _, c := range info.State.Subjects {
		total += int(c)
	}
	return total
}

// lastEvent is the latest event on subject.
func (e *rulesEnv) lastEvent(t *testing.T, stream, subject string) *eventsv1.Envelope {
	t.Helper()
	js := e.n.JetStream(t)
	s, err := js.Stream(context.Background(), stream)
	require.NoError(t, err)
	m, err := s.GetLastMsgForSubject(context.Background(), subject)
	require.NoError(t, err)
	env := &eventsv1.Envelope{}
	require.NoError(t, proto.Unmarshal(m.Data, env))
	return env
}

// engineIdle waits until the engine's consumer on stream has nothing pending or unacked.
func (e *rulesEnv) engineIdle(t *testing.T, stream string) {
	t.Helper()
	js := e.n.JetStream(t)
	require.Eventually(t, func() bool {
		c, err := js.Consumer(context.Background(), stream, rules.Name)
		if err != nil {
			return false
		}
		info, err := c.Info(context.Background())
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	}, 20*time.Second, 20*time.Millisecond)
}

func hasTag(l *leadsv1.Lead, tag string) bool {
	for _, x := range l.GetTags() {
		if x == tag {
			return true
		}
	}
	return false
}

func TestAutomationRules(t *testing.T) {
	e := startRules(t)
	top := t

	t.Run("fires once per event under redelivery", func(t *testing.T) {
		const tenant = "acme"
		r := e.createRule(t, tenant, tagRule("US leads", "LeadCreated", `record.country == "US"`, addTag("us-lead")))
		us := e.createLead(t, tenant, "Ada", "US")
		de := e.createLead(t, tenant, "Bernd", "DE")
		runs := e.runs(t, tenant, r.GetId(), 2)
		assert.Equal(t, campaignv1.RuleRunOutcome_RULE_RUN_OUTCOME_FIRED, runFor(runs, us.GetId()).GetOutcome())
		assert.Equal(t, []string{"add_tag us-lead: done"}, runFor(runs, us.GetId()).GetActions())
		assert.Equal(t, campaignv1.RuleRunOutcome_RULE_RUN_OUTCOME_SKIPPED, runFor(runs, de.GetId()).GetOutcome())
		got, err := e.leads.GetLead(as(t, tenant, "rep-1"), &leadsv1.GetLeadRequest{LeadId: us.GetId()})
		require.NoError(t, err)
		assert.True(t, hasTag(got.GetLead(), "us-lead"))

		created := e.lastEvent(t, "CRM_LEADS", fmt.Sprintf("crm.%s.lead.%s.LeadCreated", tenant, us.GetId()))
		runSubject := fmt.Sprintf("crm.%s.rulerun.%s.>", tenant, rule.RunID(r.GetId(), created.GetEventId()))
		tagSubject := fmt.Sprintf("crm.%s.lead.%s.LeadTagsAdded", tenant, us.GetId())
		require.Equal(t, 1, e.count(t, "CRM_CAMPAIGN", runSubject))
		require.Equal(t, 1, e.count(t, "CRM_LEADS", tagSubject))
		tagged := e.lastEvent(t, "CRM_LEADS", tagSubject)
		assert.Equal(t, created.GetCorrelationId(), tagged.GetCorrelationId(), "the action forwards the correlation id")
		assert.Equal(t, rule.ActionKey(r.GetId(), created.GetEventId(), 0), tagged.GetCausationId())

		// The same event handed to the engine twice more, as a redelivery would.
		ev, err := ruleevents.FromEnvelope(created)
		require.NoError(t, err)
		for range 2 {
			require.NoError(t, e.h.svc.App.RunRules(context.Background(), ev))
		}
		// And the whole stream again: a new consumer from the start, in a restarted service.
		e.h.stop()
		js := e.n.JetStream(t)
		require.NoError(t, js.DeleteConsumer(context.Background(), "CRM_LEADS", rules.Name))
		e.h = start(top, e.n, harnessOptions{LeadsAddr: e.lp.Addr()})
		e.engineIdle(t, "CRM_LEADS")
		assert.Equal(t, 1, e.count(t, "CRM_CAMPAIGN", runSubject), "one RuleRunRecorded")
		assert.Equal(t, 1, e.count(t, "CRM_LEADS", tagSubject), "one tag event")
		e.runs(t, tenant, r.GetId(), 2)
	})

	t.Run("a self-triggering rule is stopped", func(t *testing.T) {
		const tenant = "cycle"
		r := e.createRule(t, tenant, tagRule("tag on tag", "LeadTagsAdded", "", addTag("looped")))
		l := e.createLead(t, tenant, "Cyd", "US")
		_, err := e.leads.AddLeadTags(as(t, tenant, "rep-1"), &leadsv1.AddLeadTagsRequest{LeadId: l.GetId(), Tags: []string{"vip"}})
		require.NoError(t, err)
		runs := e.runs(t, tenant, r.GetId(), 2)
		assert.Equal(t, campaignv1.RuleRunOutcome_RULE_RUN_OUTCOME_CYCLE_STOPPED, runs[0].GetOutcome())
		assert.Empty(t, runs[0].GetActions())
		assert.Equal(t, campaignv1.RuleRunOutcome_RULE_RUN_OUTCOME_FIRED, runs[1].GetOutcome())
	})

	t.Run("a loop through two rules is stopped", func(t *testing.T) {
		const tenant = "pingpong"
		r1 := e.createRule(t, tenant, tagRule("drop ping", "LeadTagsAdded", `event.tags has "ping"`, removeTag("ping")))
		r2 := e.createRule(t, tenant, tagRule("restore ping", "LeadTagsRemoved", `event.tags has "ping"`, addTag("ping")))
		l := e.createLead(t, tenant, "Pip", "US")
		_, err := e.leads.AddLeadTags(as(t, tenant, "rep-1"), &leadsv1.AddLeadTagsRequest{LeadId: l.GetId(), Tags: []string{"ping"}})
		require.NoError(t, err)
		// ping added (user) → r1 removes → r2 adds → r1 stopped.
		runs1 := e.runs(t, tenant, r1.GetId(), 2)
		assert.Equal(t, campaignv1.RuleRunOutcome_RULE_RUN_OUTCOME_CYCLE_STOPPED, runs1[0].GetOutcome())
		assert.Equal(t, campaignv1.RuleRunOutcome_RULE_RUN_OUTCOME_FIRED, runs1[1].GetOutcome())
		runs2 := e.runs(t, tenant, r2.GetId(), 1)
		assert.Equal(t, campaignv1.RuleRunOutcome_RULE_RUN_OUTCOME_FIRED, runs2[0].GetOutcome())
		e.engineIdle(t, "CRM_LEADS")
		assert.Equal(t, 2, e.count(t, "CRM_LEADS", fmt.Sprintf("crm.%s.lead.%s.LeadTagsAdded", tenant, l.GetId())))
	})

	t.Run("dry run lists what would fire and appends nothing", func(t *testing.T) {
		const tenant = "dry"
		us := e.createLead(t, tenant, "Dora", "US")
		de := e.createLead(t, tenant, "Dirk", "DE")
		ctx := as(t, tenant, "marketer-1")
		var res *campaignv1.DryRunRuleResponse
		before := e.h.streamMsgs(t)
		require.Eventually(t, func() bool {
			var err error
			res, err = e.h.client.DryRunRule(ctx, &campaignv1.DryRunRuleRequest{
				Rule:     tagRule("US leads", "LeadCreated", `record.country == "US"`, addTag("us-lead")),
				Lookback: durationpb.New(time.Hour)})
			require.NoError(t, err)
			return len(res.GetRuns()) == 2
		}, 10*time.Second, 50*time.Millisecond)
		assert.EqualValues(t, 2, res.GetExamined())
		assert.Equal(t, campaignv1.RuleRunOutcome_RULE_RUN_OUTCOME_FIRED, runFor(res.GetRuns(), us.GetId()).GetOutcome())
		assert.Equal(t, []string{"add_tag us-lead: would run"}, runFor(res.GetRuns(), us.GetId()).GetActions())
		assert.Equal(t, campaignv1.RuleRunOutcome_RULE_RUN_OUTCOME_SKIPPED, runFor(res.GetRuns(), de.GetId()).GetOutcome())
		assert.Equal(t, before, e.h.streamMsgs(t), "a dry run appends nothing")
		got, err := e.leads.GetLead(as(t, tenant, "rep-1"), &leadsv1.GetLeadRequest{LeadId: us.GetId()})
		require.NoError(t, err)
		assert.False(t, hasTag(got.GetLead(), "us-lead"))
	})

	t.Run("a disabled rule does nothing", func(t *testing.T) {
		const tenant = "off"
		off := tagRule("off", "LeadCreated", "", addTag("never"))
		off.Enabled = false
		offRule := e.createRule(t, tenant, off)
		// A rule that is on, whose run tells that the engine has handled the event.
		marker := e.createRule(t, tenant, tagRule("marker", "LeadCreated", "",
			&campaignv1.Action{Action: &campaignv1.Action_Notify{Notify: &campaignv1.Notify{Recipient: "marketer-1", Message: "new lead"}}}))
		l := e.createLead(t, tenant, "Otto", "US")
		runs := e.runs(t, tenant, marker.GetId(), 1)
		assert.Equal(t, campaignv1.RuleRunOutcome_RULE_RUN_OUTCOME_FIRED, runs[0].GetOutcome())
		assert.Equal(t, 1, e.count(t, "CRM_CAMPAIGN", fmt.Sprintf("crm.%s.rulerun.*.NotificationRequested", tenant)))
		res, err := e.h.client.ListRuleRuns(as(t, tenant, "marketer-1"), &campaignv1.ListRuleRunsRequest{RuleId: offRule.GetId()})
		require.NoError(t, err)
		assert.Empty(t, res.GetRuns())
		got, err := e.leads.GetLead(as(t, tenant, "rep-1"), &leadsv1.GetLeadRequest{LeadId: l.GetId()})
		require.NoError(t, err)
		assert.False(t, hasTag(got.GetLead(), "never"))
	})

	t.Run("bad rules are refused with field paths", func(t *testing.T) {
		ctx := as(t, "bad", "marketer-1")
		before := e.h.streamMsgs(t)
		tests := []struct {
			rule  *campaignv1.Rule
			field string
		}{
			{tagRule("", "LeadCreated", "", addTag("x")), "rule.name"},
			{tagRule("r", "LeadExploded", "", addTag("x")), "rule.trigger.event_type"},
			{tagRule("r", "LeadCreated", `record.contry == "US"`, addTag("x")), "rule.condition"},
			{tagRule("r", "LeadCreated", `record.country = "US"`, addTag("x")), "rule.condition"},
			{tagRule("r", "LeadCreated", ""), "rule.actions"},
			{tagRule("r", "LeadCreated", "", addTag("")), "rule.actions[0].add_tag.tag"},
			{tagRule("r", "LeadCreated", "", &campaignv1.Action{}), "rule.actions[0]"},
			{tagRule("r", "OpportunityWon", "", addTag("x")), "rule.actions[0]"},
		}
		for _, tc := range tests {
			_, err := e.h.client.CreateRule(ctx, &campaignv1.CreateRuleRequest{Rule: tc.rule})
			assert.Contains(t, violations(t, err), tc.field, "%v", err)
		}
		_, err := e.h.client.CreateRule(ctx, &campaignv1.CreateRuleRequest{Rule: tagRule("r", "LeadCreated", `record.contry == "US"`, addTag("x"))})
		assert.Contains(t, violation(t, err, "rule.condition"), "column 8: unknown field record.contry")
		_, err = e.h.client.DryRunRule(ctx, &campaignv1.DryRunRuleRequest{Rule: tagRule("r", "Nope", "", addTag("x"))})
		assert.Contains(t, violations(t, err), "rule.trigger.event_type")
		assert.Equal(t, before, e.h.streamMsgs(t), "nothing appended")
	})

	t.Run("rule lifecycle", func(t *testing.T) {
		ctx := as(t, "life", "marketer-1")
		r := e.createRule(t, "life", tagRule("v1", "LeadStatusChanged", `event.to == "MARKETING_QUALIFIED" and record.score >= 0`, addTag("mql")))
		assert.EqualValues(t, 1, r.GetVersion())
		up, err := e.h.client.UpdateRule(ctx, &campaignv1.UpdateRuleRequest{RuleId: r.GetId(),
			Rule: tagRule("v2", "LeadStatusChanged", "", addTag("mql"))})
		require.NoError(t, err)
		assert.EqualValues(t, 2, up.GetRule().GetVersion())
		assert.True(t, up.GetRule().GetEnabled())
		off, err := e.h.client.SetRuleEnabled(ctx, &campaignv1.SetRuleEnabledRequest{RuleId: r.GetId(), Enabled: false})
		require.NoError(t, err)
		assert.False(t, off.GetRule().GetEnabled())
		list, err := e.h.client.ListRules(ctx, &campaignv1.ListRulesRequest{Read: after(off.GetResult())})
		require.NoError(t, err)
		require.Len(t, list.GetRules(), 1)
		assert.Equal(t, "v2", list.GetRules()[0].GetName())
		del, err := e.h.client.DeleteRule(ctx, &campaignv1.DeleteRuleRequest{RuleId: r.GetId()})
		require.NoError(t, err)
		_, err = e.h.client.GetRule(ctx, &campaignv1.GetRuleRequest{RuleId: r.GetId(), Read: after(del.GetResult())})
		assert.Equal(t, "NotFound", statusCode(err))
	})
}

func statusCode(err error) string { return status.Code(err).String() }
