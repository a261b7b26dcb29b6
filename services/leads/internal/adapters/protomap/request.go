package protomap

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

// leadField is the request field that holds the lead in CreateLead and UpdateLead; violation
// paths start with it.
const leadField = "lead."

// NewLeadFromProto maps the lead of a CreateLead request to the command, id being the id the
// app chose. Only settable fields are read — the details, tags and owner_id; output-only ones
// (id, version, status, score, territory, BANT, timestamps, …) are ignored. Bad values the
// domain could no longer see after mapping are Invalid with one violation per field: an
// undeclared source ("lead.source"), a malformed annual_revenue ("lead.annual_revenue"), a
// custom value with no value set ("lead.custom_fields.<name>").
func NewLeadFromProto(id string, p *leadsv1.Lead) (lead.NewLead, error) {
	if p == nil {
		return lead.NewLead{}, apperr.InvalidFields("invalid lead",
			apperr.FieldViolation{Field: "lead", Description: "is required"})
	}
	var v apperr.Violations
	d := checkedDetails(p, func(string) bool { return true }, &v)
	if err := v.Err("invalid lead"); err != nil {
		return lead.NewLead{}, err
	}
	return lead.NewLead{ID: id, Details: d, Tags: cloneOrNil(p.GetTags()), OwnerID: p.GetOwnerId()}, nil
}

// notUpdatable are Lead fields that exist but UpdateLead does not change, with the RPC that
// does, so a client that names one is told where to go.
var notUpdatable = map[string]string{
	"id": "", "version": "", "created_at": "", "updated_at": "", "score": "", "territory_id": "",
	"merged_into_id": "", "merged_from_ids": "", "converted": "", "remarket": "",
	"status_changed_at": "", "assignment_reason": "", "engagement": "", "last_engaged_at": "",
	"tags":               "AddLeadTags and RemoveLeadTags",
	"owner_id":           "AssignLead",
	"status":             "ChangeLeadStatus",
	"qualification_path": "ChangeLeadStatus",
	"disqualify_reason":  "DisqualifyLead",
	"bant":               "SetBant",
}

// UpdateFromProto maps an UpdateLead request to the command. Mask paths are the proto field
// names, which are the domain's paths (lead.Paths, "utm", "custom_fields",
// "custom_fields.<name>"); any other path is Invalid ("update_mask.paths[i]"). Values of the
// named fields are checked like NewLeadFromProto's (paths "lead.<field>"); fields not named are
// ignored whatever they hold. An empty mask is passed on: the domain rejects it.
func UpdateFromProto(p *leadsv1.Lead, mask *fieldmaskpb.FieldMask) (lead.Update, error) {
	var v apperr.Violations
	known := map[string]bool{lead.PathUTM: true, lead.PathCustomFields: true}
	for _, path := range lead.Paths() {
		known[path] = true
	}
	paths := make([]string, 0, len(mask.GetPaths()))
	named := map[string]bool{}
	for i, path := range mask.GetPaths() {
		field := fmt.Sprintf("update_mask.paths[%d]", i)
		name, custom := strings.CutPrefix(path, lead.PathCustomFields+".")
		switch rpc, out := notUpdatable[path]; {
		case known[path]:
		case custom && customfield.ValidName(name):
		case custom:
			v.Add(field, "%q: a custom field name must match [a-z][a-z0-9_]{0,62}", path)
			continue
		case out && rpc != "":
			v.Add(field, "%q is not changed by UpdateLead; use %s", path, rpc)
			continue
		case out:
			v.Add(field, "%q is output only", path)
			continue
		default:
			v.Add(field, "unknown field %q", path)
			continue
		}
		paths = append(paths, path)
		named[path] = true
	}
	touched := func(path string) bool {
		if named[path] {
			return true
		}
		if strings.HasPrefix(path, "utm.") {
			return named[lead.PathUTM]
		}
		if strings.HasPrefix(path, lead.PathCustomFields+".") {
			return named[lead.PathCustomFields]
		}
		return false
	}
	d := checkedDetails(p, touched, &v)
	if err := v.Err("invalid lead update"); err != nil {
		return lead.Update{}, err
	}
	return lead.Update{Paths: paths, Details: d}, nil
}

// checkedDetails maps the details of a request, adding a violation (path "lead.<leaf>") for
// each touched leaf whose value cannot be mapped faithfully. Untouched bad values are dropped.
func checkedDetails(p *leadsv1.Lead, touched func(leaf string) bool, v *apperr.Violations) lead.Details {
	d := DetailsFromProto(p)
	var ev apperr.Violations
	if !checkEnum(p.GetSource(), leadField+lead.PathSource, &ev) {
		d.Source = lead.SourceUnspecified
		if touched(lead.PathSource) {
			*v = append(*v, ev...)
		}
	}
	var mv apperr.Violations
	d.AnnualRevenue = checkMoney(p.GetAnnualRevenue(), leadField+lead.PathAnnualRevenue, &mv)
	if touched(lead.PathAnnualRevenue) {
		*v = append(*v, mv...)
	}
	for _, name := range customfield.SortedNames(p.GetCustomFields()) {
		if p.GetCustomFields()[name].GetValue() != nil {
			continue
		}
		leaf := lead.PathCustomFields + "." + name
		delete(d.CustomFields, name)
		if touched(leaf) {
			v.Add(leadField+leaf, "has no value; omit the field to leave it empty")
		}
	}
	if len(d.CustomFields) == 0 {
		d.CustomFields = nil
	}
	return d
}
