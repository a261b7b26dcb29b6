package protomap

import (
	"fmt"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/evcrm/evcrm/libs/apperr"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

// ContactToProto maps a contact with its output-only fields.
func ContactToProto(c contact.Contact) *leadsv1.Contact {
	p := ContactDetailsToProto(c.Details)
	p.Id, p.Version, p.SourceLeadId = c.ID, c.Version, c.SourceLeadID
	p.CreatedAt, p.UpdatedAt = ts(c.CreatedAt), ts(c.UpdatedAt)
	return p
}

// ContactFromProto is the lossless inverse of ContactToProto (events, no validation).
func ContactFromProto(p *leadsv1.Contact) contact.Contact {
	return contact.Contact{ID: p.GetId(), Version: p.GetVersion(), Details: ContactDetailsFromProto(p),
		SourceLeadID: p.GetSourceLeadId(), CreatedAt: fromTS(p.GetCreatedAt()), UpdatedAt: fromTS(p.GetUpdatedAt())}
}

// RolesToProto maps contact roles.
func RolesToProto(rs []contact.Role) []leadsv1.ContactRole {
	if len(rs) == 0 {
		return nil
	}
	out := make([]leadsv1.ContactRole, len(rs))
	for i, r := range rs {
		out[i] = leadsv1.ContactRole(r)
	}
	return out
}

// RolesFromProto maps contact roles as they are.
func RolesFromProto(rs []leadsv1.ContactRole) []contact.Role {
	if len(rs) == 0 {
		return nil
	}
	out := make([]contact.Role, len(rs))
	for i, r := range rs {
		out[i] = contact.Role(r)
	}
	return out
}

// ContactDetailsToProto maps the settable fields into a Contact with nothing else set (the
// partial contacts of ContactUpdated).
func ContactDetailsToProto(d contact.Details) *leadsv1.Contact {
	return &leadsv1.Contact{
		FirstName: d.FirstName, LastName: d.LastName, Email: d.Email, Phone: d.Phone,
		MobilePhone: d.MobilePhone, JobTitle: d.JobTitle, Department: d.Department, AccountId: d.AccountID,
		Roles: RolesToProto(d.Roles), EmailOptOut: d.EmailOptOut, DoNotContact: d.DoNotContact,
		MailingAddress: AddressToProto(d.MailingAddress), OwnerId: d.OwnerID, Source: SourceToProto(d.Source),
		Tags: cloneOrNil(d.Tags), CustomFields: customToProto(d.CustomFields), Description: d.Description,
	}
}

// ContactDetailsFromProto is the lossless inverse of ContactDetailsToProto.
func ContactDetailsFromProto(p *leadsv1.Contact) contact.Details {
	return contact.Details{
		FirstName: p.GetFirstName(), LastName: p.GetLastName(), Email: p.GetEmail(), Phone: p.GetPhone(),
		MobilePhone: p.GetMobilePhone(), JobTitle: p.GetJobTitle(), Department: p.GetDepartment(),
		AccountID: p.GetAccountId(), Roles: RolesFromProto(p.GetRoles()), EmailOptOut: p.GetEmailOptOut(),
		DoNotContact: p.GetDoNotContact(), MailingAddress: AddressFromProto(p.GetMailingAddress()),
		OwnerID: p.GetOwnerId(), Source: lead.Source(p.GetSource()), Tags: cloneOrNil(p.GetTags()),
		CustomFields: customFromProto(p.GetCustomFields()), Description: p.GetDescription(),
	}
}

// NewContactFromProto maps the contact of a CreateContact request to the command (id "": the
// app draws one). Output-only fields are ignored; undeclared enum values ("contact.source",
// "contact.roles[i]") and custom values with no value are Invalid.
func NewContactFromProto(p *leadsv1.Contact) (contact.New, error) {
	if p == nil {
		return contact.New{}, apperr.InvalidFields("invalid contact", apperr.FieldViolation{Field: "contact", Description: "is required"})
	}
	var v apperr.Violations
	d := checkedContact(p, func(string) bool { return true }, &v)
	if err := v.Err("invalid contact"); err != nil {
		return contact.New{}, err
	}
	return contact.New{Details: d}, nil
}

// ContactUpdateFromProto maps an UpdateContact request. Mask paths are the proto field names
// (contact.ExpandPath); unknown and output-only ones are Invalid ("update_mask.paths[i]").
func ContactUpdateFromProto(p *leadsv1.Contact, mask *fieldmaskpb.FieldMask) (contact.Update, error) {
	var v apperr.Violations
	touched := map[string]bool{}
	for i, path := range mask.GetPaths() {
		ls, ok := contact.ExpandPath(path)
		if !ok {
			v.Add(fmt.Sprintf("update_mask.paths[%d]", i), "unknown or read-only field %q", path)
			continue
		}
		if path == contact.PathCustomFields {
			for name := range p.GetCustomFields() {
				ls = append(ls, contact.PathCustomFields+"."+name)
			}
		}
		for _, l := range ls {
			touched[l] = true
		}
	}
	d := checkedContact(p, func(leaf string) bool { return touched[leaf] }, &v)
	if err := v.Err("invalid contact update"); err != nil {
		return contact.Update{}, err
	}
	return contact.Update{Paths: append([]string(nil), mask.GetPaths()...), Details: d}, nil
}

func checkedContact(p *leadsv1.Contact, touched func(string) bool, v *apperr.Violations) contact.Details {
	d := ContactDetailsFromProto(p)
	var ev apperr.Violations
	if !checkEnum(p.GetSource(), contact.Field+contact.PathSource, &ev) {
		d.Source = lead.SourceUnspecified
		if touched(contact.PathSource) {
			*v = append(*v, ev...)
		}
	}
	var roles []contact.Role
	for i, r := range p.GetRoles() {
		var rv apperr.Violations
		if !checkEnum(r, fmt.Sprintf("%s%s[%d]", contact.Field, contact.PathRoles, i), &rv) {
			if touched(contact.PathRoles) {
				*v = append(*v, rv...)
			}
			continue
		}
		roles = append(roles, contact.Role(r))
	}
	d.Roles = roles
	d.CustomFields = checkedCustom(p.GetCustomFields(), d.CustomFields, contact.Field, touched, v)
	return d
}
