package protomap

import (
	"fmt"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/contract"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/forecast"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/quote"
)

// Every enum maps through an explicit table in both directions. The domain numbers its enums
// like the proto today, but a cast would silently turn a renumbering on either side into wrong
// data; a table turns it into a failing test (enums_test.go checks every declared proto value).
//
// Three directions, three behaviours:
//   - to proto: a domain value the table lacks (a programming error) is UNSPECIFIED;
//   - from a record or event: a number the table lacks (written by a newer version) is the
//     domain's unspecified value;
//   - from a request: a number the proto does not declare is Invalid naming the field. Whether
//     UNSPECIFIED is acceptable is the domain's call.

// protoEnum is any generated proto enum.
type protoEnum interface {
	~int32
	Descriptor() protoreflect.EnumDescriptor
}

// enumTable is a bijection between a domain enum and a proto enum.
type enumTable[D comparable, P protoEnum] struct {
	toProto   map[D]P
	fromProto map[P]D
}

type enumPair[D comparable, P protoEnum] struct {
	d D
	p P
}

// newEnumTable builds a table from pairs; it panics on a repeated value, which would make the
// mapping lossy (the tables are package variables, so any test run would catch it).
func newEnumTable[D comparable, P protoEnum](pairs ...enumPair[D, P]) enumTable[D, P] {
	t := enumTable[D, P]{toProto: map[D]P{}, fromProto: map[P]D{}}
	for _, x := range pairs {
		if _, dup := t.toProto[x.d]; dup {
			panic(fmt.Sprintf("protomap: domain value %v mapped twice", x.d))
		}
		if _, dup := t.fromProto[x.p]; dup {
			panic(fmt.Sprintf("protomap: proto value %v mapped twice", x.p))
		}
		t.toProto[x.d], t.fromProto[x.p] = x.p, x.d
	}
	return t
}

func (t enumTable[D, P]) proto(d D) P { return t.toProto[d] }

func (t enumTable[D, P]) domain(p P) D { return t.fromProto[p] }

// request maps a request value, adding a violation for field when p is not in the table.
func (t enumTable[D, P]) request(p P, field string, v *apperr.Violations) D {
	d, ok := t.fromProto[p]
	if !ok {
		v.Add(field, "unknown %s value %d", p.Descriptor().Name(), int32(p))
	}
	return d
}

// requestErr is request as a single-field error.
func (t enumTable[D, P]) requestErr(p P, field string) (D, error) {
	var v apperr.Violations
	d := t.request(p, field, &v)
	return d, v.Err("invalid enum value")
}

var categories = newEnumTable(
	enumPair[pipelinedef.Category, pipelinev1.ForecastCategory]{pipelinedef.CategoryUnspecified, pipelinev1.ForecastCategory_FORECAST_CATEGORY_UNSPECIFIED},
	enumPair[pipelinedef.Category, pipelinev1.ForecastCategory]{pipelinedef.CategoryPipeline, pipelinev1.ForecastCategory_FORECAST_CATEGORY_PIPELINE},
	enumPair[pipelinedef.Category, pipelinev1.ForecastCategory]{pipelinedef.CategoryBestCase, pipelinev1.ForecastCategory_FORECAST_CATEGORY_BEST_CASE},
	enumPair[pipelinedef.Category, pipelinev1.ForecastCategory]{pipelinedef.CategoryCommit, pipelinev1.ForecastCategory_FORECAST_CATEGORY_COMMIT},
	enumPair[pipelinedef.Category, pipelinev1.ForecastCategory]{pipelinedef.CategoryClosed, pipelinev1.ForecastCategory_FORECAST_CATEGORY_CLOSED},
	enumPair[pipelinedef.Category, pipelinev1.ForecastCategory]{pipelinedef.CategoryOmitted, pipelinev1.ForecastCategory_FORECAST_CATEGORY_OMITTED},
)

var stageKinds = newEnumTable(
	enumPair[pipelinedef.Kind, pipelinev1.StageKind]{pipelinedef.KindUnspecified, pipelinev1.StageKind_STAGE_KIND_UNSPECIFIED},
	enumPair[pipelinedef.Kind, pipelinev1.StageKind]{pipelinedef.KindOpen, pipelinev1.StageKind_STAGE_KIND_OPEN},
	enumPair[pipelinedef.Kind, pipelinev1.StageKind]{pipelinedef.KindWon, pipelinev1.StageKind_STAGE_KIND_WON},
	enumPair[pipelinedef.Kind, pipelinev1.StageKind]{pipelinedef.KindLost, pipelinev1.StageKind_STAGE_KIND_LOST},
)

var statuses = newEnumTable(
	enumPair[opportunity.Status, pipelinev1.OpportunityStatus]{opportunity.StatusUnspecified, pipelinev1.OpportunityStatus_OPPORTUNITY_STATUS_UNSPECIFIED},
	enumPair[opportunity.Status, pipelinev1.OpportunityStatus]{opportunity.StatusOpen, pipelinev1.OpportunityStatus_OPPORTUNITY_STATUS_OPEN},
	enumPair[opportunity.Status, pipelinev1.OpportunityStatus]{opportunity.StatusWon, pipelinev1.OpportunityStatus_OPPORTUNITY_STATUS_WON},
	enumPair[opportunity.Status, pipelinev1.OpportunityStatus]{opportunity.StatusLost, pipelinev1.OpportunityStatus_OPPORTUNITY_STATUS_LOST},
)

var sources = newEnumTable(
	enumPair[opportunity.Source, pipelinev1.OpportunitySource]{opportunity.SourceUnspecified, pipelinev1.OpportunitySource_OPPORTUNITY_SOURCE_UNSPECIFIED},
	enumPair[opportunity.Source, pipelinev1.OpportunitySource]{opportunity.SourceWebForm, pipelinev1.OpportunitySource_OPPORTUNITY_SOURCE_WEB_FORM},
	enumPair[opportunity.Source, pipelinev1.OpportunitySource]{opportunity.SourceEvent, pipelinev1.OpportunitySource_OPPORTUNITY_SOURCE_EVENT},
	enumPair[opportunity.Source, pipelinev1.OpportunitySource]{opportunity.SourceReferral, pipelinev1.OpportunitySource_OPPORTUNITY_SOURCE_REFERRAL},
	enumPair[opportunity.Source, pipelinev1.OpportunitySource]{opportunity.SourceAdvertisement, pipelinev1.OpportunitySource_OPPORTUNITY_SOURCE_ADVERTISEMENT},
	enumPair[opportunity.Source, pipelinev1.OpportunitySource]{opportunity.SourceSocial, pipelinev1.OpportunitySource_OPPORTUNITY_SOURCE_SOCIAL},
	enumPair[opportunity.Source, pipelinev1.OpportunitySource]{opportunity.SourceEmail, pipelinev1.OpportunitySource_OPPORTUNITY_SOURCE_EMAIL},
	enumPair[opportunity.Source, pipelinev1.OpportunitySource]{opportunity.SourcePartner, pipelinev1.OpportunitySource_OPPORTUNITY_SOURCE_PARTNER},
	enumPair[opportunity.Source, pipelinev1.OpportunitySource]{opportunity.SourceImport, pipelinev1.OpportunitySource_OPPORTUNITY_SOURCE_IMPORT},
	enumPair[opportunity.Source, pipelinev1.OpportunitySource]{opportunity.SourceOther, pipelinev1.OpportunitySource_OPPORTUNITY_SOURCE_OTHER},
)

var roles = newEnumTable(
	enumPair[opportunity.Role, pipelinev1.ContactRole]{opportunity.RoleUnspecified, pipelinev1.ContactRole_CONTACT_ROLE_UNSPECIFIED},
	enumPair[opportunity.Role, pipelinev1.ContactRole]{opportunity.RoleDecisionMaker, pipelinev1.ContactRole_CONTACT_ROLE_DECISION_MAKER},
	enumPair[opportunity.Role, pipelinev1.ContactRole]{opportunity.RoleEconomicBuyer, pipelinev1.ContactRole_CONTACT_ROLE_ECONOMIC_BUYER},
	enumPair[opportunity.Role, pipelinev1.ContactRole]{opportunity.RoleInfluencer, pipelinev1.ContactRole_CONTACT_ROLE_INFLUENCER},
	enumPair[opportunity.Role, pipelinev1.ContactRole]{opportunity.RoleChampion, pipelinev1.ContactRole_CONTACT_ROLE_CHAMPION},
	enumPair[opportunity.Role, pipelinev1.ContactRole]{opportunity.RoleUser, pipelinev1.ContactRole_CONTACT_ROLE_USER},
	enumPair[opportunity.Role, pipelinev1.ContactRole]{opportunity.RoleOther, pipelinev1.ContactRole_CONTACT_ROLE_OTHER},
)

var lostReasons = newEnumTable(
	enumPair[opportunity.LostReason, pipelinev1.LostReason]{opportunity.LostUnspecified, pipelinev1.LostReason_LOST_REASON_UNSPECIFIED},
	enumPair[opportunity.LostReason, pipelinev1.LostReason]{opportunity.LostPrice, pipelinev1.LostReason_LOST_REASON_PRICE},
	enumPair[opportunity.LostReason, pipelinev1.LostReason]{opportunity.LostCompetitor, pipelinev1.LostReason_LOST_REASON_COMPETITOR},
	enumPair[opportunity.LostReason, pipelinev1.LostReason]{opportunity.LostNoDecision, pipelinev1.LostReason_LOST_REASON_NO_DECISION},
	enumPair[opportunity.LostReason, pipelinev1.LostReason]{opportunity.LostTiming, pipelinev1.LostReason_LOST_REASON_TIMING},
	enumPair[opportunity.LostReason, pipelinev1.LostReason]{opportunity.LostProductFit, pipelinev1.LostReason_LOST_REASON_PRODUCT_FIT},
	enumPair[opportunity.LostReason, pipelinev1.LostReason]{opportunity.LostOther, pipelinev1.LostReason_LOST_REASON_OTHER},
)

var directions = newEnumTable(
	enumPair[opportunity.Direction, pipelinev1.StageChangeDirection]{opportunity.DirectionUnspecified, pipelinev1.StageChangeDirection_STAGE_CHANGE_DIRECTION_UNSPECIFIED},
	enumPair[opportunity.Direction, pipelinev1.StageChangeDirection]{opportunity.DirectionForward, pipelinev1.StageChangeDirection_STAGE_CHANGE_DIRECTION_FORWARD},
	enumPair[opportunity.Direction, pipelinev1.StageChangeDirection]{opportunity.DirectionBackward, pipelinev1.StageChangeDirection_STAGE_CHANGE_DIRECTION_BACKWARD},
)

var amountReasons = newEnumTable(
	enumPair[opportunity.AmountChangeReason, pipelinev1.AmountChangeReason]{opportunity.AmountReasonUnspecified, pipelinev1.AmountChangeReason_AMOUNT_CHANGE_REASON_UNSPECIFIED},
	enumPair[opportunity.AmountChangeReason, pipelinev1.AmountChangeReason]{opportunity.AmountManual, pipelinev1.AmountChangeReason_AMOUNT_CHANGE_REASON_MANUAL},
	enumPair[opportunity.AmountChangeReason, pipelinev1.AmountChangeReason]{opportunity.AmountQuoteAccepted, pipelinev1.AmountChangeReason_AMOUNT_CHANGE_REASON_QUOTE_ACCEPTED},
	enumPair[opportunity.AmountChangeReason, pipelinev1.AmountChangeReason]{opportunity.AmountWon, pipelinev1.AmountChangeReason_AMOUNT_CHANGE_REASON_WON},
)

var quoteStatuses = newEnumTable(
	enumPair[quote.Status, pipelinev1.QuoteStatus]{quote.StatusUnspecified, pipelinev1.QuoteStatus_QUOTE_STATUS_UNSPECIFIED},
	enumPair[quote.Status, pipelinev1.QuoteStatus]{quote.StatusDraft, pipelinev1.QuoteStatus_QUOTE_STATUS_DRAFT},
	enumPair[quote.Status, pipelinev1.QuoteStatus]{quote.StatusSent, pipelinev1.QuoteStatus_QUOTE_STATUS_SENT},
	enumPair[quote.Status, pipelinev1.QuoteStatus]{quote.StatusAccepted, pipelinev1.QuoteStatus_QUOTE_STATUS_ACCEPTED},
	enumPair[quote.Status, pipelinev1.QuoteStatus]{quote.StatusRejected, pipelinev1.QuoteStatus_QUOTE_STATUS_REJECTED},
	enumPair[quote.Status, pipelinev1.QuoteStatus]{quote.StatusExpired, pipelinev1.QuoteStatus_QUOTE_STATUS_EXPIRED},
	enumPair[quote.Status, pipelinev1.QuoteStatus]{quote.StatusSuperseded, pipelinev1.QuoteStatus_QUOTE_STATUS_SUPERSEDED},
)

var contractStatuses = newEnumTable(
	enumPair[contract.Status, pipelinev1.ContractStatus]{contract.StatusUnspecified, pipelinev1.ContractStatus_CONTRACT_STATUS_UNSPECIFIED},
	enumPair[contract.Status, pipelinev1.ContractStatus]{contract.StatusDraft, pipelinev1.ContractStatus_CONTRACT_STATUS_DRAFT},
	enumPair[contract.Status, pipelinev1.ContractStatus]{contract.StatusActive, pipelinev1.ContractStatus_CONTRACT_STATUS_ACTIVE},
	enumPair[contract.Status, pipelinev1.ContractStatus]{contract.StatusExpired, pipelinev1.ContractStatus_CONTRACT_STATUS_EXPIRED},
	enumPair[contract.Status, pipelinev1.ContractStatus]{contract.StatusTerminated, pipelinev1.ContractStatus_CONTRACT_STATUS_TERMINATED},
)

var periods = newEnumTable(
	enumPair[forecast.Period, pipelinev1.ForecastPeriod]{forecast.PeriodUnspecified, pipelinev1.ForecastPeriod_FORECAST_PERIOD_UNSPECIFIED},
	enumPair[forecast.Period, pipelinev1.ForecastPeriod]{forecast.PeriodMonth, pipelinev1.ForecastPeriod_FORECAST_PERIOD_MONTH},
	enumPair[forecast.Period, pipelinev1.ForecastPeriod]{forecast.PeriodQuarter, pipelinev1.ForecastPeriod_FORECAST_PERIOD_QUARTER},
)

var fieldTypes = newEnumTable(
	enumPair[customfield.Type, pipelinev1.CustomFieldType]{customfield.TypeUnspecified, pipelinev1.CustomFieldType_CUSTOM_FIELD_TYPE_UNSPECIFIED},
	enumPair[customfield.Type, pipelinev1.CustomFieldType]{customfield.TypeString, pipelinev1.CustomFieldType_CUSTOM_FIELD_TYPE_STRING},
	enumPair[customfield.Type, pipelinev1.CustomFieldType]{customfield.TypeNumber, pipelinev1.CustomFieldType_CUSTOM_FIELD_TYPE_NUMBER},
	enumPair[customfield.Type, pipelinev1.CustomFieldType]{customfield.TypeBool, pipelinev1.CustomFieldType_CUSTOM_FIELD_TYPE_BOOL},
	enumPair[customfield.Type, pipelinev1.CustomFieldType]{customfield.TypeDate, pipelinev1.CustomFieldType_CUSTOM_FIELD_TYPE_DATE},
)

var opportunitySorts = newEnumTable(
	enumPair[OpportunitySort, pipelinev1.OpportunityOrderBy]{OpportunitySortCreatedAt, pipelinev1.OpportunityOrderBy_OPPORTUNITY_ORDER_BY_CREATED_AT},
	enumPair[OpportunitySort, pipelinev1.OpportunityOrderBy]{OpportunitySortUpdatedAt, pipelinev1.OpportunityOrderBy_OPPORTUNITY_ORDER_BY_UPDATED_AT},
	enumPair[OpportunitySort, pipelinev1.OpportunityOrderBy]{OpportunitySortExpectedCloseDate, pipelinev1.OpportunityOrderBy_OPPORTUNITY_ORDER_BY_EXPECTED_CLOSE_DATE},
	enumPair[OpportunitySort, pipelinev1.OpportunityOrderBy]{OpportunitySortAmount, pipelinev1.OpportunityOrderBy_OPPORTUNITY_ORDER_BY_AMOUNT},
)

var contractSorts = newEnumTable(
	enumPair[ContractSort, pipelinev1.ContractOrderBy]{ContractSortCreatedAt, pipelinev1.ContractOrderBy_CONTRACT_ORDER_BY_CREATED_AT},
	enumPair[ContractSort, pipelinev1.ContractOrderBy]{ContractSortRenewalDate, pipelinev1.ContractOrderBy_CONTRACT_ORDER_BY_RENEWAL_DATE},
	enumPair[ContractSort, pipelinev1.ContractOrderBy]{ContractSortEndDate, pipelinev1.ContractOrderBy_CONTRACT_ORDER_BY_END_DATE},
)

// CategoryToProto maps a forecast category.
func CategoryToProto(c pipelinedef.Category) pipelinev1.ForecastCategory { return categories.proto(c) }

// CategoryFromProto maps a requested forecast category; an undeclared number is Invalid naming
// field.
func CategoryFromProto(c pipelinev1.ForecastCategory, field string) (pipelinedef.Category, error) {
	return categories.requestErr(c, field)
}

// StageKindToProto maps a stage kind.
func StageKindToProto(k pipelinedef.Kind) pipelinev1.StageKind { return stageKinds.proto(k) }

// StageKindFromProto maps a requested stage kind; an undeclared number is Invalid naming field.
func StageKindFromProto(k pipelinev1.StageKind, field string) (pipelinedef.Kind, error) {
	return stageKinds.requestErr(k, field)
}

// StatusToProto maps an opportunity status.
func StatusToProto(s opportunity.Status) pipelinev1.OpportunityStatus { return statuses.proto(s) }

// StatusFromProto maps a requested opportunity status (a list filter); an undeclared number is
// Invalid naming field.
func StatusFromProto(s pipelinev1.OpportunityStatus, field string) (opportunity.Status, error) {
	return statuses.requestErr(s, field)
}

// SourceToProto maps an opportunity source.
func SourceToProto(s opportunity.Source) pipelinev1.OpportunitySource { return sources.proto(s) }

// SourceFromProto maps a requested source; an undeclared number is Invalid naming field.
func SourceFromProto(s pipelinev1.OpportunitySource, field string) (opportunity.Source, error) {
	return sources.requestErr(s, field)
}

// RoleToProto maps a contact role.
func RoleToProto(r opportunity.Role) pipelinev1.ContactRole { return roles.proto(r) }

// RoleFromProto maps a requested contact role; an undeclared number is Invalid naming field.
func RoleFromProto(r pipelinev1.ContactRole, field string) (opportunity.Role, error) {
	return roles.requestErr(r, field)
}

// LostReasonToProto maps a lost reason.
func LostReasonToProto(r opportunity.LostReason) pipelinev1.LostReason { return lostReasons.proto(r) }

// LostReasonFromProto maps a requested lost reason; an undeclared number is Invalid naming
// field.
func LostReasonFromProto(r pipelinev1.LostReason, field string) (opportunity.LostReason, error) {
	return lostReasons.requestErr(r, field)
}

// DirectionToProto maps a stage change direction.
func DirectionToProto(d opportunity.Direction) pipelinev1.StageChangeDirection {
	return directions.proto(d)
}

// DirectionFromProto maps a recorded stage change direction (events only; no request carries
// one).
func DirectionFromProto(d pipelinev1.StageChangeDirection) opportunity.Direction {
	return directions.domain(d)
}

// AmountReasonToProto maps an amount change reason.
func AmountReasonToProto(r opportunity.AmountChangeReason) pipelinev1.AmountChangeReason {
	return amountReasons.proto(r)
}

// AmountReasonFromProto maps a recorded amount change reason (events only).
func AmountReasonFromProto(r pipelinev1.AmountChangeReason) opportunity.AmountChangeReason {
	return amountReasons.domain(r)
}

// QuoteStatusToProto maps a quote status.
func QuoteStatusToProto(s quote.Status) pipelinev1.QuoteStatus { return quoteStatuses.proto(s) }

// QuoteStatusFromProto maps a recorded quote status (quotes' statuses are output only).
func QuoteStatusFromProto(s pipelinev1.QuoteStatus) quote.Status { return quoteStatuses.domain(s) }

// ContractStatusToProto maps a contract status.
func ContractStatusToProto(s contract.Status) pipelinev1.ContractStatus {
	return contractStatuses.proto(s)
}

// ContractStatusFromProto maps a requested contract status (a list filter); an undeclared
// number is Invalid naming field.
func ContractStatusFromProto(s pipelinev1.ContractStatus, field string) (contract.Status, error) {
	return contractStatuses.requestErr(s, field)
}

// PeriodToProto maps a forecast period.
func PeriodToProto(p forecast.Period) pipelinev1.ForecastPeriod { return periods.proto(p) }

// PeriodFromProto maps a requested forecast period; an undeclared number is Invalid naming
// field. UNSPECIFIED maps to forecast.PeriodUnspecified (which the domain buckets by month).
func PeriodFromProto(p pipelinev1.ForecastPeriod, field string) (forecast.Period, error) {
	return periods.requestErr(p, field)
}

// FieldTypeToProto maps a custom field type.
func FieldTypeToProto(t customfield.Type) pipelinev1.CustomFieldType { return fieldTypes.proto(t) }

// FieldTypeFromProto maps a requested custom field type; an undeclared number is Invalid naming
// field.
func FieldTypeFromProto(t pipelinev1.CustomFieldType, field string) (customfield.Type, error) {
	return fieldTypes.requestErr(t, field)
}

// OpportunitySortToProto maps a sort key of ListOpportunities.
func OpportunitySortToProto(s OpportunitySort) pipelinev1.OpportunityOrderBy {
	return opportunitySorts.proto(s)
}

// OpportunitySortFromProto maps a requested sort key: UNSPECIFIED is OpportunitySortCreatedAt
// (the proto's default), an undeclared number is Invalid naming field.
func OpportunitySortFromProto(o pipelinev1.OpportunityOrderBy, field string) (OpportunitySort, error) {
	if o == pipelinev1.OpportunityOrderBy_OPPORTUNITY_ORDER_BY_UNSPECIFIED {
		return OpportunitySortCreatedAt, nil
	}
	return opportunitySorts.requestErr(o, field)
}

// ContractSortToProto maps a sort key of ListContracts.
func ContractSortToProto(s ContractSort) pipelinev1.ContractOrderBy { return contractSorts.proto(s) }

// ContractSortFromProto maps a requested sort key: UNSPECIFIED is ContractSortCreatedAt (the
// proto's default), an undeclared number is Invalid naming field.
func ContractSortFromProto(o pipelinev1.ContractOrderBy, field string) (ContractSort, error) {
	if o == pipelinev1.ContractOrderBy_CONTRACT_ORDER_BY_UNSPECIFIED {
		return ContractSortCreatedAt, nil
	}
	return contractSorts.requestErr(o, field)
}
