package cli

import (
	"strings"

	"github.com/spf13/cobra"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/tools/crmctl/internal/render"
)

var (
	leadsClient     = client[leadsv1.LeadsServiceClient]{svcLeads, leadsv1.NewLeadsServiceClient}
	accountsClient  = client[leadsv1.AccountsServiceClient]{svcLeads, leadsv1.NewAccountsServiceClient}
	contactsClient  = client[leadsv1.ContactsServiceClient]{svcLeads, leadsv1.NewContactsServiceClient}
	transferClient  = client[leadsv1.DataTransferServiceClient]{svcLeads, leadsv1.NewDataTransferServiceClient}
	leadListColumns = []string{"id", "first_name", "last_name", "email", "company", "status", "score.total", "owner_id", "created_at"}
)

// leadFields are the flags of a lead's writable fields (create and update).
func leadFields() []field {
	return fields(
		under("lead", "first_name", "last_name", "email", "phone", "company", "job_title", "website",
			"country", "region", "city", "industry", "source", "source_detail"),
		[]field{
			fn("employees", "lead.employee_count"),
			f("lead.annual_revenue"),
			fn("campaign", "lead.campaign_id"),
			fn("tag", "lead.tags"),
			fn("custom", "lead.custom_fields"),
			fn("owner", "lead.owner_id"),
			fn("utm-source", "lead.utm.source"), fn("utm-medium", "lead.utm.medium"), fn("utm-campaign", "lead.utm.campaign"),
			f("lead.email_opt_out"), f("lead.do_not_contact"),
		})
}

func (a *app) leadsCommand() *cobra.Command {
	list := render.View{Rows: []string{"leads"}, Columns: leadListColumns}
	return group("leads", "Leads: capture, lifecycle, scoring, assignment, conversion", []string{"lead"},
		rpc(a, leadsClient, leadsv1.LeadsServiceClient.CreateLead, spec{
			use: "create", short: "Create a lead",
			long: "Create a lead. A lead with the same email or phone fails with ALREADY_EXISTS naming it,\nunless --allow-duplicate is given.",
			example: `  crmctl leads create --first-name Ada --last-name Lovelace --email ada@example.com \
    --company "Analytical Engines" --source web-form --annual-revenue "2500000 EUR" --tag vip`,
			fields: append(leadFields(), f("allow_duplicate")),
		}),
		rpc(a, leadsClient, leadsv1.LeadsServiceClient.GetLead, spec{
			use: "get LEAD_ID", short: "Show a lead", args: []string{"lead_id"},
		}),
		rpc(a, leadsClient, leadsv1.LeadsServiceClient.ListLeads, spec{
			use: "list", short: "List leads with filters", aliases: []string{"ls"},
			example: "  crmctl leads list --status new,marketing-qualified --source web-form --order-by total-score --descending",
			fields: []field{
				fn("status", "statuses"), fn("owner", "owner_ids"), fn("territory", "territory_ids"), fn("source", "sources"),
				f("tag"), fn("temperature", "temperatures"), f("min_score"), f("max_score"),
				f("created_after"), f("created_before"), f("updated_after"), f("updated_before"),
				fn("campaign", "campaign_id"), f("order_by"), f("descending"),
			},
			view: list,
		}),
		rpc(a, leadsClient, leadsv1.LeadsServiceClient.SearchLeads, spec{
			use: "search QUERY", short: "Find leads by name, email or company", args: []string{"query"}, view: list,
		}),
		rpc(a, leadsClient, leadsv1.LeadsServiceClient.UpdateLead, spec{
			use: "update LEAD_ID", short: "Change a lead's fields (those whose flags are given)",
			example: "  crmctl leads update 0190... --job-title CTO --tag champion",
			args:    []string{"lead_id"}, fields: leadFields(), mask: "lead",
		}),
		rpc(a, leadsClient, leadsv1.LeadsServiceClient.ChangeLeadStatus, spec{
			use: "status LEAD_ID STATUS", short: "Move a lead in its lifecycle (marketing-qualified, sales-accepted, sales-qualified, ...)",
			example: "  crmctl leads status 0190... marketing-qualified --qualification-path product",
			args:    []string{"lead_id", "status"}, fields: []field{f("qualification_path"), f("note")},
		}),
		rpc(a, leadsClient, leadsv1.LeadsServiceClient.DisqualifyLead, spec{
			use: "disqualify LEAD_ID REASON", short: "Disqualify an open lead (junk, no-response, not-a-fit, competitor, duplicate, other)",
			args: []string{"lead_id", "reason"}, fields: []field{f("note")},
		}),
		rpc(a, leadsClient, leadsv1.LeadsServiceClient.RecycleLead, spec{
			use: "recycle LEAD_ID", short: "Send a lead back to nurture", args: []string{"lead_id"}, fields: []field{f("note")},
		}),
		rpc(a, leadsClient, leadsv1.LeadsServiceClient.AssignLead, spec{
			use: "assign LEAD_ID OWNER_ID", short: "Give a lead to an owner", args: []string{"lead_id", "owner_id"}, fields: []field{f("note")},
		}),
		rpc(a, leadsClient, leadsv1.LeadsServiceClient.SetBant, spec{
			use: "bant LEAD_ID", short: "Record budget, authority, need and timeline (the fields whose flags are given)",
			args: []string{"lead_id"}, mask: "bant",
			fields: []field{
				f("bant.budget"), f("bant.budget_confirmed"), f("bant.authority"), f("bant.authority_confirmed"),
				f("bant.need"), f("bant.need_confirmed"), f("bant.timeline"), f("bant.timeline_confirmed"),
			},
		}),
		group("tags", "Add or remove a lead's tags", []string{"tag"},
			rpc(a, leadsClient, leadsv1.LeadsServiceClient.AddLeadTags, spec{
				use: "add LEAD_ID TAG...", short: "Add tags to a lead", args: []string{"lead_id", "tags..."},
			}),
			rpc(a, leadsClient, leadsv1.LeadsServiceClient.RemoveLeadTags, spec{
				use: "remove LEAD_ID TAG...", short: "Remove tags from a lead", args: []string{"lead_id", "tags..."},
			}),
		),
		rpc(a, leadsClient, leadsv1.LeadsServiceClient.RecordEngagement, spec{
			use: "engage LEAD_ID SIGNAL", short: "Record a behaviour signal (email-opened, web-visit, form-filled, meeting, ...)",
			args: []string{"lead_id", "signal"}, fields: []field{fn("at", "occurred_at"), f("detail")},
		}),
		rpc(a, leadsClient, leadsv1.LeadsServiceClient.MergeLeads, spec{
			use: "merge SURVIVOR_ID MERGED_ID", short: "Merge a duplicate lead into a surviving one", args: []string{"survivor_id", "merged_id"},
		}),
		rpc(a, leadsClient, leadsv1.LeadsServiceClient.ConvertLead, spec{
			use: "convert LEAD_ID", short: "Convert a qualified lead into an account, a contact and optionally an opportunity",
			long: "Convert a SALES_QUALIFIED lead into an account, a contact and, with any --opportunity-* flag\n" +
				"or --opportunity, an opportunity in the pipeline service. Retrying is safe.",
			example: `  crmctl leads convert 0190... --opportunity-name "Acme - platform" --amount "48000 EUR" --close-date 2026-09-30`,
			args:    []string{"lead_id"},
			fields: []field{
				fn("account", "account_id"), fn("contact", "contact_id"), fn("owner", "owner_id"),
				f("allow_duplicate_account"), f("allow_duplicate_contact"),
				fu("opportunity", "opportunity", "open an opportunity with these fields"),
				fn("opportunity-name", "opportunity.name"), fn("amount", "opportunity.amount"),
				fn("close-date", "opportunity.expected_close_date"), fn("pipeline", "opportunity.pipeline_id"),
				fn("stage", "opportunity.stage_id"),
			},
		}),
		rpc(a, leadsClient, leadsv1.LeadsServiceClient.ErasePerson, spec{
			use: "erase LEAD_ID", short: "Erase a lead's person (GDPR): destroy their data key, with their linked records",
			long: "Erase the person of a lead by crypto-shredding (docs/security.md, \"Erasure\"): their data key is\n" +
				"destroyed, personal fields read \"[erased]\" everywhere, and the contact the lead became and the\n" +
				"leads merged with it are erased too. Cannot be undone. Admin only; retrying is safe.",
			example: `  crmctl leads erase 0190... --reason "DSR-2026-117"`,
			args:    []string{"lead_id"}, fields: []field{f("reason")},
		}),
		a.leadConfigCommand(),
	)
}

// leadConfigCommand holds the tenant's lead configuration: scoring, territories, custom
// fields, lifecycle settings. Their writes replace whole documents, so they take --from-json.
func (a *app) leadConfigCommand() *cobra.Command {
	return group("config", "The tenant's lead configuration: scoring model, territories, custom fields, settings", nil,
		rpc(a, leadsClient, leadsv1.LeadsServiceClient.GetScoringModel, spec{use: "scoring-model", short: "Show the scoring model"}),
		rpc(a, leadsClient, leadsv1.LeadsServiceClient.UpdateScoringModel, spec{
			use: "set-scoring-model", short: "Replace the scoring model (--from-json '{\"model\": {...}}')"}),
		rpc(a, leadsClient, leadsv1.LeadsServiceClient.ListTerritories, spec{
			use: "territories", short: "List territories in matching order", view: render.View{Rows: []string{"territories"}}}),
		rpc(a, leadsClient, leadsv1.LeadsServiceClient.UpsertTerritory, spec{
			use: "set-territory", short: "Create or replace a territory (--from-json '{\"territory\": {...}}')"}),
		rpc(a, leadsClient, leadsv1.LeadsServiceClient.DeleteTerritory, spec{
			use: "delete-territory TERRITORY_ID", short: "Remove a territory", args: []string{"territory_id"}}),
		rpc(a, leadsClient, leadsv1.LeadsServiceClient.ListCustomFields, spec{
			use: "custom-fields", short: "List custom fields", fields: []field{f("object")},
			view: render.View{Rows: []string{"fields"}}}),
		rpc(a, leadsClient, leadsv1.LeadsServiceClient.DefineCustomField, spec{
			use: "define-custom-field", short: "Declare a custom field (--from-json '{\"field\": {...}}')"}),
		rpc(a, leadsClient, leadsv1.LeadsServiceClient.DeleteCustomField, spec{
			use: "delete-custom-field NAME", short: "Remove a custom field definition", args: []string{"name"}, fields: []field{f("object")}}),
		rpc(a, leadsClient, leadsv1.LeadsServiceClient.GetLeadSettings, spec{use: "settings", short: "Show the lifecycle settings"}),
		rpc(a, leadsClient, leadsv1.LeadsServiceClient.UpdateLeadSettings, spec{
			use: "set-settings", short: "Replace the lifecycle settings (--from-json '{\"settings\": {...}}')"}),
	)
}

// addressFields binds the fields of an Address at prefix to flags named <flag>-street etc.
func addressFields(prefix, flag string) []field {
	names := []string{"street", "city", "region", "postal_code", "country"}
	out := make([]field, len(names))
	for i, n := range names {
		out[i] = fn(flag+"-"+strings.ReplaceAll(n, "_", "-"), prefix+"."+n)
	}
	return out
}

func accountFields() []field {
	return fields(
		under("account", "name", "domain", "website", "industry", "phone", "type", "description"),
		[]field{
			fn("employees", "account.employee_count"), f("account.annual_revenue"),
			fn("parent", "account.parent_account_id"), fn("owner", "account.owner_id"), fn("territory", "account.territory_id"),
			fn("tag", "account.tags"), fn("custom", "account.custom_fields"),
		},
		addressFields("account.billing_address", "billing"),
		addressFields("account.shipping_address", "shipping"))
}

func (a *app) accountsCommand() *cobra.Command {
	list := render.View{Rows: []string{"accounts"}, Columns: []string{"id", "name", "domain", "type", "industry", "billing_address.country", "owner_id", "created_at"}}
	return group("accounts", "Accounts (organisations) and their hierarchy", []string{"account"},
		rpc(a, accountsClient, leadsv1.AccountsServiceClient.CreateAccount, spec{
			use: "create", short: "Create an account",
			example: `  crmctl accounts create --name "Acme GmbH" --domain acme.example --type prospect --billing-country DE`,
			fields:  append(accountFields(), f("allow_duplicate")),
		}),
		rpc(a, accountsClient, leadsv1.AccountsServiceClient.GetAccount, spec{
			use: "get ACCOUNT_ID", short: "Show an account with its contacts and child accounts", args: []string{"account_id"},
		}),
		rpc(a, accountsClient, leadsv1.AccountsServiceClient.ListAccounts, spec{
			use: "list", short: "List accounts with filters", aliases: []string{"ls"},
			fields: []field{
				fn("type", "types"), fn("owner", "owner_ids"), fn("territory", "territory_ids"), f("industry"), f("country"),
				f("tag"), fn("parent", "parent_account_id"), f("created_after"), f("created_before"), f("order_by"), f("descending"),
			},
			view: list,
		}),
		rpc(a, accountsClient, leadsv1.AccountsServiceClient.SearchAccounts, spec{
			use: "search QUERY", short: "Find accounts by name or domain", args: []string{"query"}, view: list,
		}),
		rpc(a, accountsClient, leadsv1.AccountsServiceClient.UpdateAccount, spec{
			use: "update ACCOUNT_ID", short: "Change an account's fields (those whose flags are given)",
			args: []string{"account_id"}, fields: accountFields(), mask: "account",
		}),
	)
}

func contactFields() []field {
	return fields(
		under("contact", "first_name", "last_name", "email", "phone", "mobile_phone", "job_title", "department",
			"email_opt_out", "do_not_contact", "source", "description"),
		[]field{
			fn("account", "contact.account_id"), fn("role", "contact.roles"), fn("owner", "contact.owner_id"),
			fn("tag", "contact.tags"), fn("custom", "contact.custom_fields"),
		},
		addressFields("contact.mailing_address", "mailing"))
}

func (a *app) contactsCommand() *cobra.Command {
	list := render.View{Rows: []string{"contacts"}, Columns: []string{"id", "first_name", "last_name", "email", "job_title", "account_id", "roles", "created_at"}}
	return group("contacts", "Contacts: the people at accounts", []string{"contact"},
		rpc(a, contactsClient, leadsv1.ContactsServiceClient.CreateContact, spec{
			use: "create", short: "Create a contact",
			example: `  crmctl contacts create --first-name Grace --last-name Hopper --email grace@acme.example --account 0190... --role decision-maker`,
			fields:  append(contactFields(), f("allow_duplicate")),
		}),
		rpc(a, contactsClient, leadsv1.ContactsServiceClient.GetContact, spec{
			use: "get CONTACT_ID", short: "Show a contact", args: []string{"contact_id"},
		}),
		rpc(a, contactsClient, leadsv1.ContactsServiceClient.ListContacts, spec{
			use: "list", short: "List contacts with filters", aliases: []string{"ls"},
			fields: []field{
				fn("account", "account_id"), fn("owner", "owner_ids"), fn("role", "roles"), f("tag"), f("emailable_only"),
				f("country"), f("created_after"), f("created_before"), f("order_by"), f("descending"),
			},
			view: list,
		}),
		rpc(a, contactsClient, leadsv1.ContactsServiceClient.SearchContacts, spec{
			use: "search QUERY", short: "Find contacts by name, email or job title", args: []string{"query"}, view: list,
		}),
		rpc(a, contactsClient, leadsv1.ContactsServiceClient.UpdateContact, spec{
			use: "update CONTACT_ID", short: "Change a contact's fields (those whose flags are given)",
			args: []string{"contact_id"}, fields: contactFields(), mask: "contact",
		}),
		rpc(a, leadsClient, leadsv1.LeadsServiceClient.ErasePerson, spec{
			use: "erase CONTACT_ID", short: "Erase a contact's person (GDPR): destroy their data key, with their linked records",
			long: "Erase the person of a contact by crypto-shredding (docs/security.md, \"Erasure\"), and the lead\n" +
				"it was converted from. Cannot be undone. Admin only; retrying is safe.",
			example: `  crmctl contacts erase 0190... --reason "DSR-2026-118"`,
			args:    []string{"contact_id"}, fields: []field{f("reason")},
		}),
	)
}
