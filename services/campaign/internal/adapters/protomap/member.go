package protomap

import (
	"fmt"

	"github.com/evcrm/evcrm/libs/apperr"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	"github.com/evcrm/evcrm/libs/protoconv"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/member"
)

// MemberToProto maps a member state.
func MemberToProto(m member.Member) *campaignv1.Member {
	return &campaignv1.Member{
		Id: m.ID, Version: m.Version, CampaignId: m.CampaignID, Type: campaignv1.MemberType(m.Type), PersonId: m.PersonID,
		Status: m.Status, Responded: m.Responded, Unsubscribed: m.Unsubscribed, AddedAt: protoconv.Timestamp(m.AddedAt),
		FirstRespondedAt: protoconv.Timestamp(m.FirstRespondedAt), LastResponseAt: protoconv.Timestamp(m.LastResponseAt),
		AddedBy: m.AddedBy,
	}
}

// MemberFromProto is the inverse of MemberToProto (the Kind of the latest status and the
// channel are not in the message and stay zero).
func MemberFromProto(p *campaignv1.Member) member.Member {
	return member.Member{
		ID: p.GetId(), Version: p.GetVersion(), CampaignID: p.GetCampaignId(), Type: member.Type(p.GetType()), PersonID: p.GetPersonId(),
		Status: p.GetStatus(), Responded: p.GetResponded(), Unsubscribed: p.GetUnsubscribed(), AddedAt: protoconv.Time(p.GetAddedAt()),
		FirstRespondedAt: protoconv.Time(p.GetFirstRespondedAt()), LastResponseAt: protoconv.Time(p.GetLastResponseAt()),
		AddedBy: p.GetAddedBy(),
	}
}

// MemberTypeFromProto maps a request's member type; unknown numbers are a violation of field
// (UNSPECIFIED passes, the app reports it as required).
func MemberTypeFromProto(t campaignv1.MemberType, field string, v *apperr.Violations) member.Type {
	if _, ok := campaignv1.MemberType_name[int32(t)]; !ok {
		v.Add(field, "unknown member type %d", t)
		return member.TypeUnspecified
	}
	return member.Type(t)
}

// KindToProto maps a response kind.
func KindToProto(k campaign.Kind) campaignv1.ResponseKind { return campaignv1.ResponseKind(k) }

// checkKind is used by tests and decoders to refuse kinds the proto does not declare.
func checkKind(k campaignv1.ResponseKind) error {
	if _, ok := campaignv1.ResponseKind_name[int32(k)]; !ok {
		return fmt.Errorf("unknown response kind %d", k)
	}
	return nil
}
