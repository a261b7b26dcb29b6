package readmodel

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// leadGen produces deterministic synthetic leads with CRM-like skew: a few
// owners, statuses, sources and last names carry most leads, the rest form a
// long tail. The same seed gives the same leads on every platform and Go
// version (PCG is a specified algorithm).
type leadGen struct {
	rng    *rand.Rand
	tenant string
	next   int
	base   time.Time
	// step is the spacing of creation times; a coarse step makes many ties.
	step time.Duration

	lastNames, firstNames, companies []string
	ownerZ, lastZ, companyZ          *rand.Zipf
}

var (
	genStatuses = []string{"NEW", "MARKETING_QUALIFIED", "PRODUCT_QUALIFIED", "SALES_ACCEPTED",
		"SALES_QUALIFIED", "CONVERTED", "DISQUALIFIED", "RECYCLED"}
	genStatusWeights = []int{35, 18, 4, 10, 8, 5, 14, 6}
	genSources       = []string{"WEB_FORM", "EVENT", "REFERRAL", "ADVERTISEMENT", "SOCIAL", "EMAIL",
		"PARTNER", "IMPORT", "OTHER"}
	genSourceWeights = []int{30, 10, 8, 15, 10, 12, 5, 8, 2}
	genTerritories   = []string{"emea-north", "emea-south", "dach", "uk-ie", "na-east", "na-west",
		"na-central", "latam", "apac-anz", "apac-asia"}
	genTemperatures = []string{"COLD", "WARM", "HOT"}
	genIndustries   = []string{"software", "finance", "retail", "health", "manufacturing", "education",
		"logistics", "media", "energy", "government"}
	genCountries = []string{"DE", "FR", "GB", "US", "CA", "BR", "AU", "JP", "IN", "NL"}
	genTags      = []string{"vip", "newsletter", "webinar-2025", "trade-show", "enterprise", "smb",
		"churn-risk", "partner-lead", "inbound", "outbound", "demo-requested", "pricing-page",
		"competitor-user", "expansion", "renewal", "free-trial", "student", "nonprofit", "public-sector",
		"high-intent", "low-intent", "re-engaged", "cold-list", "referral-program", "beta", "gdpr-ok",
		"do-not-call", "apac-event", "emea-event", "na-event"}
	genCommonLast = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller",
		"Davis", "Rodriguez", "Martinez", "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer",
		"Wagner", "Becker", "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit",
		"Durand", "Leroy", "Moreau", "Simon", "Laurent", "Tanaka", "Suzuki", "Sato", "Kim", "Lee",
		"Park", "Nguyen", "Tran", "Singh", "Kumar", "Patel", "Shah", "Silva", "Santos", "Oliveira",
		"Souza", "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "O'Brien", "Murphy",
		"Kelly", "Walsh", "de Vries", "Jansen", "van Dijk", "Bakker"}
	genFirst = []string{"James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda",
		"David", "Elizabeth", "Anna", "Lukas", "Leon", "Emma", "Mia", "Hannah", "Louis", "Chloé",
		"Jules", "Camille", "Hiroshi", "Yuki", "Min-jun", "Ji-woo", "Arjun", "Priya", "Rahul", "Ana",
		"João", "Maria", "Luca", "Giulia", "Sean", "Aoife", "Daan", "Sanne", "Olivia", "Noah", "Liam",
		"Sophia", "Isabella", "Mateo", "Lucía", "Chen", "Wei", "Fatima", "Omar", "Zoe", "Ethan", "Ava"}
)

var genSyl = []string{"an", "ber", "cor", "dal", "en", "fal", "gar", "hel", "ir", "jor", "kas",
	"lin", "mor", "nor", "ost", "pel", "quin", "ros", "sten", "tor", "ul", "vin", "wal", "xen", "yor", "zel"}

func newLeadGen(seed uint64, tenant string, base time.Time, step time.Duration) *leadGen {
	g := &leadGen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), tenant: tenant, base: base, step: step}
	// Names and companies come from their own fixed-seed stream, so every
	// tenant and every run share one vocabulary.
	vocab := rand.New(rand.NewPCG(42, 4242))
	word := func(parts int) string {
		w := ""
		for range parts {
			w += genSyl[vocab.IntN(len(genSyl))]
		}
		return string(w[0]-'a'+'A') + w[1:]
	}
	g.lastNames = append([]string(nil), genCommonLast...)
	for len(g.lastNames) < 1000 {
		g.lastNames = append(g.lastNames, word(2+vocab.IntN(2)))
	}
	g.firstNames = genFirst
	suffix := []string{"GmbH", "Inc", "Ltd", "SA", "BV", "Corp", "AG", "KK", "Labs", "Group"}
	for len(g.companies) < 1000 {
		g.companies = append(g.companies, word(2+vocab.IntN(2))+" "+suffix[vocab.IntN(len(suffix))])
	}
	g.ownerZ = rand.NewZipf(g.rng, 1.1, 2, 19)
	g.lastZ = rand.NewZipf(g.rng, 1.05, 3, 999)
	g.companyZ = rand.NewZipf(g.rng, 1.05, 5, 999)
	return g
}

func weighted(r *rand.Rand, vals []string, weights []int) string {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.IntN(total)
	for i, w := range weights {
		if n < w {
			return vals[i]
		}
		n -= w
	}
	return vals[len(vals)-1]
}

// lead returns the next lead. ids sort in creation order, like UUIDv7s.
func (g *leadGen) lead() LeadRow {
	r := g.rng
	i := g.next
	g.next++
	first := g.firstNames[r.IntN(len(g.firstNames))]
	last := g.lastNames[g.lastZ.Uint64()]
	company := g.companies[g.companyZ.Uint64()]
	fit, eng := r.IntN(60), r.IntN(50)
	total := fit + eng
	temp := genTemperatures[0]
	switch {
	case total >= 70:
		temp = genTemperatures[2]
	case total >= 40:
		temp = genTemperatures[1]
	}
	var tags []string
	for range r.IntN(4) {
		tags = append(tags, genTags[min(r.IntN(len(genTags)), r.IntN(len(genTags)))])
	}
	campaign := ""
	if r.IntN(10) < 4 {
		campaign = fmt.Sprintf("cmp-%03d", r.IntN(200))
	}
	created := g.base.Add(time.Duration(i) * g.step)
	updated := created.Add(time.Duration(r.IntN(90*24)) * time.Hour)
	id := fmt.Sprintf("%s-%08d", "ld", i)
	return LeadRow{
		ID: id, Tenant: g.tenant,
		FirstName: first, LastName: last,
		Email:   fmt.Sprintf("%s.%s%d@%s.example", first, last, i, company[:len(company)/2]),
		Phone:   fmt.Sprintf("+49 30 %07d", r.IntN(10_000_000)),
		Company: company, JobTitle: "Head of Something",
		Country: genCountries[r.IntN(len(genCountries))], Region: "", City: "City",
		Industry: genIndustries[r.IntN(len(genIndustries))],
		Source:   weighted(r, genSources, genSourceWeights), CampaignID: campaign,
		Owner:     fmt.Sprintf("user-%02d", g.ownerZ.Uint64()),
		Territory: genTerritories[r.IntN(len(genTerritories))],
		Status:    weighted(r, genStatuses, genStatusWeights), Temperature: temp,
		FitScore: fit, EngagementScore: eng, TotalScore: total,
		Tags:      tags,
		CreatedAt: created, UpdatedAt: updated,
		Version: 1 + uint64(r.IntN(5)), Sequence: uint64(i + 1),
		Doc: []byte(fmt.Sprintf(`{"id":%q}`, id)),
	}
}
