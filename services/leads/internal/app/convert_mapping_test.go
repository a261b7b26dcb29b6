package app

import (
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

func TestDeriveConversionIDs(t *testing.T) {
	t.Parallel()
	ids := DeriveConversionIDs("acme", "lead-1")
	assert.Equal(t, ids, DeriveConversionIDs("acme", "lead-1"), "every attempt derives the same ids")
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for _, id := range []string{ids.Account, ids.Contact, ids.Opportunity} {
		assert.Regexp(t, uuid, id)
		assert.True(t, lead.ValidID(id))
	}
	assert.NotEqual(t, ids.Account, ids.Contact)
	assert.NotEqual(t, ids.Contact, ids.Opportunity)
	assert.NotEqual(t, ids.Account, DeriveConversionIDs("globex", "lead-1").Account, "tenants never share ids")
	assert.NotEqual(t, ids.Account, DeriveConversionIDs("acme", "lead-2").Account)
	assert.Equal(t, "lead-conversion/lead-1", ids.IdempotencyKey)
}

func sampleLead() lead.Lead {
	return lead.Lead{ID: "l1", Version: 5, Details: lead.Details{FirstName: "Ada", LastName: "Lovelace",
		Email: "ada@engines.example", Phone: "+44 20 7946 0000", Company: "Analytical Engines", JobTitle: "CTO",
		Website: "https://www.engines.example/about", Country: "GB", Region: "London", City: "London",
		Industry: "software", EmployeeCount: 120, AnnualRevenue: lead.Money{Currency: "GBP", Units: 5_000_000},
		Source: lead.SourceEvent, CampaignID: "camp-1"}, Tags: []string{"vip"}, OwnerID: "rep-1"}
}

func TestAccountFromLead(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		edit           func(*lead.Lead)
		wantName       string
		wantDomain     string
		wantWebsiteSet bool
	}{
		{"company and website", func(*lead.Lead) {}, "Analytical Engines", "engines.example", true},
		{"domain from a business email", func(l *lead.Lead) { l.Website = "" }, "Analytical Engines", "engines.example", false},
		{"no domain from free mail", func(l *lead.Lead) { l.Website, l.Email = "", "ada@gmail.com" }, "Analytical Engines", "", false},
		{"person's name without a company", func(l *lead.Lead) { l.Company = " " }, "Ada Lovelace", "engines.example", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := sampleLead()
			tc.edit(&l)
			d := accountFromLead(l, "owner-9")
			assert.Equal(t, tc.wantName, d.Name)
			assert.Equal(t, tc.wantDomain, d.Domain)
			assert.Equal(t, tc.wantWebsiteSet, d.Website != "")
			assert.Equal(t, "owner-9", d.OwnerID)
			assert.Equal(t, account.TypeProspect, d.Type)
			assert.Equal(t, account.Address{City: l.City, Region: l.Region, Country: l.Country}, d.BillingAddress)
			assert.Equal(t, l.AnnualRevenue, d.AnnualRevenue)
		})
	}
}

func TestContactFromLead(t *testing.T) {
	t.Parallel()
	l := sampleLead()
	d := contactFromLead(l, "acc-1", "owner-9")
	assert.Equal(t, contact.Details{FirstName: "Ada", LastName: "Lovelace", Email: l.Email, Phone: l.Phone,
		JobTitle: "CTO", AccountID: "acc-1", MailingAddress: account.Address{City: "London", Region: "London", Country: "GB"},
		OwnerID: "owner-9", Source: lead.SourceEvent, Tags: []string{"vip"}}, d)
}

func TestFillTakesOnlyEmptyFields(t *testing.T) {
	t.Parallel()
	l := sampleLead()
	from := accountFromLead(l, "owner-9")
	existing := account.Details{Name: "Engines Ltd", Industry: "hardware", BillingAddress: account.Address{Country: "FR"}}
	upd := accountFill(existing, from)
	assert.Equal(t, []string{account.PathDomain, account.PathWebsite, account.PathEmployeeCount, account.PathAnnualRevenue,
		"billing_address.city", "billing_address.region"}, upd.Paths)
	assert.Equal(t, "engines.example", upd.Details.Domain)
	assert.Equal(t, "London", upd.Details.BillingAddress.City)
	assert.Empty(t, upd.Details.Industry, "a filled field is never overwritten")
	assert.Empty(t, upd.Details.Name)
	assert.Empty(t, accountFill(account.ApplyLeaves(existing, upd.Details, upd.Paths), from).Paths, "filling twice changes nothing")

	cfrom := contactFromLead(l, "acc-1", "owner-9")
	cexisting := contact.Details{FirstName: "Augusta Ada", Email: "ada@home.example", AccountID: "acc-other"}
	cupd := contactFill(cexisting, cfrom)
	assert.Equal(t, []string{contact.PathLastName, contact.PathPhone, contact.PathJobTitle, "mailing_address.city",
		"mailing_address.region", "mailing_address.country", contact.PathSource}, cupd.Paths)
	assert.Contains(t, contactFill(contact.Details{FirstName: "x"}, cfrom).Paths, contact.PathAccountID,
		"a contact without an account joins the conversion's")
}

func TestOpportunityDefaults(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 10, 15, 0, 0, 0, time.UTC)
	l := sampleLead()
	got := opportunityFromLead(l, ConversionOpportunity{}, now)
	assert.Equal(t, ConversionOpportunity{Name: "Analytical Engines - new business", ExpectedCloseDate: "2026-08-08"}, got,
		"no budget: the amount stays unknown; no timeline: 90 days")

	l.Bant = lead.Bant{Budget: lead.Money{Currency: "EUR", Units: 40_000}, Timeline: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)}
	got = opportunityFromLead(l, ConversionOpportunity{PipelineID: "enterprise"}, now)
	assert.Equal(t, ConversionOpportunity{Name: "Analytical Engines - new business", Amount: l.Bant.Budget,
		ExpectedCloseDate: "2026-07-01", PipelineID: "enterprise"}, got)

	l.Bant.Timeline = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.Company = ""
	given := ConversionOpportunity{Name: " Big deal ", Amount: lead.Money{Currency: "USD", Units: 1}, ExpectedCloseDate: "2026-12-31", StageID: "s2"}
	got = opportunityFromLead(l, given, now)
	assert.Equal(t, ConversionOpportunity{Name: "Big deal", Amount: given.Amount, ExpectedCloseDate: "2026-12-31", StageID: "s2"}, got,
		"what the request gives wins")
	assert.Equal(t, "Ada Lovelace - new business", opportunityFromLead(l, ConversionOpportunity{}, now).Name)
	assert.Equal(t, "2026-08-08", opportunityFromLead(l, ConversionOpportunity{}, now).ExpectedCloseDate,
		"a timeline in the past is not a close date")
}

func TestOptOutsCarryToTheContact(t *testing.T) {
	t.Parallel()
	l := sampleLead()
	l.EmailOptOut, l.DoNotContact = true, true
	d := contactFromLead(l, "acc-1", "owner-9")
	assert.True(t, d.EmailOptOut, "an unsubscribed lead becomes an unsubscribed contact")
	assert.True(t, d.DoNotContact)

	full := contactFromLead(sampleLead(), "acc-1", "owner-9")
	upd := contactFill(full, d)
	assert.Equal(t, []string{contact.PathEmailOptOut, contact.PathDoNotContact}, upd.Paths,
		"a linked contact gains the lead's opt-outs")
	assert.True(t, upd.Details.EmailOptOut)
	assert.True(t, upd.Details.DoNotContact)

	optedOut := full
	optedOut.EmailOptOut = true
	assert.Empty(t, contactFill(optedOut, contactFromLead(sampleLead(), "acc-1", "owner-9")).Paths,
		"a lead without opt-outs never clears the contact's")
}
