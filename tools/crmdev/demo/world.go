package demo

import (
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
)

// The company the demo simulates: a B2B software vendor selling a yearly platform subscription
// plus onboarding, with a sales team of eight reps in three regions and a strategic-accounts
// executive, and a marketing team of two.

// rep is a sales rep (a user id: the owner of leads and deals, and the actor of their calls).
type rep struct{ id, region string }

var reps = []rep{
	{"maya-patel", "na"}, {"james-oconnor", "na"}, {"lucas-silva", "na"},
	{"emma-schmidt", "emea"}, {"oliver-bennett", "emea"},
	{"hana-sato", "apac"}, {"arjun-mehta", "apac"},
	{"sofia-rossi", "enterprise"},
}

// Marketing users own the campaigns.
var marketers = []string{"chloe-martin", "noah-kim"}

// territory is one UpsertTerritory of the tenant's assignment setup.
type territory struct {
	id, name  string
	priority  int32
	countries []string
	minEmp    int64
	region    string // reps of this region share it round-robin
	fixed     string // fixed owner instead of round-robin
}

var territories = []territory{
	// Enterprise accounts anywhere go to the strategic-accounts executive first.
	{id: "enterprise", name: "Strategic Accounts", priority: 5, minEmp: 5000, fixed: "sofia-rossi"},
	{id: "north-america", name: "North America", priority: 10, countries: []string{"US", "CA"}, region: "na"},
	{id: "emea", name: "EMEA", priority: 10, countries: []string{"GB", "DE", "FR", "NL", "SE", "IE", "ES"}, region: "emea"},
	{id: "apac", name: "APAC", priority: 10, countries: []string{"AU", "NZ", "SG", "JP", "IN"}, region: "apac"},
}

func (t territory) proto() *leadsv1.Territory {
	p := &leadsv1.Territory{Id: t.id, Name: t.name, Priority: t.priority, Countries: t.countries, MinEmployees: t.minEmp}
	if t.fixed != "" {
		p.AssignmentMode, p.OwnerId = leadsv1.AssignmentMode_ASSIGNMENT_MODE_FIXED_OWNER, t.fixed
		return p
	}
	p.AssignmentMode = leadsv1.AssignmentMode_ASSIGNMENT_MODE_ROUND_ROBIN
	for _, r := range reps {
		if r.region == t.region {
			p.RepIds = append(p.RepIds, r.id)
		}
	}
	return p
}

type weighted[T any] struct {
	v T
	w float64
}

// country, with the region used for cities and the weight of its share of leads.
type country struct {
	code, region string
	cities       []string
}

var countries = []weighted[country]{
	{country{"US", "CA", []string{"San Francisco", "Austin", "New York", "Chicago", "Seattle", "Boston", "Denver", "Atlanta"}}, 40},
	{country{"CA", "ON", []string{"Toronto", "Vancouver", "Montreal"}}, 6},
	{country{"GB", "ENG", []string{"London", "Manchester", "Bristol", "Edinburgh"}}, 12},
	{country{"DE", "BE", []string{"Berlin", "Munich", "Hamburg", "Frankfurt"}}, 9},
	{country{"FR", "IDF", []string{"Paris", "Lyon", "Toulouse"}}, 6},
	{country{"NL", "NH", []string{"Amsterdam", "Rotterdam", "Utrecht"}}, 4},
	{country{"SE", "AB", []string{"Stockholm", "Gothenburg"}}, 3},
	{country{"IE", "D", []string{"Dublin", "Cork"}}, 2},
	{country{"ES", "MD", []string{"Madrid", "Barcelona"}}, 3},
	{country{"AU", "NSW", []string{"Sydney", "Melbourne", "Brisbane"}}, 6},
	{country{"NZ", "AUK", []string{"Auckland", "Wellington"}}, 1},
	{country{"SG", "SG", []string{"Singapore"}}, 3},
	{country{"JP", "13", []string{"Tokyo", "Osaka"}}, 2},
	{country{"IN", "KA", []string{"Bengaluru", "Mumbai", "Pune"}}, 3},
}

var industries = []weighted[string]{
	{"Software", 24}, {"SaaS", 10}, {"Financial Services", 14}, {"IT Services", 9}, {"Healthcare", 8},
	{"Manufacturing", 9}, {"Retail", 7}, {"Logistics", 5}, {"Education", 4}, {"Media", 4}, {"Internet", 6},
}

// Job titles with how often they fill in forms. Seniority drives the fit score.
var titles = []weighted[string]{
	{"VP Sales", 5}, {"VP Revenue Operations", 3}, {"Chief Revenue Officer", 2}, {"CEO", 2}, {"CFO", 1},
	{"Director of Sales", 6}, {"Director of Marketing", 5}, {"Director of Sales Operations", 4},
	{"Sales Manager", 9}, {"Marketing Manager", 8}, {"RevOps Manager", 6}, {"Head of Growth", 3},
	{"Account Executive", 10}, {"Sales Operations Analyst", 8}, {"Marketing Specialist", 7},
	{"Business Analyst", 5}, {"Software Engineer", 4}, {"Consultant", 4}, {"Student", 1},
}

var firstNames = []string{"Olivia", "Liam", "Ava", "Noah", "Isabella", "Ethan", "Mia", "Lucas", "Sophia", "Mason",
	"Amelia", "Elijah", "Harper", "Logan", "Evelyn", "Aiden", "Charlotte", "Jacob", "Emily", "Daniel",
	"Priya", "Rahul", "Yuki", "Kenji", "Mei", "Wei", "Lena", "Jonas", "Clara", "Felix", "Chloé", "Louis",
	"Sara", "Erik", "Aoife", "Sean", "Lucía", "Pablo", "Grace", "Henry", "Zoe", "Samuel", "Nora", "Leo",
	"Ingrid", "Matteo", "Fatima", "Omar", "Hannah", "Ben"}

var lastNames = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Martinez",
	"Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White",
	"Harris", "Clark", "Lewis", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Green", "Baker",
	"Müller", "Schneider", "Fischer", "Weber", "Dubois", "Laurent", "Jansen", "de Vries", "Andersson",
	"Nilsson", "Murphy", "Kelly", "Fernández", "López", "Tanaka", "Suzuki", "Nakamura", "Chen", "Wang",
	"Singh", "Sharma", "Iyer", "Nguyen", "Tan", "O'Brien", "Rossi", "Russo", "Novak", "Kowalski", "Cohen"}

// Company names are <prefix><suffix> <kind>; the pairs are plentiful enough for tens of
// thousands of distinct companies.
var companyPrefixes = []string{"North", "Blue", "Bright", "Iron", "Silver", "Green", "Red", "Swift", "Clear",
	"True", "Prime", "Summit", "Harbor", "Cedar", "Maple", "Granite", "Polar", "Solar", "Lunar", "Nova",
	"Vertex", "Apex", "Atlas", "Orbit", "Pixel", "Quantum", "Crystal", "Golden", "Rapid", "Stellar",
	"Urban", "Wild", "Zen", "Arc", "Bold", "Core", "Delta", "Echo", "Flux", "Helix"}

var companySuffixes = []string{"wind", "bridge", "stone", "field", "point", "wave", "forge", "path", "light",
	"gate", "ridge", "works", "scale", "stack", "loop", "line", "peak", "craft", "leaf", "spark",
	"shift", "byte", "cloud", "grid", "hub", "lane", "mark", "mint", "nest", "port"}

var companyKinds = []weighted[string]{
	{"Inc", 5}, {"Labs", 3}, {"Systems", 3}, {"Software", 3}, {"Technologies", 3}, {"Group", 2}, {"Analytics", 2},
	{"Health", 1}, {"Logistics", 1}, {"Capital", 1}, {"GmbH", 1}, {"Ltd", 2},
}

var freeMail = []string{"gmail.com", "outlook.com", "yahoo.com"}

// source is where a lead came from, as the sales team names it, and how it is recorded.
type source struct {
	name   string
	proto  leadsv1.LeadSource
	detail string
	// quality scales the chances to qualify and to win.
	quality float64
}

var sources = []weighted[source]{
	{source{"web", leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM, "website demo request", 1.0}, 30},
	{source{"referral", leadsv1.LeadSource_LEAD_SOURCE_REFERRAL, "customer referral", 1.5}, 11},
	{source{"event", leadsv1.LeadSource_LEAD_SOURCE_EVENT, "trade show booth scan", 0.9}, 14},
	{source{"partner", leadsv1.LeadSource_LEAD_SOURCE_PARTNER, "reseller partner", 1.3}, 10},
	{source{"outbound", leadsv1.LeadSource_LEAD_SOURCE_EMAIL, "outbound sequence (SDR)", 0.7}, 17},
	{source{"paid", leadsv1.LeadSource_LEAD_SOURCE_ADVERTISEMENT, "paid search", 0.8}, 13},
	{source{"social", leadsv1.LeadSource_LEAD_SOURCE_SOCIAL, "LinkedIn lead form", 0.8}, 5},
}

// Pipeline: the tenant's built-in default pipeline (docs/pipeline.md).
const defaultPipeline = "default"

// openStages in order, with the median days a deal stays and the chance it is lost there.
var openStages = []struct {
	id     string
	days   float64
	hazard float64
}{
	{"prospecting", 6, 0.20},
	{"qualification", 9, 0.17},
	{"needs_analysis", 10, 0.12},
	{"value_proposition", 12, 0.12},
	{"identify_decision_makers", 8, 0.10},
	{"proposal", 14, 0.15},
	{"negotiation", 10, 0.18},
}

const proposalStage = 5 // index of "proposal" in openStages

var competitors = []string{"Salesforce", "HubSpot", "Pipedrive", "Zoho", "Microsoft Dynamics"}
