package campaign

import (
	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/libs/fieldpath"
	"github.com/evcrm/evcrm/libs/money"
)

// Field-mask paths of Details (UpdateCampaignRequest.update_mask).
const (
	PathName                    = "name"
	PathDescription             = "description"
	PathChannel                 = "channel"
	PathStartDate               = "start_date"
	PathEndDate                 = "end_date"
	PathBudget                  = "budget"
	PathExpectedRevenue         = "expected_revenue"
	PathExpectedResponsePercent = "expected_response_percent"
	PathParentCampaignID        = "parent_campaign_id"
	PathOwnerID                 = "owner_id"
	PathTargetSegmentID         = "target_segment_id"
	PathMemberStatuses          = "member_statuses"
)

// fields lists the leaves of Details in canonical order. Money is one leaf (currency and
// amount change together) and the status set is replaced as a whole.
// Campaigns have no custom fields: the map the table asks for is a throwaway, and Update
// refuses "custom_fields" paths before the table sees them.
var fields = fieldpath.New(func(*Details) *map[string]customfield.Value { m := map[string]customfield.Value{}; return &m },
	fieldpath.Value(PathName, func(d *Details) *string { return &d.Name }),
	fieldpath.Value(PathDescription, func(d *Details) *string { return &d.Description }),
	fieldpath.Value(PathChannel, func(d *Details) *Channel { return &d.Channel }),
	fieldpath.Value(PathStartDate, func(d *Details) *string { return &d.StartDate }),
	fieldpath.Value(PathEndDate, func(d *Details) *string { return &d.EndDate }),
	fieldpath.Equal(PathBudget, func(d *Details) *money.Money { return &d.Budget }, money.Money.Equal),
	fieldpath.Equal(PathExpectedRevenue, func(d *Details) *money.Money { return &d.ExpectedRevenue }, money.Money.Equal),
	fieldpath.Value(PathExpectedResponsePercent, func(d *Details) *string { return &d.ExpectedResponsePercent }),
	fieldpath.Value(PathParentCampaignID, func(d *Details) *string { return &d.ParentCampaignID }),
	fieldpath.Value(PathOwnerID, func(d *Details) *string { return &d.OwnerID }),
	fieldpath.Value(PathTargetSegmentID, func(d *Details) *string { return &d.TargetSegmentID }),
	fieldpath.Slice(PathMemberStatuses, func(d *Details) *[]MemberStatus { return &d.MemberStatuses }),
)

// Paths returns every leaf path of Details in canonical order.
func Paths() []string { return fields.Paths() }
