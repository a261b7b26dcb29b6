package eventstore

import (
	"fmt"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/reqctx"
)

// ValidToken reports whether s can be used as a tenant id, aggregate type or aggregate id. All
// three are subject tokens and follow the tenant id rule of DESIGN.md §3 (1 to 64 characters of
// [A-Za-z0-9_-]): a dot, wildcard or space would let one tenant's subject match another's filter.
func ValidToken(s string) bool { return reqctx.ValidTenantID(s) }

// Ref addresses one aggregate.
type Ref struct {
	Tenant string
	Type   string
	ID     string
}

// Validate returns an apperr.Invalid error naming each bad token.
func (r Ref) Validate() error {
	var v apperr.Violations
	for _, f := range []struct{ name, val string }{{"tenant_id", r.Tenant}, {"aggregate_type", r.Type}, {"aggregate_id", r.ID}} {
		if !ValidToken(f.val) {
			v.Add(f.name, "must be 1 to 64 characters of A-Z, a-z, 0-9, '_' or '-', got %q", f.val)
		}
	}
	return v.Err("invalid aggregate reference")
}

// String is tenant/type/id, for logs.
func (r Ref) String() string { return r.Tenant + "/" + r.Type + "/" + r.ID }

// Subject is the subject of one event of this aggregate: crm.<tenant>.<type>.<id>.<shortType>.
func (r Ref) Subject(shortType string) string {
	return fmt.Sprintf("crm.%s.%s.%s.%s", r.Tenant, r.Type, r.ID, shortType)
}

// Filter matches every event of this aggregate; it is also the subject the expected-sequence
// check of an append is made against.
func (r Ref) Filter() string { return fmt.Sprintf("crm.%s.%s.%s.*", r.Tenant, r.Type, r.ID) }

// Position is where an aggregate stands: its version (number of events) and the stream sequence
// of its last event. JetStream checks the sequence; the version numbers the events. A new
// aggregate is at the zero Position.
type Position struct {
	Version  uint64
	Sequence uint64
}
