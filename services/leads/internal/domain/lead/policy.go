package lead

import (
	"time"

	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
	"github.com/evcrm/evcrm/services/leads/internal/domain/territory"
)

// Settings are a tenant's lifecycle settings.
type Settings struct {
	// StallDays: a lead whose status has not changed for this many days is stalled and may be
	// recycled; 0 means leads never stall.
	StallDays int32
	// Require* name the BANT parts that must be confirmed before a lead can become SQL.
	RequireBudget    bool
	RequireAuthority bool
	RequireNeed      bool
	RequireTimeline  bool
	// ConvertSalesAccepted lets SALES_ACCEPTED leads convert too (by default only
	// SALES_QUALIFIED ones do).
	ConvertSalesAccepted bool
}

// Policy is the tenant context lead decisions need: the tenant configuration as of the
// command (tenantcfg.Config.Policy builds it).
type Policy struct {
	Model        scoring.Model
	Territories  []territory.Territory
	CustomFields map[string]customfield.Definition
	Settings     Settings
}

// stallAfter returns how long a status may stay unchanged before the lead is stalled.
func (s Settings) stallAfter() time.Duration {
	return time.Duration(s.StallDays) * 24 * time.Hour
}

// Assigner picks the rep for a lead entering a round-robin territory. The app implements it by
// advancing the territory's shared round-robin cursor and calling territory.PickRep; decisions
// call it only when a round-robin territory must pick an owner (never for fixed owners or
// explicit owners). Because a decision may be retried after a concurrency conflict, the cursor
// may advance without a lead being assigned, which only skips a rep once. A nil Assigner leaves
// round-robin leads unassigned.
type Assigner func(t territory.Territory) (string, error)
