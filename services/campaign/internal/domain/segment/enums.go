package segment

import (
	"slices"
	"strings"
)

// The enum names of crm.leads.v1 without their prefixes, in declaration order. The domain keeps
// its own copy (it imports no generated code); protomap maps them to the proto numbers and a
// test there checks the two agree.
var (
	// Statuses are LeadStatus names.
	Statuses = []string{"NEW", "MARKETING_QUALIFIED", "SALES_ACCEPTED", "SALES_QUALIFIED", "CONVERTED", "DISQUALIFIED", "RECYCLED"}
	// Sources are LeadSource names.
	Sources = []string{"WEB_FORM", "EVENT", "REFERRAL", "ADVERTISEMENT", "SOCIAL", "EMAIL", "PARTNER", "IMPORT", "OTHER"}
	// Temperatures are Temperature names.
	Temperatures = []string{"COLD", "WARM", "HOT"}
)

// statusAliases are the funnel's usual abbreviations.
var statusAliases = map[string]string{"MQL": "MARKETING_QUALIFIED", "SAL": "SALES_ACCEPTED", "SQL": "SALES_QUALIFIED"}

// enumTable is one enum's names and the prefix its proto names carry.
type enumTable struct {
	what    string
	prefix  string
	names   []string
	aliases map[string]string
}

var enumTables = map[Field]enumTable{
	FieldStatus:      {what: "status", prefix: "LEAD_STATUS_", names: Statuses, aliases: statusAliases},
	FieldSource:      {what: "source", prefix: "LEAD_SOURCE_", names: Sources},
	FieldTemperature: {what: "temperature", prefix: "TEMPERATURE_", names: Temperatures},
}

// canonical returns the canonical name of v (any case, with or without the prefix), or ok
// false.
func (t enumTable) canonical(v string) (string, bool) {
	u := strings.TrimPrefix(strings.ToUpper(v), t.prefix)
	if a, ok := t.aliases[u]; ok {
		u = a
	}
	if slices.Contains(t.names, u) {
		return u, true
	}
	return "", false
}

func isKeyword(w string) bool {
	switch strings.ToLower(w) {
	case "and", "or", "not", "in", "has", "within", "of", "campaign":
		return true
	}
	return false
}
