package protomap

import (
	"regexp"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/evcrm/evcrm/libs/apperr"
)

// The domain names the fields of a violation relative to its command and in its own words
// ("lines[2].quantity", "final_amount", "closed_on", "new_end_date"); a client needs the path
// in its request ("quote.line_items[2].quantity", "amount", "close_date", "end_date").
// RequestError translates, per request type.

// pathRule rewrites a matching domain path into a request path.
type pathRule struct {
	re   *regexp.Regexp
	repl string
}

func rule(re, repl string) pathRule { return pathRule{regexp.MustCompile("^" + re + "$"), repl} }

// requestPaths is how one request's violations translate: the first matching rule gives the
// path; a path no rule matches gets prefix (the request field holding the payload).
type requestPaths struct {
	prefix string
	rules  []pathRule
}

var keepMask = rule(`(update_mask\..*|update_mask)`, "$1")

// stageRules rename the stage fields the domain names after its own struct; at is where the
// stages are in the request.
func stageRules(at string) []pathRule {
	return []pathRule{
		rule(`stages\[(\d+)\]\.probability`, at+"stages[$1].default_probability"),
		rule(`stages\[(\d+)\]\.category`, at+"stages[$1].forecast_category"),
	}
}

// roleRules rename the contact role fields; at is where the list is in the request.
func roleRules(domain, at string) []pathRule {
	return []pathRule{
		rule(domain+`\[(\d+)\]\.primary`, at+"[$1].is_primary"),
		rule(domain+`(\[.*|)`, at+"$1"),
	}
}

// requestPathsByType maps request message names to their translation; requests not listed
// take the domain's paths as they are.
var requestPathsByType = map[string]requestPaths{
	"CreatePipelineRequest":             {prefix: "pipeline.", rules: stageRules("pipeline.")},
	"UpdatePipelineRequest":             {rules: append([]pathRule{rule(`id`, "pipeline_id")}, stageRules("")...)},
	"UpdatePipelineConfigRequest":       {prefix: "config."},
	"CreateOpportunityRequest":          {prefix: "opportunity.", rules: append([]pathRule{rule(`id`, "opportunity_id")}, roleRules("contact_roles", "opportunity.contact_roles")...)},
	"UpdateOpportunityRequest":          {prefix: "opportunity.", rules: []pathRule{keepMask}},
	"MarkOpportunityWonRequest":         {rules: []pathRule{rule(`final_amount`, "amount"), rule(`closed_on`, "close_date")}},
	"MarkOpportunityLostRequest":        {rules: []pathRule{rule(`closed_on`, "close_date")}},
	"AssignOpportunityRequest":          {rules: []pathRule{rule(`reason`, "note")}},
	"SetOpportunityContactRolesRequest": {rules: roleRules("roles", "contact_roles")},
	"CreateQuoteRequest":                {prefix: "quote.", rules: []pathRule{rule(`lines(\[.*|)`, "quote.line_items$1")}},
	"ReviseQuoteRequest": {prefix: "quote.", rules: []pathRule{rule(`quote_id`, "quote_id"),
		rule(`lines(\[.*|)`, "quote.line_items$1")}},
	"CreateContractRequest": {prefix: "contract."},
	"UpdateContractRequest": {prefix: "contract.", rules: []pathRule{keepMask}},
	"RenewContractRequest":  {rules: []pathRule{rule(`new_(end_date|renewal_date|value)`, "$1")}},
}

// RequestError returns err with the field paths of its violations rewritten from the domain's
// command paths into the paths of req's message (e.g. for a CreateQuoteRequest,
// "lines[2].quantity" → "quote.line_items[2].quantity"; for a RenewContractRequest,
// "new_end_date" → "end_date"). Errors that are not Invalid, and nil, are returned as they are.
// Violations the mappers of this package produce already carry request paths: pass only the
// domain's errors. A "moved_by" violation names the caller, not a request field, and is kept.
func RequestError(req proto.Message, err error) error {
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.Invalid || len(e.Fields) == 0 {
		return err
	}
	desc := req.ProtoReflect().Descriptor()
	t, ok := requestPathsByType[string(desc.Name())]
	if !ok {
		return err
	}
	out := *e
	out.Fields = slices.Clone(e.Fields)
	for i, f := range out.Fields {
		out.Fields[i].Field = t.path(f.Field, desc)
	}
	return &out
}

// path translates p: a rule that matches wins; a path whose first segment is a field of the
// request itself (the app checks ids such as opportunity_id before the domain runs) is kept;
// anything else is under the payload's prefix.
func (t requestPaths) path(p string, req protoreflect.MessageDescriptor) string {
	if p == "moved_by" {
		return p
	}
	for _, r := range t.rules {
		if r.re.MatchString(p) {
			return r.re.ReplaceAllString(p, r.repl)
		}
	}
	head := p
	if i := strings.IndexAny(p, ".["); i >= 0 {
		head = p[:i]
	}
	if req.Fields().ByName(protoreflect.Name(head)) != nil {
		return p
	}
	return t.prefix + p
}
