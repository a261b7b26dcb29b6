// Package app holds the leads service's command and query handlers: it loads aggregates and the
// tenant's lead configuration, runs the domain's pure decisions, enforces uniqueness of emails
// and phones in the write path, and answers queries from the read model.
package app

import (
	"context"
	"sync"
	"time"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/reqctx"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/readmodel"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/tenantcfg"
)

// Views answers lead queries from the read model.
type Views interface {
	// WaitFor returns once the read model has applied stream sequence seq.
	WaitFor(ctx context.Context, seq uint64) error
	Get(ctx context.Context, tenant, id string) (lead.Lead, error)
	List(ctx context.Context, q ListQuery) ([]lead.Lead, string, error)
	Search(ctx context.Context, q SearchQuery) ([]lead.Lead, string, error)
}

// KeyIndex keeps emails and phones unique per tenant in the write path.
type KeyIndex interface {
	Claim(ctx context.Context, tenant, leadID string, keys []string, exists func(context.Context, string) (bool, error)) error
	Release(ctx context.Context, tenant, leadID string, keys []string)
}

// Turns hands out round-robin turns per territory.
type Turns interface {
	Next(ctx context.Context, tenant, territoryID string) (uint64, error)
}

// Deps are the adapters the application runs on.
type Deps struct {
	Leads   *eventstore.Repository[lead.Lead, lead.Event]
	Configs *eventstore.Repository[tenantcfg.Config, tenantcfg.Event]
	Keys    KeyIndex
	Turns   Turns
	Views   Views
	// Accounts and Contacts are the account and contact repositories; AccountKeys and
	// ContactKeys their uniqueness indexes (buckets CRM_ACCOUNT_KEYS, CRM_CONTACT_KEYS);
	// AccountViews their read model.
	Accounts     *eventstore.Repository[account.Account, account.Event]
	Contacts     *eventstore.Repository[contact.Contact, contact.Event]
	AccountKeys  KeyIndex
	ContactKeys  KeyIndex
	AccountViews AccountViews
	// DataKeys destroys people's data keys (ErasePerson); nil leaves erasure unconfigured.
	DataKeys DataKeys
	// Opportunities opens the opportunity of a lead conversion in the pipeline service; nil
	// when no pipeline address is configured (a conversion that asks for an opportunity is then
	// Unavailable).
	Opportunities Opportunities
	// AfterConversionStep, when set, runs after each step of ConvertLead (StepAccount,
	// StepContact, StepOpportunity); an error stops the saga there as a crash would. Tests use
	// it to fail or kill things between steps; nil in production.
	AfterConversionStep func(step string) error
	// Activity holds what activities, tasks and timelines run on (see activities.go).
	Activity ActivityDeps
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// NewID returns a new lead id (a UUIDv7).
	NewID func() string
	// ConfigTTL is how long a replica may answer from its cached copy of a tenant's lead
	// configuration before it checks the log again (changes made through this replica are seen
	// at once). Default 2s.
	ConfigTTL time.Duration
}

// App is the leads application.
type App struct {
	d Deps

	mu      sync.Mutex
	configs map[string]cachedConfig
}

type cachedConfig struct {
	cfg tenantcfg.Config
	at  time.Time
}

// New returns the application.
func New(d Deps) *App {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.ConfigTTL <= 0 {
		d.ConfigTTL = 2 * time.Second
	}
	return &App{d: d, configs: map[string]cachedConfig{}}
}

// Write carries what every command accepts besides its own fields.
type Write struct {
	IdempotencyKey string
	// ExpectedVersion, when set, makes the command fail with a conflict unless the record is at
	// this version.
	ExpectedVersion *uint64
}

// Read carries what every query accepts.
type Read struct {
	// MinSequence: wait until the read model has applied this stream sequence.
	MinSequence uint64
}

// now is the request's business clock: the backfill time of a backfilled request (reqctx), the
// injected clock otherwise. Cache ages, TTLs and timeouts use the wall clock instead.
func (a *App) now(ctx context.Context) time.Time { return reqctx.Now(ctx, a.d.Now) }

func (a *App) waitRead(ctx context.Context, r Read) error {
	if r.MinSequence == 0 {
		return nil
	}
	return a.d.Views.WaitFor(ctx, r.MinSequence)
}

// ListQuery and SearchQuery are the read model's queries.
type (
	ListQuery   = readmodel.ListQuery
	SearchQuery = readmodel.SearchQuery
)
