package leadsclient

import (
	"context"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/evcrm/evcrm/libs/apperr"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/protoconv"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/segment"
)

// Page returns one page of the leads (object lead) or contacts (object contact) that f
// selects, oldest first by creation (keyset paging, so records created while a segment is
// paged through come after the cursor and are neither skipped nor repeated), as segment
// persons without touches, and the token of the next page ("" on the last). token must come
// from a call with the same f. The tenant travels in ctx.
func (c *Client) Page(ctx context.Context, o segment.Object, f segment.Filter, pageSize int, token string) ([]segment.Person, string, error) {
	if o == segment.ObjectContact {
		return c.contactPage(ctx, f, pageSize, token)
	}
	req := &leadsv1.ListLeadsRequest{Tag: f.Tag, TerritoryIds: f.Territories, MinScore: f.MinScore, MaxScore: f.MaxScore,
		CreatedAfter: protoconv.Timestamp(f.CreatedAfter), UpdatedAfter: protoconv.Timestamp(f.UpdatedAfter),
		OrderBy: leadsv1.LeadOrderBy_LEAD_ORDER_BY_CREATED_AT, PageSize: int32(pageSize), PageToken: token}
	for _, s := range f.Statuses {
		req.Statuses = append(req.Statuses, leadsv1.LeadStatus(leadsv1.LeadStatus_value["LEAD_STATUS_"+s]))
	}
	for _, s := range f.Sources {
		req.Sources = append(req.Sources, leadsv1.LeadSource(leadsv1.LeadSource_value["LEAD_SOURCE_"+s]))
	}
	for _, s := range f.Temperatures {
		req.Temperatures = append(req.Temperatures, leadsv1.Temperature(leadsv1.Temperature_value["TEMPERATURE_"+s]))
	}
	res, err := c.leads.ListLeads(ctx, req)
	if err != nil {
		return nil, "", listErr(err)
	}
	out := make([]segment.Person, len(res.GetLeads()))
	for i, l := range res.GetLeads() {
		out[i] = LeadPerson(l)
	}
	return out, res.GetNextPageToken(), nil
}

func (c *Client) contactPage(ctx context.Context, f segment.Filter, pageSize int, token string) ([]segment.Person, string, error) {
	res, err := c.contacts.ListContacts(ctx, &leadsv1.ListContactsRequest{Tag: f.Tag, Country: f.Country,
		CreatedAfter: protoconv.Timestamp(f.CreatedAfter), UpdatedAfter: protoconv.Timestamp(f.UpdatedAfter),
		OrderBy: leadsv1.ContactOrderBy_CONTACT_ORDER_BY_CREATED_AT, PageSize: int32(pageSize), PageToken: token})
	if err != nil {
		return nil, "", listErr(err)
	}
	out := make([]segment.Person, len(res.GetContacts()))
	for i, p := range res.GetContacts() {
		out[i] = ContactPerson(p)
	}
	return out, res.GetNextPageToken(), nil
}

// listErr keeps a refused page token recognisable (the leads service's paging changed, or the
// filters did) and turns every other failure into Unavailable: the enrollment stops at its last
// recorded page and resumes when called again.
func listErr(err error) error {
	if status.Code(err) == codes.InvalidArgument {
		return apperr.Wrap(apperr.FailedPrecondition, err, "leads service refused the page request")
	}
	return apperr.Wrap(apperr.Unavailable, err, "leads service")
}

// enumName is an enum value's name without its prefix, "" for the zero value.
func enumName(name, prefix string) string {
	if strings.HasSuffix(name, "_UNSPECIFIED") {
		return ""
	}
	return strings.TrimPrefix(name, prefix)
}

// LeadPerson maps a lead to what segment criteria see.
func LeadPerson(l *leadsv1.Lead) segment.Person {
	return segment.Person{Object: segment.ObjectLead, ID: l.GetId(),
		Status:      enumName(l.GetStatus().String(), "LEAD_STATUS_"),
		Source:      enumName(l.GetSource().String(), "LEAD_SOURCE_"),
		Temperature: enumName(l.GetScore().GetTemperature().String(), "TEMPERATURE_"),
		Tags:        l.GetTags(), Score: l.GetScore().GetTotal(), TerritoryID: l.GetTerritoryId(), Country: l.GetCountry(),
		Industry: l.GetIndustry(), Employees: l.GetEmployeeCount(),
		CreatedAt: protoconv.Time(l.GetCreatedAt()), UpdatedAt: protoconv.Time(l.GetUpdatedAt()),
		EmailOptOut: l.GetEmailOptOut(), DoNotContact: l.GetDoNotContact()}
}

// ContactPerson maps a contact to what segment criteria see (its mailing country).
func ContactPerson(p *leadsv1.Contact) segment.Person {
	return segment.Person{Object: segment.ObjectContact, ID: p.GetId(),
		Source: enumName(p.GetSource().String(), "LEAD_SOURCE_"), Tags: p.GetTags(),
		Country: p.GetMailingAddress().GetCountry(), CreatedAt: protoconv.Time(p.GetCreatedAt()), UpdatedAt: protoconv.Time(p.GetUpdatedAt()),
		EmailOptOut: p.GetEmailOptOut(), DoNotContact: p.GetDoNotContact()}
}
