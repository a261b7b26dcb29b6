package grpc

import (
	"bytes"
	"io"
	"strings"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/fieldmap"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/vcard"
	"github.com/evcrm/evcrm/services/leads/internal/app"
)

// vcardColumns are how vCard properties map to contact fields; the report lists them as its
// columns and row errors name the property.
var vcardColumns = []fieldmap.Column{
	{Header: "N", Field: "first_name", Automatic: true},
	{Header: "N (family)", Field: "last_name", Automatic: true},
	{Header: "EMAIL", Field: "email", Automatic: true},
	{Header: "TEL", Field: "phone", Automatic: true},
	{Header: "TEL;TYPE=cell", Field: "mobile_phone", Automatic: true},
	{Header: "TITLE", Field: "job_title", Automatic: true},
	{Header: "ORG", Field: fieldmap.AccountNamePath, Automatic: true},
	{Header: "ORG (unit)", Field: "department", Automatic: true},
	{Header: "ADR", Field: "mailing_address", Automatic: true},
	{Header: "NOTE", Field: "description", Automatic: true},
	{Header: "CATEGORIES", Field: "tags", Automatic: true},
}

// openVCard parses the whole file (a malformed one is InvalidArgument) and yields a contact row
// per card.
func openVCard(file []byte, custom fieldmap.CustomTypes) (app.RowSource, []fieldmap.Column, error) {
	cards, err := vcard.Parse(bytes.NewReader(file))
	if err != nil {
		return nil, nil, malformed(err)
	}
	byField := map[string]string{}
	for _, c := range vcardColumns {
		byField[c.Field] = c.Header
	}
	m := &rowMapper{obj: app.ImportContacts, custom: custom, column: func(field string) string {
		if strings.HasPrefix(field, "mailing_address") {
			return "ADR"
		}
		return byField[indexSuffix.ReplaceAllString(field, "")]
	}}
	return &vcardSource{cards: cards, m: m}, vcardColumns, nil
}

type vcardSource struct {
	cards []vcard.Card
	m     *rowMapper
}

func (s *vcardSource) Next() (app.ImportRow, error) {
	if len(s.cards) == 0 {
		return app.ImportRow{}, io.EOF
	}
	c := s.cards[0]
	s.cards = s.cards[1:]
	msg, set := cardContact(c)
	return s.m.contactRow(c.Line, msg, set, c.Org), nil
}

// cardContact maps a card: N (or FN split at the last space) → names, the preferred email,
// the work and mobile phones, TITLE, ORG's unit → department, the work address, NOTE,
// CATEGORIES → tags. ORG's name links the account (see app.ContactRow).
func cardContact(c vcard.Card) (*leadsv1.Contact, []string) {
	p := &leadsv1.Contact{FirstName: c.GivenName, LastName: c.FamilyName}
	if p.FirstName == "" && p.LastName == "" && c.FormattedName != "" {
		if i := strings.LastIndexByte(c.FormattedName, ' '); i > 0 {
			p.FirstName, p.LastName = c.FormattedName[:i], c.FormattedName[i+1:]
		} else {
			p.LastName = c.FormattedName
		}
	}
	p.Email = c.PreferredEmail()
	p.Phone = c.WorkPhone()
	p.MobilePhone = c.MobilePhone()
	p.JobTitle = c.Title
	p.Department = c.Department
	p.Description = c.Note
	p.Tags = c.Categories
	if a, ok := c.PreferredAddress(); ok {
		street := strings.TrimSpace(strings.Join(nonEmpty(a.Extended, a.Street), "\n"))
		p.MailingAddress = &leadsv1.Address{Street: street, City: a.City, Region: a.Region, PostalCode: a.PostalCode, Country: countryCode(a.Country)}
	}
	var set []string
	for path, v := range map[string]string{"first_name": p.FirstName, "last_name": p.LastName, "email": p.Email, "phone": p.Phone,
		"mobile_phone": p.MobilePhone, "job_title": p.JobTitle, "department": p.Department, "description": p.Description} {
		if v != "" {
			set = append(set, path)
		}
	}
	if a := p.GetMailingAddress(); a != nil {
		set = append(set, "mailing_address")
	}
	return p, set
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// countries are the country names address books write most, to ISO 3166-1 alpha-2; a
// two-letter value is taken as a code, anything else is passed on for validation to judge.
var countries = map[string]string{
	"united states": "US", "united states of america": "US", "usa": "US", "u.s.a.": "US",
	"united kingdom": "GB", "uk": "GB", "great britain": "GB", "england": "GB",
	"germany": "DE", "deutschland": "DE", "france": "FR", "netherlands": "NL", "the netherlands": "NL",
	"nederland": "NL", "spain": "ES", "españa": "ES", "italy": "IT", "italia": "IT", "canada": "CA",
	"australia": "AU", "sweden": "SE", "sverige": "SE", "switzerland": "CH", "schweiz": "CH",
	"austria": "AT", "österreich": "AT", "belgium": "BE", "ireland": "IE", "japan": "JP", "india": "IN",
}

func countryCode(s string) string {
	s = strings.TrimSpace(s)
	if len(s) == 2 {
		return strings.ToUpper(s)
	}
	if c, ok := countries[strings.ToLower(s)]; ok {
		return c
	}
	return s
}
