package scoring

import "time"

// DefaultModelVersion is the version of the built-in model, which a tenant uses until it
// updates its own; the first update is version 2.
const DefaultModelVersion = 1

// FreeMailDomains are consumer mail providers; the default model penalises leads that use them
// because B2B buyers write from their company's domain.
var FreeMailDomains = []string{"gmail.com", "googlemail.com", "yahoo.com", "hotmail.com",
	"outlook.com", "live.com", "icloud.com", "aol.com", "gmx.de", "web.de", "proton.me", "protonmail.com"}

// DefaultModel returns the model every tenant starts with, tuned for B2B software sales:
//
// Fit (clamped to 0…100):
//   - seniority c_level or vp +25, director +20, manager +10;
//   - employee_count 50…5,000 +20 (the core mid-market), > 5,000 +15, 11…49 +5;
//   - annual_revenue ≥ USD 10M +10;
//   - industry software, information technology, internet, saas, financial services +10;
//   - country in North America / Western Europe / ANZ +10;
//   - source referral, partner or event +10 (warm introductions convert best);
//   - email on a free mail provider −15.
//
// Engagement points: meeting 15, call 10, form filled 10, campaign responded 10, event attended
// 10, product usage 8, email replied 8, email clicked 3, web visit 2, email opened 1, note 0,
// unsubscribed −20; half-life 30 days.
//
// Thresholds on the total (0…200): warm 40, hot 70, MQL 60 — e.g. a VP at a 200-person US
// software company (fit 65) is an MQL on arrival, a manager at a small firm (fit 15) needs
// about 45 points of recent engagement.
func DefaultModel() Model {
	return Model{
		Version: DefaultModelVersion,
		FitRules: []Rule{
			{Field: FieldSeniority, Op: OpIn, Values: []string{SeniorityCLevel, SeniorityVP}, Points: 25, Description: "executive"},
			{Field: FieldSeniority, Op: OpEquals, Values: []string{SeniorityDirector}, Points: 20, Description: "director"},
			{Field: FieldSeniority, Op: OpEquals, Values: []string{SeniorityManager}, Points: 10, Description: "manager"},
			{Field: FieldEmployeeCount, Op: OpBetween, Values: []string{"50", "5000"}, Points: 20, Description: "mid-market"},
			{Field: FieldEmployeeCount, Op: OpGTE, Values: []string{"5001"}, Points: 15, Description: "enterprise"},
			{Field: FieldEmployeeCount, Op: OpBetween, Values: []string{"11", "49"}, Points: 5, Description: "small business"},
			{Field: FieldAnnualRevenue, Op: OpGTE, Values: []string{"10000000"}, Points: 10, Description: "revenue ≥ 10M"},
			{Field: FieldIndustry, Op: OpIn, Values: []string{"software", "information technology", "internet", "saas", "financial services"}, Points: 10, Description: "target industry"},
			{Field: FieldCountry, Op: OpIn, Values: []string{"US", "CA", "GB", "IE", "DE", "FR", "NL", "BE", "CH", "AT", "SE", "NO", "DK", "FI", "AU", "NZ"}, Points: 10, Description: "target market"},
			{Field: FieldSource, Op: OpIn, Values: []string{"referral", "partner", "event"}, Points: 10, Description: "warm source"},
			{Field: FieldEmailDomain, Op: OpIn, Values: append([]string(nil), FreeMailDomains...), Points: -15, Description: "free mail provider"},
		},
		EngagementWeights: []Weight{
			{SignalMeeting, 15}, {SignalCall, 10}, {SignalFormFilled, 10}, {SignalCampaignResponded, 10},
			{SignalEventAttended, 10}, {SignalProductUsage, 8}, {SignalEmailReplied, 8},
			{SignalEmailClicked, 3}, {SignalWebVisit, 2}, {SignalEmailOpened, 1}, {SignalNote, 0},
			{SignalUnsubscribed, -20},
		},
		HalfLife:        30 * 24 * time.Hour,
		WarmThreshold:   40,
		HotThreshold:    70,
		MQLThreshold:    60,
		RevenueCurrency: "USD",
	}
}
