package protomap

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/evcrm/evcrm/libs/apperr"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/member"
)

// ResponseInput is a request's response in plain Go (the app's Response has the same fields).
type ResponseInput struct {
	CampaignID string
	Type       member.Type
	PersonID   string
	Status     string
	OccurredAt time.Time
	Metadata   map[string]string
}

// ResponseFromProto maps a request's response (field paths under "response"); an unknown
// member type or an invalid timestamp is Invalid.
func ResponseFromProto(p *campaignv1.Response) (ResponseInput, error) {
	var v apperr.Violations
	if p == nil {
		v.Add("response", "required")
		return ResponseInput{}, v.Err("invalid response")
	}
	t := MemberTypeFromProto(p.GetMemberType(), "response.member_type", &v)
	var at time.Time
	if ts := p.GetOccurredAt(); ts != nil {
		if err := ts.CheckValid(); err != nil {
			v.Add("response.occurred_at", "not a valid timestamp")
		} else {
			at = ts.AsTime()
		}
	}
	if err := v.Err("invalid response"); err != nil {
		return ResponseInput{}, err
	}
	return ResponseInput{CampaignID: p.GetCampaignId(), Type: t, PersonID: p.GetPersonId(), Status: p.GetStatus(),
		OccurredAt: at, Metadata: p.GetMetadata()}, nil
}

// MemberRefFromProto maps a person of a request at path (e.g. "people[3]").
func MemberRefFromProto(p *campaignv1.MemberRef, path string, v *apperr.Violations) (member.Type, string) {
	if p == nil {
		v.Add(path, "required")
		return member.TypeUnspecified, ""
	}
	return MemberTypeFromProto(p.GetType(), fmt.Sprintf("%s.type", path), v), p.GetPersonId()
}

func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}
