package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	analyticsv1 "github.com/evcrm/evcrm/libs/gen/crm/analytics/v1"
	"github.com/evcrm/evcrm/tools/crmctl/internal/protoflag"
	"github.com/evcrm/evcrm/tools/crmctl/internal/render"
)

var analyticsClient = client[analyticsv1.AnalyticsServiceClient]{svcAnalytics, analyticsv1.NewAnalyticsServiceClient}

// The analytics queries' shared flags.
var (
	rangeFields  = []field{fu("from", "range.from", "start of the range (default: see the command)"), fu("to", "range.to", "end of the range, exclusive")}
	filterFields = []field{
		fn("source", "filters.sources"), fn("campaign", "filters.campaign_ids"), fn("owner", "filters.owner_ids"),
		fn("territory", "filters.territory_ids"), fn("pipeline", "filters.pipeline_ids"),
	}
	groupFields = []field{f("period"), f("breakdown")}
)

// pastYear defaults a query's range to the last 365 days up to the end of today (UTC), and
// its currency to EVCRM_CURRENCY (USD, the pipeline's default currency, when unset).
func (a *app) pastYear(req protoreflect.Message) {
	today := time.Now().UTC().Truncate(24 * time.Hour)
	setRange(req, today.AddDate(-1, 0, 1), today.AddDate(0, 0, 1))
	a.setCurrency(req)
}

// nextYear defaults a forecast's range to the twelve months from the start of this month.
func (a *app) nextYear(req protoreflect.Message) {
	now := time.Now().UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	setRange(req, month, month.AddDate(1, 0, 0))
	a.setCurrency(req)
}

func setRange(req protoreflect.Message, from, to time.Time) {
	fd := req.Descriptor().Fields().ByName("range")
	r := req.Mutable(fd).Message().Interface().(*analyticsv1.TimeRange)
	r.From, r.To = timestamppb.New(from), timestamppb.New(to)
}

func (a *app) setCurrency(req protoreflect.Message) {
	if req.Descriptor().Fields().ByName("currency") != nil {
		_ = protoflag.Set(req, "currency", a.envOr("EVCRM_CURRENCY", "USD"))
	}
}

func (a *app) analyticsCommand() *cobra.Command {
	currency := fu("currency", "currency", "ISO 4217 currency of the amounts (default $EVCRM_CURRENCY or USD)")
	rangeNote := "\n\nThe range defaults to the last 365 days up to the end of today (UTC)."
	return group("analytics", "Funnel, stage, velocity, forecast and campaign metrics from ClickHouse", []string{"an"},
		rpc(a, analyticsClient, analyticsv1.AnalyticsServiceClient.GetFunnel, spec{
			use: "funnel", short: "The lead lifecycle funnel by creation cohort",
			long:     "The lead lifecycle funnel (created → MQL → SAL → SQL → converted → won) of the leads\ncreated in each period, with step conversion and time between steps." + rangeNote,
			example:  "  crmctl analytics funnel --from 2026-01-01 --period quarter --breakdown source",
			fields:   fields(rangeFields, groupFields, filterFields, []field{f("conversion_window")}),
			defaults: a.pastYear,
			view: render.View{Rows: []string{"cohorts", "steps"}, Columns: []string{"period_start", "key", "step", "count",
				"step_conversion", "overall_conversion", "median_time", "p90_time"}},
		}),
		rpc(a, analyticsClient, analyticsv1.AnalyticsServiceClient.GetStageMetrics, spec{
			use: "stage-metrics", short: "Stage conversion and time in stage", aliases: []string{"stages"},
			long:     "Opportunity stage conversion and time in stage, over the stage entries in the range." + rangeNote,
			fields:   fields(rangeFields, []field{f("breakdown")}, filterFields),
			defaults: a.pastYear,
			view: render.View{Rows: []string{"stages"}, Columns: []string{"pipeline_id", "stage_name", "key", "entered",
				"advanced", "lost", "conversion", "avg_time", "p50_time", "p90_time"}},
		}),
		rpc(a, analyticsClient, analyticsv1.AnalyticsServiceClient.GetSalesVelocity, spec{
			use: "velocity", short: "Win rate, deal size, sales cycle and sales velocity",
			long:     "Sales velocity and its four inputs (open opportunities, win rate, average deal size, sales\ncycle) per period, from the opportunities closed in the range." + rangeNote,
			fields:   fields(rangeFields, groupFields, filterFields, []field{currency}),
			defaults: a.pastYear,
			view: render.View{Rows: []string{"rows"}, Columns: []string{"period_start", "key", "open_opportunities", "won", "lost",
				"win_rate", "average_deal_size", "sales_cycle_days", "velocity_per_day"}},
		}),
		rpc(a, analyticsClient, analyticsv1.AnalyticsServiceClient.GetForecast, spec{
			use: "forecast", short: "Weighted open pipeline by close period, and closed-won",
			long:     "Weighted open pipeline by expected close period, and closed-won.\n\nThe range defaults to the twelve months from the start of this month (UTC).",
			fields:   fields(rangeFields, groupFields, filterFields, []field{currency}),
			defaults: a.nextYear,
			view: render.View{Rows: []string{"rows"}, Columns: []string{"period_start", "key", "open_opportunities", "open_amount",
				"weighted_amount", "closed_won"}},
		}),
		rpc(a, analyticsClient, analyticsv1.AnalyticsServiceClient.GetCampaignPerformance, spec{
			use: "campaign-performance", short: "Campaign members, response rates, cost, influenced pipeline, ROI, attribution",
			aliases:  []string{"campaigns"},
			long:     "Campaign members, response rates, cost, influenced pipeline and revenue, ROI and\nfirst/last-touch attribution." + rangeNote,
			fields:   fields(rangeFields, []field{fn("campaign", "campaign_ids"), currency}),
			defaults: a.pastYear,
			view: render.View{Rows: []string{"campaigns"}, Columns: []string{"name", "channel", "members", "sent", "opened",
				"clicked", "responded", "converted", "response_rate", "cost", "leads", "cost_per_lead", "opportunities",
				"influenced_pipeline", "influenced_won", "roi"}},
		}),
		rpc(a, analyticsClient, analyticsv1.AnalyticsServiceClient.GetTimeline, spec{
			use: "timeline ACCOUNT_ID", short: "The 360° view of an account: every event about it, newest first",
			args: []string{"account_id"},
			view: render.View{Rows: []string{"events"}, Columns: []string{"at", "event_type", "aggregate_type", "aggregate_id", "actor", "stream", "sequence"}},
		}),
		rpc(a, analyticsClient, analyticsv1.AnalyticsServiceClient.GetProjectionStatus, spec{
			use: "status", short: "How far the projector is behind each stream",
			view: render.View{Rows: []string{"streams"}, Columns: []string{"stream", "last_sequence", "projected_sequence", "pending", "lag"}},
		}),
	)
}

// rebuildCommand runs the analytics Rebuild with a progress bar over the events projected.
func (a *app) rebuildCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "rebuild",
		Short: "Rebuild the analytics tables from the start of the streams",
		Long: "Rebuild every analytics table from the start of the CRM streams into new tables, then swap\n" +
			"them in; queries answer from the old tables meanwhile. Shows the events projected so far.\n\n" +
			"Calls crm.analytics.v1.AnalyticsService/Rebuild.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			conn, err := a.conn(svcAnalytics)
			if err != nil {
				return err
			}
			stream, err := analyticsv1.NewAnalyticsServiceClient(conn).Rebuild(a.callContext(cmd.Context()), &analyticsv1.RebuildRequest{})
			if err != nil {
				return err
			}
			bar := a.newBar(-1, "rebuilding")
			var last *analyticsv1.RebuildResponse
			for {
				msg, err := stream.Recv()
				if err != nil {
					bar.done()
					if isEOF(err) {
						break
					}
					return err
				}
				last = msg
				var done, total uint64
				for _, s := range msg.GetStreams() {
					done += s.GetProjectedSequence()
					total += s.GetLastSequence()
				}
				bar.setMax(int64(total))
				bar.set(int64(done), fmt.Sprintf("rebuilding: %d of %d events", done, total))
			}
			if last == nil || !last.GetDone() {
				return fmt.Errorf("the rebuild stream ended before the rebuild was done")
			}
			return a.print(last, render.View{Rows: []string{"streams"}, Columns: []string{"stream", "last_sequence", "projected_sequence", "pending"}})
		},
	}
}
