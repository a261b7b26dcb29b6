package protomap

import (
	"fmt"

	"github.com/evcrm/evcrm/libs/apperr"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/domain/activity"
)

// RecordRefToProto maps a record reference; the zero reference is an unset field.
func RecordRefToProto(r activity.RecordRef) *leadsv1.RecordRef {
	if r.IsZero() {
		return nil
	}
	return &leadsv1.RecordRef{Type: leadsv1.RecordType(r.Type), Id: r.ID}
}

// RecordRefFromProto is the inverse of RecordRefToProto (an unset field is the zero reference).
func RecordRefFromProto(p *leadsv1.RecordRef) activity.RecordRef {
	if p == nil {
		return activity.RecordRef{}
	}
	return activity.RecordRef{Type: activity.RecordType(p.GetType()), ID: p.GetId()}
}

// RecordRefRequest maps a record named by a request: an undeclared type number is Invalid
// naming field+".type" (the zero type is left to the domain, which knows whether the record
// is required).
func RecordRefRequest(p *leadsv1.RecordRef, field string) (activity.RecordRef, error) {
	var v apperr.Violations
	checkEnum(p.GetType(), field+".type", &v)
	if err := v.Err("invalid record"); err != nil {
		return activity.RecordRef{}, err
	}
	return RecordRefFromProto(p), nil
}

// ActivityToProto maps an activity, every field.
func ActivityToProto(a activity.Activity) *leadsv1.Activity {
	p := &leadsv1.Activity{
		Id: a.ID, Version: a.Version, Kind: leadsv1.ActivityKind(a.Kind), Subject: a.Subject, Body: a.Body,
		Direction: leadsv1.ActivityDirection(a.Direction), Outcome: a.Outcome, Duration: dur(a.Duration),
		Participants: cloneOrNil(a.Participants), OccurredAt: ts(a.OccurredAt), LoggedBy: a.LoggedBy,
		CreatedAt: ts(a.CreatedAt),
	}
	for _, r := range a.Records {
		p.Records = append(p.Records, RecordRefToProto(r))
	}
	return p
}

// ActivityFromProto is the lossless inverse of ActivityToProto.
func ActivityFromProto(p *leadsv1.Activity) activity.Activity {
	a := activity.Activity{
		ID: p.GetId(), Version: p.GetVersion(), Kind: activity.Kind(p.GetKind()), Subject: p.GetSubject(),
		Body: p.GetBody(), Direction: activity.Direction(p.GetDirection()), Outcome: p.GetOutcome(),
		Duration: fromDur(p.GetDuration()), Participants: cloneOrNil(p.GetParticipants()),
		OccurredAt: fromTS(p.GetOccurredAt()), LoggedBy: p.GetLoggedBy(), CreatedAt: fromTS(p.GetCreatedAt()),
	}
	for _, r := range p.GetRecords() {
		a.Records = append(a.Records, RecordRefFromProto(r))
	}
	return a
}

// NewActivityFromProto maps the activity of a LogActivity request to the command; id is the
// id the app chose and loggedBy the acting user. Output-only fields are ignored. Undeclared
// enum numbers and malformed timestamps or durations are Invalid, one violation per field,
// with paths relative to the activity ("kind", "records[1].type", …).
func NewActivityFromProto(id, loggedBy string, p *leadsv1.Activity) (activity.NewActivity, error) {
	if p == nil {
		return activity.NewActivity{}, apperr.InvalidFields("invalid activity",
			apperr.FieldViolation{Field: "", Description: "is required"})
	}
	var v apperr.Violations
	checkEnum(p.GetKind(), "kind", &v)
	checkEnum(p.GetDirection(), "direction", &v)
	cmd := activity.NewActivity{ID: id, Kind: activity.Kind(p.GetKind()), Subject: p.GetSubject(), Body: p.GetBody(),
		Direction: activity.Direction(p.GetDirection()), Outcome: p.GetOutcome(),
		Participants: cloneOrNil(p.GetParticipants()), LoggedBy: loggedBy}
	for i, r := range p.GetRecords() {
		field := fmt.Sprintf("records[%d]", i)
		if r == nil {
			v.Add(field, "is required")
			continue
		}
		checkEnum(r.GetType(), field+".type", &v)
		cmd.Records = append(cmd.Records, RecordRefFromProto(r))
	}
	if d := p.GetDuration(); d != nil {
		if err := d.CheckValid(); err != nil {
			v.Add("duration", "is not a valid duration")
		}
		cmd.Duration = d.AsDuration()
	}
	if t := p.GetOccurredAt(); t != nil {
		if err := t.CheckValid(); err != nil {
			v.Add("occurred_at", "is not a valid time")
		}
		cmd.OccurredAt = t.AsTime()
	}
	if err := v.Err("invalid activity"); err != nil {
		return activity.NewActivity{}, err
	}
	return cmd, nil
}
