package cli

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/protobuf/reflect/protoreflect"

	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/tools/crmctl/internal/render"
)

var pipelineClient = client[pipelinev1.PipelineServiceClient]{svcPipeline, pipelinev1.NewPipelineServiceClient}

// opportunityFields are the descriptive fields UpdateOpportunity accepts (and create takes).
func opportunityFields() []field {
	return fields(
		under("opportunity", "name", "next_step", "description", "source"),
		[]field{
			fn("account", "opportunity.account_id"), fn("contact", "opportunity.primary_contact_id"),
			fn("campaign", "opportunity.primary_campaign_id"), fn("competitor", "opportunity.competitors"),
			fn("tag", "opportunity.tags"), fn("custom", "opportunity.custom_fields"),
		})
}

func (a *app) opportunitiesCommand() *cobra.Command {
	list := render.View{Rows: []string{"opportunities"},
		Columns: []string{"id", "name", "stage_name", "status", "amount", "probability", "expected_close_date", "owner_id", "account_id"}}
	return group("opportunities", "Opportunities: stages, amounts, won and lost", []string{"opportunity", "opps", "opp"},
		rpc(a, pipelineClient, pipelinev1.PipelineServiceClient.CreateOpportunity, spec{
			use: "create", short: "Open an opportunity",
			long: "Open an opportunity in a pipeline (default: \"default\") at a stage (default: its first\n" +
				"open stage). --probability and --forecast-category override the stage's defaults.",
			example: `  crmctl opportunities create --name "Acme - platform" --account 0190... --amount "48000 EUR" \
    --close-date 2026-09-30 --idempotency-key acme-platform-1`,
			fields: append(opportunityFields(),
				fn("id", "opportunity_id"), fn("lead", "opportunity.lead_id"), fn("owner", "opportunity.owner_id"),
				fn("pipeline", "opportunity.pipeline_id"), fn("stage", "opportunity.stage_id"), f("opportunity.amount"),
				fn("close-date", "opportunity.expected_close_date"),
				fn("probability", "opportunity.probability"), fn("probability-overridden", "opportunity.probability_overridden"),
				fn("forecast-category", "opportunity.forecast_category"),
				fn("forecast-category-overridden", "opportunity.forecast_category_overridden")),
			extra: overrideFlags,
		}),
		rpc(a, pipelineClient, pipelinev1.PipelineServiceClient.GetOpportunity, spec{
			use: "get OPPORTUNITY_ID", short: "Show an opportunity with its stage history", args: []string{"opportunity_id"},
		}),
		rpc(a, pipelineClient, pipelinev1.PipelineServiceClient.ListOpportunities, spec{
			use: "list", short: "List opportunities with filters", aliases: []string{"ls"},
			fields: []field{
				fn("pipeline", "pipeline_ids"), fn("stage", "stage_ids"), fn("owner", "owner_ids"), fn("account", "account_ids"),
				fn("forecast-category", "forecast_categories"), fn("status", "statuses"),
				fn("close-from", "close_date_from"), fn("close-to", "close_date_to"), f("min_amount"), f("max_amount"),
				f("tag"), fn("campaign", "campaign_id"), f("order_by"), f("descending"),
			},
			view: list,
		}),
		rpc(a, pipelineClient, pipelinev1.PipelineServiceClient.UpdateOpportunity, spec{
			use: "update OPPORTUNITY_ID", short: "Change an opportunity's descriptive fields (those whose flags are given)",
			args: []string{"opportunity_id"}, fields: opportunityFields(), mask: "opportunity",
		}),
		rpc(a, pipelineClient, pipelinev1.PipelineServiceClient.MoveOpportunityStage, spec{
			use: "move-stage OPPORTUNITY_ID STAGE_ID", short: "Move an open opportunity to another open stage",
			aliases: []string{"move"}, args: []string{"opportunity_id", "stage_id"},
		}),
		rpc(a, pipelineClient, pipelinev1.PipelineServiceClient.UpdateOpportunityAmount, spec{
			use: "set-amount OPPORTUNITY_ID AMOUNT", short: `Set the deal value ("48000 EUR")`, args: []string{"opportunity_id", "amount"},
		}),
		rpc(a, pipelineClient, pipelinev1.PipelineServiceClient.UpdateOpportunityCloseDate, spec{
			use: "set-close-date OPPORTUNITY_ID DATE", short: "Set the expected close date (YYYY-MM-DD)",
			args: []string{"opportunity_id", "expected_close_date"},
		}),
		rpc(a, pipelineClient, pipelinev1.PipelineServiceClient.UpdateOpportunityProbability, spec{
			use: "set-probability OPPORTUNITY_ID", short: "Override the probability (--probability N), or clear the override (no flag)",
			args: []string{"opportunity_id"}, fields: []field{f("probability")},
		}),
		rpc(a, pipelineClient, pipelinev1.PipelineServiceClient.UpdateOpportunityForecastCategory, spec{
			use: "set-forecast-category OPPORTUNITY_ID [CATEGORY]", short: "Override the forecast category, or clear the override (none given)",
			args: []string{"opportunity_id", "forecast_category?"},
		}),
		rpc(a, pipelineClient, pipelinev1.PipelineServiceClient.AssignOpportunity, spec{
			use: "assign OPPORTUNITY_ID OWNER_ID", short: "Give an opportunity to another owner",
			args: []string{"opportunity_id", "owner_id"}, fields: []field{f("note")},
		}),
		group("close", "Close an opportunity as won or lost", nil,
			rpc(a, pipelineClient, pipelinev1.PipelineServiceClient.MarkOpportunityWon, spec{
				use: "won OPPORTUNITY_ID", short: "Close an open opportunity as won",
				example: `  crmctl opportunities close won 0190... --amount "52000 EUR" --note "signed"`,
				args:    []string{"opportunity_id"}, fields: []field{f("amount"), f("close_date"), f("note")},
			}),
			rpc(a, pipelineClient, pipelinev1.PipelineServiceClient.MarkOpportunityLost, spec{
				use: "lost OPPORTUNITY_ID", short: "Close an open opportunity as lost",
				example: "  crmctl opportunities close lost 0190... --reason competitor --competitor Initech",
				args:    []string{"opportunity_id"},
				fields:  []field{f("reason"), f("competitor"), f("note"), f("close_date"), fn("stage", "stage_id")},
			}),
		),
		rpc(a, pipelineClient, pipelinev1.PipelineServiceClient.ReopenOpportunity, spec{
			use: "reopen OPPORTUNITY_ID STAGE_ID", short: "Put a won or lost opportunity back into an open stage",
			args: []string{"opportunity_id", "stage_id"},
		}),
		rpc(a, pipelineClient, pipelinev1.PipelineServiceClient.GetForecast, spec{
			use: "forecast", short: "The pipeline service's weighted forecast by close period (now or --as-of)",
			fields: []field{
				f("period"), fn("close-from", "close_date_from"), fn("close-to", "close_date_to"), fn("owner", "owner_ids"),
				fn("pipeline", "pipeline_ids"), fn("forecast-category", "forecast_categories"),
				f("group_by_owner"), f("group_by_forecast_category"), f("as_of"),
			},
			view: render.View{Rows: []string{"rows"}, Columns: []string{"period_start", "currency_code", "owner_id",
				"forecast_category", "count", "amount", "weighted_amount"}},
		}),
		rpc(a, pipelineClient, pipelinev1.PipelineServiceClient.ListQuotes, spec{
			use: "quotes OPPORTUNITY_ID", short: "List every version of every quote of an opportunity",
			args: []string{"opportunity_id"},
			view: render.View{Rows: []string{"quotes"}},
		}),
	)
}

// overrideFlags marks a given probability or forecast category as an override, which is what
// a person giving --probability means.
func overrideFlags(fs *pflag.FlagSet) func(protoreflect.Message) error {
	return func(req protoreflect.Message) error {
		opp := req.Interface().(*pipelinev1.CreateOpportunityRequest).GetOpportunity()
		if opp == nil {
			return nil
		}
		if fs.Changed("probability") && !fs.Changed("probability-overridden") {
			opp.ProbabilityOverridden = true
		}
		if fs.Changed("forecast-category") && !fs.Changed("forecast-category-overridden") {
			opp.ForecastCategoryOverridden = true
		}
		return nil
	}
}

func (a *app) pipelinesCommand() *cobra.Command {
	return group("pipelines", "Pipelines and their stages", []string{"pipeline"},
		rpc(a, pipelineClient, pipelinev1.PipelineServiceClient.ListPipelines, spec{
			use: "list", short: "List pipelines", aliases: []string{"ls"}, fields: []field{f("include_archived")},
			view: render.View{Rows: []string{"pipelines"}},
		}),
		rpc(a, pipelineClient, pipelinev1.PipelineServiceClient.GetPipeline, spec{
			use: "get PIPELINE_ID", short: "Show a pipeline and its stages", args: []string{"pipeline_id"},
		}),
		rpc(a, pipelineClient, pipelinev1.PipelineServiceClient.CreatePipeline, spec{
			use: "create", short: "Define a pipeline (--from-json '{\"pipeline\": {\"id\": ..., \"stages\": [...]}}')",
			fields: []field{fn("id", "pipeline.id"), fn("name", "pipeline.name"), fn("stage", "pipeline.stages")},
		}),
		rpc(a, pipelineClient, pipelinev1.PipelineServiceClient.ArchivePipeline, spec{
			use: "archive PIPELINE_ID", short: "Archive a pipeline (it takes no new opportunities)", args: []string{"pipeline_id"},
		}),
	)
}
