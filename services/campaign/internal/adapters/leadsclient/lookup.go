package leadsclient

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/evcrm/evcrm/libs/apperr"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/member"
)

// Contactability answers the suppression check for one person: found is false when the lead
// or contact does not exist. The tenant travels in ctx (grpcclient forwards it).
func (c *Client) Contactability(ctx context.Context, t member.Type, id string) (found, emailOptOut, doNotContact bool, err error) {
	switch t {
	case member.TypeLead:
		res, err := c.leads.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: id})
		if err != nil {
			return notFound(err)
		}
		l := res.GetLead()
		return true, l.GetEmailOptOut(), l.GetDoNotContact(), nil
	case member.TypeContact:
		res, err := c.contacts.GetContact(ctx, &leadsv1.GetContactRequest{ContactId: id})
		if err != nil {
			return notFound(err)
		}
		p := res.GetContact()
		return true, p.GetEmailOptOut(), p.GetDoNotContact(), nil
	}
	return false, false, false, apperr.New(apperr.Invalid, "unknown member type %d", t)
}

// notFound turns NotFound into found = false and any other failure into Unavailable, so a
// leads service that is down fails the add instead of adding unchecked people.
func notFound(err error) (bool, bool, bool, error) {
	switch status.Code(err) {
	case codes.NotFound:
		return false, false, false, nil
	case codes.InvalidArgument:
		// An id the leads service refuses names no lead or contact either.
		return false, false, false, nil
	}
	return false, false, false, apperr.Wrap(apperr.Unavailable, err, "leads service")
}
