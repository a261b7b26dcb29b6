package chwriter

import "time"

// The column lists of every INSERT (18.16 needs them named) and of the current-state lookups.
// They follow /docs/analytics.md and the migrations; a column added by a migration is added
// here too.
var (
	eventsColumns = []string{"tenant", "stream", "seq", "event_id", "aggregate_type", "aggregate_id",
		"aggregate_version", "event_type", "event_type_full", "occurred_at", "recorded_at", "actor",
		"correlation_id", "causation_id", "payload_json", "actor_type", "schema_version", "stored_at"}
	leadsColumns = []string{"tenant", "lead_id", "seq", "aggregate_version", "status", "source",
		"campaign_id", "owner_id", "territory_id", "country", "industry", "total_score", "created_at",
		"updated_at", "converted_at", "mql_at", "sal_at", "sql_at", "won_at", "account_id", "contact_id",
		"opportunity_id", "merged_into_id"}
	leadTransitionsColumns = []string{"tenant", "lead_id", "seq", "event_id", "at", "from_status",
		"to_status", "time_in_previous_s", "automatic", "source", "campaign_id", "owner_id",
		"territory_id", "lead_created_at"}
	opportunitiesColumns = []string{"tenant", "opportunity_id", "seq", "aggregate_version", "name",
		"pipeline_id", "stage_id", "stage_name", "status", "forecast_category", "probability",
		"amount_micros", "currency", "owner_id", "account_id", "lead_id", "campaign_id", "source",
		"expected_close_date", "created_at", "closed_at"}
	stageTransitionsColumns = []string{"tenant", "opportunity_id", "seq", "event_id", "at",
		"pipeline_id", "from_stage_id", "from_stage_name", "to_stage_id", "to_stage_name", "outcome",
		"time_in_stage_s", "amount_micros", "currency", "probability", "owner_id", "source",
		"campaign_id", "opportunity_created_at"}
	campaignsColumns = []string{"tenant", "campaign_id", "seq", "aggregate_version", "name", "channel",
		"status", "parent_campaign_id", "owner_id", "start_date", "end_date", "budget_micros",
		"actual_cost_micros", "currency", "created_at"}
	membersColumns = []string{"tenant", "campaign_id", "member_type", "person_id", "member_id", "seq",
		"aggregate_version", "added_at", "status", "responded", "unsubscribed", "first_responded_at",
		"last_response_at"}
	responsesColumns = []string{"tenant", "campaign_id", "seq", "event_id", "member_type", "person_id",
		"at", "status", "kind", "responded", "first_response", "channel"}
	costsColumns = []string{"tenant", "campaign_id", "seq", "event_id", "date", "at", "amount_micros",
		"currency", "channel"}
	conversionsColumns = []string{"tenant", "lead_id", "seq", "at", "account_id", "contact_id",
		"opportunity_id", "source", "campaign_id", "owner_id"}
	contactsColumns = []string{"tenant", "contact_id", "seq", "aggregate_version", "account_id",
		"source_lead_id", "created_at"}

	// stateColumns are the column lists of the current-state tables.
	stateColumns = map[string][]string{"leads": leadsColumns, "opportunities": opportunitiesColumns,
		"campaigns": campaignsColumns, "members": membersColumns, "contacts": contactsColumns}

	// factColumns are the column lists of the tables batch.fact adds rows to.
	factColumns = map[string][]string{"events": eventsColumns, "lead_transitions": leadTransitionsColumns,
		"stage_transitions": stageTransitionsColumns, "responses": responsesColumns, "costs": costsColumns,
		"conversions": conversionsColumns}
)

// lead is a row of leads: the current state of one lead, folded from its events.
type lead struct {
	Tenant, LeadID                                   string
	Seq, Version                                     uint64
	Status, Source, CampaignID, OwnerID, TerritoryID string
	Country, Industry                                string
	TotalScore                                       int64
	CreatedAt, UpdatedAt, ConvertedAt                time.Time
	// The funnel's step times (migration 0012): the first time the lead reached the step or a
	// later one; epoch = not reached.
	MQLAt, SALAt, SQLAt, WonAt                        time.Time
	AccountID, ContactID, OpportunityID, MergedIntoID string
}

func (r *lead) ptrs() []any {
	return []any{&r.Tenant, &r.LeadID, &r.Seq, &r.Version, &r.Status, &r.Source, &r.CampaignID,
		&r.OwnerID, &r.TerritoryID, &r.Country, &r.Industry, &r.TotalScore, &r.CreatedAt,
		&r.UpdatedAt, &r.ConvertedAt, &r.MQLAt, &r.SALAt, &r.SQLAt, &r.WonAt, &r.AccountID, &r.ContactID,
		&r.OpportunityID, &r.MergedIntoID}
}

// opportunity is a row of opportunities.
type opportunity struct {
	Tenant, OpportunityID                        string
	Seq, Version                                 uint64
	Name, PipelineID, StageID, StageName, Status string
	ForecastCategory                             string
	Probability                                  float64
	AmountMicros                                 int64
	Currency, OwnerID, AccountID, LeadID         string
	CampaignID, Source                           string
	ExpectedCloseDate, CreatedAt, ClosedAt       time.Time
}

func (r *opportunity) ptrs() []any {
	return []any{&r.Tenant, &r.OpportunityID, &r.Seq, &r.Version, &r.Name, &r.PipelineID, &r.StageID,
		&r.StageName, &r.Status, &r.ForecastCategory, &r.Probability, &r.AmountMicros, &r.Currency,
		&r.OwnerID, &r.AccountID, &r.LeadID, &r.CampaignID, &r.Source, &r.ExpectedCloseDate,
		&r.CreatedAt, &r.ClosedAt}
}

// campaign is a row of campaigns.
type campaign struct {
	Tenant, CampaignID                               string
	Seq, Version                                     uint64
	Name, Channel, Status, ParentCampaignID, OwnerID string
	StartDate, EndDate                               time.Time
	BudgetMicros, ActualCostMicros                   int64
	Currency                                         string
	CreatedAt                                        time.Time
}

func (r *campaign) ptrs() []any {
	return []any{&r.Tenant, &r.CampaignID, &r.Seq, &r.Version, &r.Name, &r.Channel, &r.Status,
		&r.ParentCampaignID, &r.OwnerID, &r.StartDate, &r.EndDate, &r.BudgetMicros,
		&r.ActualCostMicros, &r.Currency, &r.CreatedAt}
}

// member is a row of members.
type member struct {
	Tenant, CampaignID, MemberType, PersonID, MemberID string
	Seq, Version                                       uint64
	AddedAt                                            time.Time
	Status                                             string
	Responded, Unsubscribed                            uint8
	FirstRespondedAt, LastResponseAt                   time.Time
}

func (r *member) ptrs() []any {
	return []any{&r.Tenant, &r.CampaignID, &r.MemberType, &r.PersonID, &r.MemberID, &r.Seq,
		&r.Version, &r.AddedAt, &r.Status, &r.Responded, &r.Unsubscribed, &r.FirstRespondedAt,
		&r.LastResponseAt}
}

// contact is a row of contacts.
type contact struct {
	Tenant, ContactID     string
	Seq, Version          uint64
	AccountID, SourceLead string
	CreatedAt             time.Time
}

func (r *contact) ptrs() []any {
	return []any{&r.Tenant, &r.ContactID, &r.Seq, &r.Version, &r.AccountID, &r.SourceLead, &r.CreatedAt}
}
