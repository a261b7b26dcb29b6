package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/protobuf/reflect/protoreflect"

	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	"github.com/evcrm/evcrm/tools/crmctl/internal/protoflag"
	"github.com/evcrm/evcrm/tools/crmctl/internal/render"
)

var campaignClient = client[campaignv1.CampaignServiceClient]{svcCampaign, campaignv1.NewCampaignServiceClient}

func campaignFields() []field {
	return fields(
		under("campaign", "name", "description", "channel", "start_date", "end_date", "budget", "expected_revenue"),
		[]field{
			fn("expected-response-percent", "campaign.expected_response_percent"),
			fn("parent", "campaign.parent_campaign_id"), fn("owner", "campaign.owner_id"),
			fn("segment", "campaign.target_segment_id"), fn("member-status", "campaign.member_statuses"),
		})
}

func (a *app) campaignsCommand() *cobra.Command {
	members := render.View{Rows: []string{"members"}, Columns: []string{"id", "type", "person_id", "status", "responded", "unsubscribed", "added_at", "last_response_at"}}
	return group("campaigns", "Campaigns, their members and responses", []string{"campaign"},
		rpc(a, campaignClient, campaignv1.CampaignServiceClient.CreateCampaign, spec{
			use: "create", short: "Create a campaign",
			example: `  crmctl campaigns create --name "Spring webinar" --channel webinar --start-date 2026-03-01 \
    --end-date 2026-03-31 --budget "5000 EUR"`,
			fields: campaignFields(),
		}),
		rpc(a, campaignClient, campaignv1.CampaignServiceClient.GetCampaign, spec{
			use: "get CAMPAIGN_ID", short: "Show a campaign with its member counts", args: []string{"campaign_id"},
		}),
		rpc(a, campaignClient, campaignv1.CampaignServiceClient.ListCampaigns, spec{
			use: "list", short: "List campaigns with filters", aliases: []string{"ls"},
			fields: []field{
				fn("status", "statuses"), fn("channel", "channels"), fn("owner", "owner_ids"),
				fn("parent", "parent_campaign_id"), f("active_from"), f("active_to"),
			},
			view: render.View{Rows: []string{"campaigns"}, Columns: []string{"id", "name", "channel", "status", "start_date", "end_date", "budget", "actual_cost"}},
		}),
		rpc(a, campaignClient, campaignv1.CampaignServiceClient.UpdateCampaign, spec{
			use: "update CAMPAIGN_ID", short: "Change a campaign's fields (those whose flags are given)",
			args: []string{"campaign_id"}, fields: campaignFields(), mask: "campaign",
		}),
		rpc(a, campaignClient, campaignv1.CampaignServiceClient.ChangeCampaignStatus, spec{
			use: "status CAMPAIGN_ID STATUS", short: "Change a campaign's status (active, paused, completed, aborted)",
			args: []string{"campaign_id", "status"}, fields: []field{f("note")},
		}),
		rpc(a, campaignClient, campaignv1.CampaignServiceClient.RecordCampaignCost, spec{
			use: "cost CAMPAIGN_ID AMOUNT", short: `Record a cost ("1200 EUR") against a campaign`,
			args: []string{"campaign_id", "entry.amount"}, fields: []field{fn("date", "entry.date"), fn("description", "entry.description")},
		}),
		group("members", "Campaign members", []string{"member"},
			rpc(a, campaignClient, campaignv1.CampaignServiceClient.AddMembers, spec{
				use: "add CAMPAIGN_ID", short: "Add leads and contacts to a campaign",
				example: "  crmctl campaigns members add 0190... --lead 0190aa... --lead 0190bb... --contact 0190cc...",
				args:    []string{"campaign_id"},
				view:    render.View{Rows: []string{"results"}, Columns: []string{"person.type", "person.person_id", "outcome", "member_id", "reason"}},
				extra:   peopleFlags,
			}),
			rpc(a, campaignClient, campaignv1.CampaignServiceClient.ListMembers, spec{
				use: "list CAMPAIGN_ID", short: "List a campaign's members", aliases: []string{"ls"},
				args: []string{"campaign_id"}, fields: []field{fn("status", "statuses"), f("responded_only")}, view: members,
			}),
			rpc(a, campaignClient, campaignv1.CampaignServiceClient.GetMemberHistory, spec{
				use: "history", short: "A person's memberships and touches across campaigns (--lead or --contact)",
				extra: personFlags("person.type", "person.person_id"),
			}),
		),
		rpc(a, campaignClient, campaignv1.CampaignServiceClient.RecordResponse, spec{
			use: "respond CAMPAIGN_ID STATUS", short: "Record a member's response (a status of the campaign: Sent, Opened, Clicked, ...)",
			example: "  crmctl campaigns respond 0190... Clicked --lead 0190aa... --at 2026-03-02T10:00:00Z --meta link=pricing",
			args:    []string{"response.campaign_id", "response.status"},
			fields:  []field{fn("at", "response.occurred_at"), fn("meta", "response.metadata")},
			extra:   personFlags("response.member_type", "response.person_id"),
		}),
		a.enrollCommand(),
	)
}

// peopleFlags adds --lead and --contact (repeatable) for AddMembers' people.
func peopleFlags(fs *pflag.FlagSet) func(protoreflect.Message) error {
	leads := fs.StringSlice("lead", nil, "lead id to add (comma-separated or repeated)")
	contacts := fs.StringSlice("contact", nil, "contact id to add (comma-separated or repeated)")
	return func(req protoreflect.Message) error {
		r := req.Interface().(*campaignv1.AddMembersRequest)
		for _, id := range *leads {
			r.People = append(r.People, &campaignv1.MemberRef{Type: campaignv1.MemberType_MEMBER_TYPE_LEAD, PersonId: id})
		}
		for _, id := range *contacts {
			r.People = append(r.People, &campaignv1.MemberRef{Type: campaignv1.MemberType_MEMBER_TYPE_CONTACT, PersonId: id})
		}
		return nil
	}
}

// personFlags adds --lead and --contact (one of them) that set a person's type and id fields.
func personFlags(typePath, idPath string) func(fs *pflag.FlagSet) func(protoreflect.Message) error {
	return func(fs *pflag.FlagSet) func(protoreflect.Message) error {
		lead := fs.String("lead", "", "the person is this lead")
		contact := fs.String("contact", "", "the person is this contact")
		return func(req protoreflect.Message) error {
			typ, id := campaignv1.MemberType_MEMBER_TYPE_LEAD, *lead
			switch {
			case *lead != "" && *contact != "":
				return errors.New("give --lead or --contact, not both")
			case *contact != "":
				typ, id = campaignv1.MemberType_MEMBER_TYPE_CONTACT, *contact
			case *lead == "":
				return nil // from --from-json, or the server names the missing field
			}
			if err := protoflag.Set(req, typePath, typ.String()); err != nil {
				return err
			}
			return protoflag.Set(req, idPath, id)
		}
	}
}

func (a *app) enrollCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "enroll CAMPAIGN_ID SEGMENT_ID",
		Short: "Add every current member of a segment to a campaign, with progress",
		Long:  "Add every current member of a segment to a campaign, with progress.\n\nCalls crm.campaign.v1.CampaignService/EnrollSegment.",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := a.conn(svcCampaign)
			if err != nil {
				return err
			}
			stream, err := campaignv1.NewCampaignServiceClient(conn).EnrollSegment(a.callContext(cmd.Context()),
				&campaignv1.EnrollSegmentRequest{CampaignId: args[0], SegmentId: args[1]})
			if err != nil {
				return err
			}
			bar := a.newBar(-1, "enrolling")
			var last *campaignv1.EnrollSegmentResponse
			for {
				msg, err := stream.Recv()
				if err != nil {
					if isEOF(err) {
						break
					}
					bar.done()
					return err
				}
				last = msg
				e := msg.GetEnrollment()
				bar.set(e.GetExamined(), fmt.Sprintf("examined %d, added %d", e.GetExamined(), e.GetAdded()))
			}
			bar.done()
			if last == nil {
				return errors.New("the server ended the enrollment without a result")
			}
			return a.print(last, render.View{})
		},
	}
}

func (a *app) segmentsCommand() *cobra.Command {
	segFields := under("segment", "name", "description", "object", "criteria")
	return group("segments", "Segments: saved criteria over leads or contacts", []string{"segment"},
		rpc(a, campaignClient, campaignv1.CampaignServiceClient.CreateSegment, spec{
			use: "create", short: "Create a segment",
			example: `  crmctl segments create --name "Hot DACH leads" --object lead --criteria 'country in (DE, AT, CH) and temperature in (HOT)'`,
			fields:  segFields,
		}),
		rpc(a, campaignClient, campaignv1.CampaignServiceClient.GetSegment, spec{
			use: "get SEGMENT_ID", short: "Show a segment", args: []string{"segment_id"},
		}),
		rpc(a, campaignClient, campaignv1.CampaignServiceClient.ListSegments, spec{
			use: "list", short: "List segments", aliases: []string{"ls"},
			view: render.View{Rows: []string{"segments"}, Columns: []string{"id", "name", "object", "criteria", "updated_at"}},
		}),
		rpc(a, campaignClient, campaignv1.CampaignServiceClient.UpdateSegment, spec{
			use: "update SEGMENT_ID", short: "Change a segment's fields (those whose flags are given)",
			args: []string{"segment_id"}, fields: segFields, mask: "segment",
		}),
		rpc(a, campaignClient, campaignv1.CampaignServiceClient.DeleteSegment, spec{
			use: "delete SEGMENT_ID", short: "Delete a segment", args: []string{"segment_id"},
		}),
		rpc(a, campaignClient, campaignv1.CampaignServiceClient.PreviewSegment, spec{
			use: "preview [SEGMENT_ID]", short: "Count the people a segment (or --criteria) matches now, with a sample",
			args: []string{"segment_id?"}, fields: []field{f("criteria"), f("object"), f("sample_size")},
		}),
	)
}

func (a *app) rulesCommand() *cobra.Command {
	ruleFields := fields(under("rule", "name", "description", "enabled", "condition"),
		[]field{fn("trigger", "rule.trigger.event_type"),
			fu("action", "rule.actions", `action as JSON, e.g. '{"addTag": {"tag": "hot"}}'`)})
	return group("rules", "Automation rules: trigger, condition, actions", []string{"rule"},
		rpc(a, campaignClient, campaignv1.CampaignServiceClient.CreateRule, spec{
			use: "create", short: "Create an automation rule",
			example: `  crmctl rules create --name "Tag hot leads" --trigger LeadStatusChanged \
    --condition 'event.to == "MARKETING_QUALIFIED" and record.score >= 80' \
    --action '{"addTag": {"tag": "hot"}}' --enabled`,
			fields: ruleFields,
		}),
		rpc(a, campaignClient, campaignv1.CampaignServiceClient.GetRule, spec{
			use: "get RULE_ID", short: "Show a rule", args: []string{"rule_id"},
		}),
		rpc(a, campaignClient, campaignv1.CampaignServiceClient.ListRules, spec{
			use: "list", short: "List rules", aliases: []string{"ls"}, fields: []field{f("enabled_only")},
			view: render.View{Rows: []string{"rules"}, Columns: []string{"id", "name", "enabled", "trigger.event_type", "condition", "version"}},
		}),
		rpc(a, campaignClient, campaignv1.CampaignServiceClient.UpdateRule, spec{
			use: "update RULE_ID", short: "Replace a rule (give the whole rule: --from-json or every flag)",
			args: []string{"rule_id"}, fields: ruleFields,
		}),
		rpc(a, campaignClient, campaignv1.CampaignServiceClient.SetRuleEnabled, spec{
			use: "enable RULE_ID", short: "Enable a rule", args: []string{"rule_id"},
			defaults: func(req protoreflect.Message) { _ = protoflag.Set(req, "enabled", "true") },
		}),
		rpc(a, campaignClient, campaignv1.CampaignServiceClient.SetRuleEnabled, spec{
			use: "disable RULE_ID", short: "Disable a rule", args: []string{"rule_id"},
		}),
		rpc(a, campaignClient, campaignv1.CampaignServiceClient.DeleteRule, spec{
			use: "delete RULE_ID", short: "Delete a rule", args: []string{"rule_id"},
		}),
		rpc(a, campaignClient, campaignv1.CampaignServiceClient.DryRunRule, spec{
			use: "dry-run [RULE_ID]", short: "Evaluate a rule (or --from-json rule) against recent events without acting",
			args: []string{"rule_id?"}, fields: []field{f("lookback"), f("max_events")},
			view: render.View{Rows: []string{"runs"}, Columns: []string{"event_type", "record_id", "outcome", "actions", "error", "at"}},
		}),
		rpc(a, campaignClient, campaignv1.CampaignServiceClient.ListRuleRuns, spec{
			use: "runs RULE_ID", short: "List a rule's runs", args: []string{"rule_id"}, fields: []field{fn("outcome", "outcomes")},
			view: render.View{Rows: []string{"runs"}, Columns: []string{"at", "event_type", "record_id", "outcome", "actions", "error"}},
		}),
	)
}
