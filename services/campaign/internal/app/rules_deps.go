package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/rulemodel"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/member"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/rule"
)

// RuleDeps are the adapters of automation rules and the rule engine (helper C3).
type RuleDeps struct {
	Rules *eventstore.Repository[rule.Rule, rule.Event]
	// Store appends the runs (one new aggregate per rule and event).
	Store *eventstore.Store
	Views RuleViews
	// Catalog is every event type a rule may trigger on (protomap.RuleCatalog).
	Catalog rule.Catalog
	// Leads reads records and runs the actions on leads; the tenant travels in ctx.
	Leads RuleLeads
	// Chains remembers which rules fired in which causal chain (cycle detection).
	Chains RuleChains
	// Recent reads recent events of the CRM streams for dry runs.
	Recent RecentEvents
	Log    *slog.Logger
}

// RuleViews is the rules read model.
type RuleViews interface {
	WaitFor(ctx context.Context, seq uint64) error
	GetRule(ctx context.Context, tenant, id string) (rule.Rule, error)
	ListRules(ctx context.Context, tenant string, enabledOnly bool, size int, token string) ([]rule.Rule, string, error)
	ListRuns(ctx context.Context, tenant string, f RunFilter) ([]rule.Run, string, error)
	// TriggeredBy returns the tenant's enabled rules on eventType (cached).
	TriggeredBy(ctx context.Context, tenant, eventType string) ([]rule.Rule, error)
}

// RunFilter selects entries of the run log.
type RunFilter = rulemodel.RunFilter

// Record is a lead or contact as a condition reads it.
type Record struct {
	ID      string
	OwnerID string
	Values  map[string]any
}

// Task is a task a rule creates.
type Task struct {
	Subject    string
	AssigneeID string
	DueAt      time.Time
	LeadID     string
}

// RuleLeads is the leads service as rules use it. Every write carries an idempotency key; the
// leads service records it as the causation id of the events it appends.
type RuleLeads interface {
	// Record returns the lead or contact as of at least leads stream sequence minSeq (0: as
	// the leads read model has it); NotFound when it does not exist.
	Record(ctx context.Context, t member.Type, id string, minSeq uint64) (Record, error)
	AddTags(ctx context.Context, leadID string, tags []string, key string) error
	RemoveTags(ctx context.Context, leadID string, tags []string, key string) error
	Assign(ctx context.Context, leadID, ownerID, note, key string) error
	CreateTask(ctx context.Context, t Task, key string) error
}

// RuleChains remembers, per causal chain of events, which rules fired in it. A chain starts
// at an event no rule caused (its root) and goes on through the events that rule actions
// cause.
type RuleChains interface {
	// Root returns the root of the chain the run of ruleID for eventID belonged to.
	Root(ctx context.Context, tenant, ruleID, eventID string) (root string, ok bool, err error)
	// Enter records that ruleID fires for eventID in the chain rooted at root. It returns
	// false when the rule already fired for another event of that chain: a cycle. Entering
	// again for the same event (a redelivery) returns true.
	Enter(ctx context.Context, tenant, ruleID, root, eventID string) (bool, error)
}

// RecentEvents reads recent events of the CRM streams, oldest first.
type RecentEvents interface {
	// Read calls fn for each event of the tenant of type eventType (short type) stored since
	// since, up to max events, until fn returns false.
	Read(ctx context.Context, tenant, eventType string, since time.Time, max int, fn func(RuleEvent) bool) error
}
