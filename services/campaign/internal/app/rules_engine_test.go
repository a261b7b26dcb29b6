package app_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/libs/uuid7"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/campaign/internal/app"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/member"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/rule"
)

// engineEnv is the application on a real JetStream with the rules read model, the leads
// service and the chains bucket replaced by in-memory fakes, so a test can count what the
// engine asks of the leads service.
type engineEnv struct {
	app    *app.App
	js     jetstream.JetStream
	store  *eventstore.Store
	leads  *fakeLeads
	rules  *fakeRuleViews
	recent *fakeRecent
}

func newEngineEnv(t *testing.T) *engineEnv {
	t.Helper()
	n := testkit.StartNATS(t)
	nc := n.Connect(t)
	ctx := context.Background()
	require.NoError(t, eventstore.EnsureStreams(ctx, n.JetStream(t), eventstore.StreamOptions{}, eventstore.CampaignStream))
	es, err := eventstore.New(nc, eventstore.Options{})
	require.NoError(t, err)
	camps, err := eventstore.NewRepository(es, "campaign", protomap.CampaignCodec{},
		func() campaign.Campaign { return campaign.Campaign{} }, campaign.Apply, eventstore.RepositoryOptions{})
	require.NoError(t, err)
	members, err := eventstore.NewRepository(es, "member", protomap.MemberCodec{KeyPrefix: app.KeyPrefix},
		func() member.Member { return member.Member{} }, member.Apply, eventstore.RepositoryOptions{})
	require.NoError(t, err)
	e := &engineEnv{js: n.JetStream(t), store: es, leads: &fakeLeads{}, rules: &fakeRuleViews{}, recent: &fakeRecent{}}
	e.app = app.New(app.Deps{NewID: uuid7.New,
		Campaigns: app.CampaignDeps{Campaigns: camps, Members: members, People: e.leads},
		Rules: app.RuleDeps{Store: es, Views: e.rules, Catalog: protomap.RuleCatalog(), Leads: e.leads,
			Chains: &fakeChains{fired: map[string]string{}, runs: map[string]string{}}, Recent: e.recent,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))}})
	return e
}

func TestRedeliveryAfterTheRunWasRecordedRunsNoActionAgain(t *testing.T) {
	t.Parallel()
	e := newEngineEnv(t)
	r := rule.Rule{ID: "r1", Version: 1, Name: "tag", Enabled: true, EventType: "LeadCreated",
		Actions: []rule.Action{{Kind: rule.ActionAddTag, Tag: "x"}}, CreatedAt: time.Unix(0, 0)}
	e.rules.set(r)
	ev := app.RuleEvent{Tenant: "acme", EventID: uuid7.New(), EventType: "LeadCreated", AggregateType: "lead",
		AggregateID: "lead-1", At: time.Now()}
	require.NoError(t, e.app.RunRules(context.Background(), ev))
	require.Equal(t, 1, e.leads.calls("AddTags"))

	// The same event again, as a consumer replayed from the start would hand it over long
	// after the leads service forgot the action's idempotency key (24 h): the run is in the
	// log, so nothing runs again.
	require.NoError(t, e.app.RunRules(context.Background(), ev))
	assert.Equal(t, 1, e.leads.calls("AddTags"), "the action ran once")
}

func TestAddToCampaignCarriesTheActionKeyAsCausation(t *testing.T) {
	t.Parallel()
	e := newEngineEnv(t)
	ctx := context.Background()
	c, _, err := e.app.CreateCampaign(ctx, "acme", campaign.Details{Name: "X", Channel: campaign.ChannelEmail}, app.Write{})
	require.NoError(t, err)
	r := rule.Rule{ID: "r2", Version: 1, Name: "enroll", Enabled: true, EventType: "LeadCreated",
		Actions: []rule.Action{{Kind: rule.ActionAddToCampaign, CampaignID: c.ID}}, CreatedAt: time.Unix(0, 0)}
	e.rules.set(r)
	ev := app.RuleEvent{Tenant: "acme", EventID: uuid7.New(), EventType: "LeadCreated", AggregateType: "lead",
		AggregateID: "lead-1", At: time.Now()}
	require.NoError(t, e.app.RunRules(ctx, ev))

	recs, _, err := e.store.Load(ctx, eventstore.Ref{Tenant: "acme", Type: "member", ID: member.ID(c.ID, member.TypeLead, "lead-1")})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	gotRule, gotEvent, ok := rule.ParseActionKey(recs[0].Envelope.GetCausationId())
	require.True(t, ok, "causation id %q is not the action's key: the events the action causes leave the chain (cycle detection)", recs[0].Envelope.GetCausationId())
	assert.Equal(t, r.ID, gotRule)
	assert.Equal(t, ev.EventID, gotEvent)
}

func TestDryRunFailsWhenTheLeadsServiceIsDown(t *testing.T) {
	t.Parallel()
	e := newEngineEnv(t)
	e.leads.down = true
	ev := app.RuleEvent{Tenant: "acme", EventID: uuid7.New(), EventType: "LeadCreated", AggregateType: "lead",
		AggregateID: "lead-1", At: time.Now()}
	e.recent.evs = []app.RuleEvent{ev}
	d := rule.Definition{Name: "x", EventType: "LeadCreated", Condition: `record.country == "US"`,
		Actions: []rule.Action{{Kind: rule.ActionAddTag, Tag: "x"}}}
	_, runs, err := e.app.DryRunRule(context.Background(), "acme", app.DryRun{Definition: &d})
	assert.Equal(t, apperr.Unavailable, apperr.KindOf(err), "runs %v: an unreadable record must not silently drop the event", runs)
}

// --- fakes ---

type fakeLeads struct {
	mu   sync.Mutex
	n    map[string]int
	down bool
}

func (f *fakeLeads) count(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return apperr.New(apperr.Unavailable, "leads service down")
	}
	if f.n == nil {
		f.n = map[string]int{}
	}
	f.n[op]++
	return nil
}

func (f *fakeLeads) calls(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n[op]
}

func (f *fakeLeads) Contactability(context.Context, member.Type, string) (bool, bool, bool, error) {
	return true, false, false, f.count("Contactability")
}

func (f *fakeLeads) Record(_ context.Context, _ member.Type, id string, _ uint64) (app.Record, error) {
	if err := f.count("Record"); err != nil {
		return app.Record{}, err
	}
	return app.Record{ID: id, OwnerID: "u1", Values: map[string]any{"id": id, "country": "US"}}, nil
}

func (f *fakeLeads) AddTags(context.Context, string, []string, string) error {
	return f.count("AddTags")
}
func (f *fakeLeads) RemoveTags(context.Context, string, []string, string) error {
	return f.count("RemoveTags")
}
func (f *fakeLeads) Assign(context.Context, string, string, string, string) error {
	return f.count("Assign")
}
func (f *fakeLeads) CreateTask(context.Context, app.Task, string) error { return f.count("CreateTask") }

type fakeRuleViews struct {
	mu    sync.Mutex
	rules []rule.Rule
}

func (f *fakeRuleViews) set(rs ...rule.Rule) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = rs
}

func (f *fakeRuleViews) WaitFor(context.Context, uint64) error { return nil }
func (f *fakeRuleViews) GetRule(_ context.Context, _, id string) (rule.Rule, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.rules {
		if r.ID == id {
			return r, nil
		}
	}
	return rule.Rule{}, apperr.NotFoundf("rule", id)
}
func (f *fakeRuleViews) ListRules(context.Context, string, bool, int, string) ([]rule.Rule, string, error) {
	return nil, "", nil
}
func (f *fakeRuleViews) ListRuns(context.Context, string, app.RunFilter) ([]rule.Run, string, error) {
	return nil, "", nil
}
func (f *fakeRuleViews) TriggeredBy(_ context.Context, _, eventType string) ([]rule.Rule, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []rule.Rule
	for _, r := range f.rules {
		if r.Enabled && r.EventType == eventType {
			out = append(out, r)
		}
	}
	return out, nil
}

// fakeChains mirrors rulechains' key-value semantics in memory.
type fakeChains struct {
	mu          sync.Mutex
	fired, runs map[string]string
}

func (f *fakeChains) Root(_ context.Context, tenant, ruleID, eventID string) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.runs[tenant+"."+ruleID+"."+eventID]
	return r, ok, nil
}

func (f *fakeChains) Enter(_ context.Context, tenant, ruleID, root, eventID string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := tenant + "." + ruleID + "." + root
	if ev, ok := f.fired[k]; ok && ev != eventID {
		return false, nil
	}
	f.fired[k] = eventID
	f.runs[tenant+"."+ruleID+"."+eventID] = root
	return true, nil
}

type fakeRecent struct{ evs []app.RuleEvent }

func (f *fakeRecent) Read(_ context.Context, _, eventType string, _ time.Time, max int, fn func(app.RuleEvent) bool) error {
	for i, ev := range f.evs {
		if i >= max || ev.EventType != eventType || !fn(ev) {
			break
		}
	}
	return nil
}
