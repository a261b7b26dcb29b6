package protomap

import (
	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
	"github.com/evcrm/evcrm/services/leads/internal/domain/territory"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Domain enums are numbered like their proto enums (see the domain's enums.go), so mapping is
// a cast. Requests are range-checked against the proto enum's declared values: a number the
// proto does not declare (a newer client, a hand-made request) is Invalid naming the field.
// The zero (UNSPECIFIED) value is in range; whether it is acceptable is the domain's call.

// enumValue is any generated proto enum.
type enumValue interface {
	~int32
	Descriptor() protoreflect.EnumDescriptor
}

// checkEnum adds a violation for field when e is not a declared value of its enum.
func checkEnum[E enumValue](e E, field string, v *apperr.Violations) bool {
	if e.Descriptor().Values().ByNumber(protoreflect.EnumNumber(e)) == nil {
		v.Add(field, "unknown %s value %d", e.Descriptor().Name(), int32(e))
		return false
	}
	return true
}

// enumFromProto range-checks e and casts it to the domain enum D.
func enumFromProto[D ~int, E enumValue](e E, field string) (D, error) {
	var v apperr.Violations
	if !checkEnum(e, field, &v) {
		return 0, v.Err("invalid enum value")
	}
	return D(e), nil
}

// StatusToProto maps a lead status.
func StatusToProto(s lead.Status) leadsv1.LeadStatus { return leadsv1.LeadStatus(s) }

// StatusFromProto maps a requested status; an undeclared number is Invalid naming field.
func StatusFromProto(s leadsv1.LeadStatus, field string) (lead.Status, error) {
	return enumFromProto[lead.Status](s, field)
}

// SourceToProto maps a lead source.
func SourceToProto(s lead.Source) leadsv1.LeadSource { return leadsv1.LeadSource(s) }

// SourceFromProto maps a requested source; an undeclared number is Invalid naming field.
func SourceFromProto(s leadsv1.LeadSource, field string) (lead.Source, error) {
	return enumFromProto[lead.Source](s, field)
}

// QualificationPathToProto maps a qualification path.
func QualificationPathToProto(p lead.QualificationPath) leadsv1.QualificationPath {
	return leadsv1.QualificationPath(p)
}

// QualificationPathFromProto maps a requested qualification path; an undeclared number is
// Invalid naming field.
func QualificationPathFromProto(p leadsv1.QualificationPath, field string) (lead.QualificationPath, error) {
	return enumFromProto[lead.QualificationPath](p, field)
}

// DisqualifyReasonToProto maps a disqualify reason.
func DisqualifyReasonToProto(r lead.DisqualifyReason) leadsv1.DisqualifyReason {
	return leadsv1.DisqualifyReason(r)
}

// DisqualifyReasonFromProto maps a requested disqualify reason; an undeclared number is
// Invalid naming field.
func DisqualifyReasonFromProto(r leadsv1.DisqualifyReason, field string) (lead.DisqualifyReason, error) {
	return enumFromProto[lead.DisqualifyReason](r, field)
}

// AssignmentReasonToProto maps an assignment reason.
func AssignmentReasonToProto(r lead.AssignmentReason) leadsv1.AssignmentReason {
	return leadsv1.AssignmentReason(r)
}

// AssignmentReasonFromProto maps an assignment reason (events and read models only; requests
// do not carry one).
func AssignmentReasonFromProto(r leadsv1.AssignmentReason) lead.AssignmentReason {
	return lead.AssignmentReason(r)
}

// SignalToProto maps an engagement signal.
func SignalToProto(s scoring.Signal) leadsv1.EngagementSignal { return leadsv1.EngagementSignal(s) }

// SignalFromProto maps a requested engagement signal; an undeclared number is Invalid naming
// field.
func SignalFromProto(s leadsv1.EngagementSignal, field string) (scoring.Signal, error) {
	return enumFromProto[scoring.Signal](s, field)
}

// TemperatureToProto maps a temperature.
func TemperatureToProto(t scoring.Temperature) leadsv1.Temperature { return leadsv1.Temperature(t) }

// TemperatureFromProto maps a temperature (scores are output only, so no range check).
func TemperatureFromProto(t leadsv1.Temperature) scoring.Temperature { return scoring.Temperature(t) }

// FitOperatorToProto maps a fit rule operator.
func FitOperatorToProto(o scoring.Op) leadsv1.FitOperator { return leadsv1.FitOperator(o) }

// AssignmentModeToProto maps a territory's assignment mode.
func AssignmentModeToProto(m territory.Mode) leadsv1.AssignmentMode {
	return leadsv1.AssignmentMode(m)
}

// CustomFieldTypeToProto maps a custom field type.
func CustomFieldTypeToProto(t customfield.Type) leadsv1.CustomFieldType {
	return leadsv1.CustomFieldType(t)
}
