package demo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
)

func timestamp(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }

func (r *runner) writeOpts(key string) *commonv1.WriteOptions {
	return &commonv1.WriteOptions{IdempotencyKey: key}
}

// do makes the calls of one step.
func (r *runner) do(ctx context.Context, s step) error {
	user := DefaultUser
	if s.lead >= 0 && r.ownerID[s.lead] != "" {
		user = r.ownerID[s.lead]
	}
	if s.camp >= 0 {
		user = r.p.campaigns[s.camp].c.GetOwnerId()
	}
	cctx, err := r.call(ctx, user, s.at)
	if err != nil {
		return err
	}
	k := func(what string) *commonv1.WriteOptions {
		if s.lead >= 0 {
			return r.writeOpts(r.key("lead", s.lead, what))
		}
		return r.writeOpts(r.key("campaign", s.camp, what))
	}
	switch s.kind {
	case kSetup:
		for _, t := range territories {
			err := r.retry(ctx, func() error {
				res, err := r.leads.UpsertTerritory(cctx, &leadsv1.UpsertTerritoryRequest{Territory: t.proto(), Options: r.writeOpts(r.key("territory", t.id))})
				if res.GetResult().GetReplayed() {
					r.resume()
				}
				return err
			})
			if err != nil {
				return fmt.Errorf("territory %s: %w", t.id, err)
			}
		}
		return nil

	case kCampaignCreate:
		return r.retry(ctx, func() error {
			res, err := r.campaign.CreateCampaign(cctx, &campaignv1.CreateCampaignRequest{Campaign: r.p.campaigns[s.camp].c, Options: k("create")})
			if err == nil {
				r.campaignID[s.camp] = res.GetCampaign().GetId()
				r.count(func(x *Summary) { x.Campaigns++ })
			}
			return err
		})
	case kCampaignActivate, kCampaignComplete:
		st, what := campaignv1.CampaignStatus_CAMPAIGN_STATUS_ACTIVE, "activate"
		if s.kind == kCampaignComplete {
			st, what = campaignv1.CampaignStatus_CAMPAIGN_STATUS_COMPLETED, "complete"
		}
		return r.retry(ctx, func() error {
			_, err := r.campaign.ChangeCampaignStatus(cctx, &campaignv1.ChangeCampaignStatusRequest{CampaignId: r.campaignID[s.camp], Status: st, Options: k(what)})
			return err
		})
	case kCampaignCost:
		c := r.p.campaigns[s.camp].costs[s.n]
		return r.retry(ctx, func() error {
			_, err := r.campaign.RecordCampaignCost(cctx, &campaignv1.RecordCampaignCostRequest{CampaignId: r.campaignID[s.camp],
				Entry:   &campaignv1.CostEntry{Amount: usd(c.amount), Date: r.date(s.at).Format(time.DateOnly), Description: c.desc},
				Options: k(fmt.Sprint("cost-", s.n))})
			if err == nil {
				r.count(func(x *Summary) { x.CostEntries++ })
			}
			return err
		})

	case kLeadCreate:
		return r.createLead(ctx, cctx, s, k("create"))
	case kEngage:
		return r.retry(ctx, func() error {
			res, err := r.leads.RecordEngagement(cctx, &leadsv1.RecordEngagementRequest{LeadId: r.leadID[s.lead],
				Signal: leadsv1.EngagementSignal(s.n), OccurredAt: timestamp(r.date(s.at)), Options: k(fmt.Sprint("engage-", s.at.Unix()))})
			if err == nil {
				r.status[s.lead] = res.GetLead().GetStatus()
				r.count(func(x *Summary) { x.Engagements++ })
			}
			return err
		})
	case kMQL:
		if err := r.advance(ctx, cctx, s, leadsv1.LeadStatus_LEAD_STATUS_MARKETING_QUALIFIED, k("mql")); err != nil {
			return err
		}
		r.count(func(x *Summary) { x.MQL++ })
	case kSAL:
		if err := r.advance(ctx, cctx, s, leadsv1.LeadStatus_LEAD_STATUS_SALES_ACCEPTED, k("sal")); err != nil {
			return err
		}
		r.count(func(x *Summary) { x.SAL++ })
	case kSQL:
		lp := r.p.leads[s.lead]
		bant := &leadsv1.Bant{
			Budget: usd(lp.amount * 12 / 10), BudgetConfirmed: true,
			Authority: lp.lead.GetJobTitle(), AuthorityConfirmed: true,
			Need: "replace spreadsheets for pipeline and forecast", NeedConfirmed: true,
			Timeline: timestamp(r.date(s.at).AddDate(0, 0, lp.closeIn+30)), TimelineConfirmed: true,
		}
		err := r.retry(ctx, func() error {
			_, err := r.leads.SetBant(cctx, &leadsv1.SetBantRequest{LeadId: r.leadID[s.lead], Bant: bant, Options: k("bant")})
			return err
		})
		if err != nil {
			return fmt.Errorf("set BANT: %w", err)
		}
		if err := r.advance(ctx, cctx, s, leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED, k("sql")); err != nil {
			return err
		}
		r.count(func(x *Summary) { x.SQL++ })
	case kConvert:
		return r.convert(ctx, cctx, s)
	case kDisqualify:
		return r.retry(ctx, func() error {
			res, err := r.leads.DisqualifyLead(cctx, &leadsv1.DisqualifyLeadRequest{LeadId: r.leadID[s.lead], Reason: r.p.leads[s.lead].dqReason, Options: k("disqualify")})
			if err == nil {
				r.status[s.lead] = res.GetLead().GetStatus()
				r.count(func(x *Summary) { x.Disqualified++ })
			}
			return err
		})
	case kRecycle:
		return r.retry(ctx, func() error {
			res, err := r.leads.RecycleLead(cctx, &leadsv1.RecycleLeadRequest{LeadId: r.leadID[s.lead], Note: "back to nurture", Options: k("recycle")})
			if err == nil {
				r.status[s.lead] = res.GetLead().GetStatus()
				r.count(func(x *Summary) { x.Recycled++ })
			}
			return err
		})

	case kStage:
		return r.retry(ctx, func() error {
			_, err := r.pipeline.MoveOpportunityStage(cctx, &pipelinev1.MoveOpportunityStageRequest{OpportunityId: r.oppID[s.lead],
				StageId: openStages[s.n].id, Options: k(fmt.Sprint("stage-", s.n))})
			if err == nil {
				r.count(func(x *Summary) { x.StageMoves++ })
			}
			return err
		})
	case kQuote:
		return r.quote(ctx, cctx, s, k)
	case kWon:
		if r.quoteID[s.lead] != "" {
			// Accept the quote while it is valid: its total becomes the deal's amount.
			err := r.retry(ctx, func() error {
				_, err := r.pipeline.AcceptQuote(cctx, &pipelinev1.AcceptQuoteRequest{OpportunityId: r.oppID[s.lead], QuoteId: r.quoteID[s.lead],
					Version: r.quoteVer[s.lead], Options: k("quote-accept")})
				return err
			})
			if err != nil && status.Code(err) != codes.FailedPrecondition {
				return fmt.Errorf("accept quote: %w", err)
			}
		}
		return r.retry(ctx, func() error {
			_, err := r.pipeline.MarkOpportunityWon(cctx, &pipelinev1.MarkOpportunityWonRequest{OpportunityId: r.oppID[s.lead],
				CloseDate: r.date(s.at).Format(time.DateOnly), Note: "signed", Options: k("won")})
			if err == nil {
				r.count(func(x *Summary) { x.Won++ })
			}
			return err
		})
	case kLost:
		lp := r.p.leads[s.lead]
		return r.retry(ctx, func() error {
			_, err := r.pipeline.MarkOpportunityLost(cctx, &pipelinev1.MarkOpportunityLostRequest{OpportunityId: r.oppID[s.lead],
				Reason: lp.lostWhy, Competitor: lp.rival, CloseDate: r.date(s.at).Format(time.DateOnly), Options: k("lost")})
			if err == nil {
				r.count(func(x *Summary) { x.Lost++ })
			}
			return err
		})
	default:
		return fmt.Errorf("unknown step kind %d", s.kind)
	}
	return nil
}

func (r *runner) createLead(ctx, cctx context.Context, s step, opts *commonv1.WriteOptions) error {
	lp := r.p.leads[s.lead]
	l := proto.Clone(lp.lead).(*leadsv1.Lead)
	if lp.campaign >= 0 {
		l.CampaignId = r.campaignID[lp.campaign]
	}
	var got *leadsv1.Lead
	err := r.retry(ctx, func() error {
		res, err := r.leads.CreateLead(cctx, &leadsv1.CreateLeadRequest{Lead: l, Options: opts})
		if res.GetResult().GetReplayed() {
			r.resume()
		}
		if id := existingID(err); id != "" {
			r.resume()
			// Created by an earlier run whose idempotency keys have expired: the email dedupe
			// names it, so the run converges on it.
			g, gerr := r.leads.GetLead(cctx, &leadsv1.GetLeadRequest{LeadId: id})
			if gerr != nil {
				return gerr
			}
			got = g.GetLead()
			return nil
		}
		if err == nil {
			got = res.GetLead()
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("create lead: %w", err)
	}
	r.leadID[s.lead], r.ownerID[s.lead], r.status[s.lead] = got.GetId(), got.GetOwnerId(), got.GetStatus()
	r.count(func(x *Summary) { x.Leads++ })
	return nil
}

// statusesBefore are the statuses a lead moves to a status from.
var statusesBefore = map[leadsv1.LeadStatus][]leadsv1.LeadStatus{
	leadsv1.LeadStatus_LEAD_STATUS_MARKETING_QUALIFIED: {leadsv1.LeadStatus_LEAD_STATUS_NEW, leadsv1.LeadStatus_LEAD_STATUS_RECYCLED},
	leadsv1.LeadStatus_LEAD_STATUS_SALES_ACCEPTED:      {leadsv1.LeadStatus_LEAD_STATUS_MARKETING_QUALIFIED},
	leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED:     {leadsv1.LeadStatus_LEAD_STATUS_SALES_ACCEPTED},
}

// advance moves the lead to status to. A lead the leads service qualified on its own (score
// over the MQL threshold, also from campaign engagement it applies in the background) is
// already there, which is fine.
func (r *runner) advance(ctx, cctx context.Context, s step, to leadsv1.LeadStatus, opts *commonv1.WriteOptions) error {
	if r.status[s.lead] == to {
		return nil
	}
	return r.retry(ctx, func() error {
		res, err := r.leads.ChangeLeadStatus(cctx, &leadsv1.ChangeLeadStatusRequest{LeadId: r.leadID[s.lead], Status: to,
			QualificationPath: leadsv1.QualificationPath_QUALIFICATION_PATH_MANUAL, Options: opts})
		if status.Code(err) == codes.FailedPrecondition && reason(err) == "ILLEGAL_STATUS_TRANSITION" {
			// The lead is elsewhere: qualified by its score in the background, or — on a re-run —
			// already where the first run took it. Past the step either way, unless the read
			// model has not caught up yet.
			g, gerr := r.leads.GetLead(cctx, &leadsv1.GetLeadRequest{LeadId: r.leadID[s.lead]})
			if gerr != nil {
				return gerr
			}
			if cur := g.GetLead().GetStatus(); !slices.Contains(statusesBefore[to], cur) {
				r.status[s.lead] = cur
				return nil
			}
			return status.Error(codes.Aborted, err.Error())
		}
		if err == nil {
			r.status[s.lead] = res.GetLead().GetStatus()
		}
		return err
	})
}

func (r *runner) convert(ctx, cctx context.Context, s step) error {
	lp := r.p.leads[s.lead]
	req := &leadsv1.ConvertLeadRequest{LeadId: r.leadID[s.lead], OwnerId: r.ownerID[s.lead],
		Opportunity: &leadsv1.ConversionOpportunity{Amount: usd(lp.amount), PipelineId: defaultPipeline, StageId: openStages[0].id,
			ExpectedCloseDate: r.date(s.at).AddDate(0, 0, lp.closeIn).Format(time.DateOnly)},
		Options: r.writeOpts(r.key("lead", s.lead, "convert"))}
	var res *leadsv1.ConvertLeadResponse
	err := r.retry(ctx, func() error {
		var err error
		res, err = r.leads.ConvertLead(cctx, req)
		return err
	})
	if err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	r.oppID[s.lead], r.status[s.lead] = res.GetOpportunityId(), res.GetLead().GetStatus()
	r.count(func(x *Summary) {
		x.Converted++
		if res.GetAccountCreated() {
			x.Accounts++
		}
		if res.GetContactCreated() {
			x.Contacts++
		}
		if res.GetOpportunityId() != "" {
			x.Opportunities++
		}
	})
	return nil
}

// quote prices the deal: a yearly platform subscription per seat plus onboarding, with the
// discount sales gives late in the quarter, and sends it.
func (r *runner) quote(ctx, cctx context.Context, s step, k func(string) *commonv1.WriteOptions) error {
	lp := r.p.leads[s.lead]
	const seatPrice = 600
	seats := max(1, lp.amount*85/100/seatPrice)
	onboarding := max(1000, lp.amount*15/100/100*100)
	discount := fmt.Sprint(5 * (s.lead % 4)) // 0, 5, 10 or 15 %
	q := &pipelinev1.Quote{Name: lp.lead.GetCompany() + " — annual subscription", Currency: "USD",
		ValidUntil: r.date(s.at).AddDate(0, 0, 60).Format(time.DateOnly),
		LineItems: []*pipelinev1.QuoteLineItem{
			{Sku: "EVC-PLATFORM-Y", Description: "evcrm platform, yearly, per seat", Quantity: &commonv1.Decimal{Value: fmt.Sprint(seats)},
				UnitPrice: usd(seatPrice), Discount: &pipelinev1.QuoteLineItem_DiscountPercent{DiscountPercent: &commonv1.Decimal{Value: discount}}},
			{Sku: "EVC-ONBOARDING", Description: "onboarding and data migration", Quantity: &commonv1.Decimal{Value: "1"}, UnitPrice: usd(onboarding)},
		}}
	var got *pipelinev1.Quote
	err := r.retry(ctx, func() error {
		res, err := r.pipeline.CreateQuote(cctx, &pipelinev1.CreateQuoteRequest{OpportunityId: r.oppID[s.lead], Quote: q, Options: k("quote")})
		if err == nil {
			got = res.GetQuote()
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("create quote: %w", err)
	}
	r.quoteID[s.lead], r.quoteVer[s.lead] = got.GetQuoteId(), got.GetVersion()
	err = r.retry(ctx, func() error {
		_, err := r.pipeline.SendQuote(cctx, &pipelinev1.SendQuoteRequest{OpportunityId: r.oppID[s.lead], QuoteId: got.GetQuoteId(),
			Version: got.GetVersion(), Options: k("quote-send")})
		return err
	})
	if err != nil {
		return fmt.Errorf("send quote: %w", err)
	}
	r.count(func(x *Summary) { x.Quotes++ })
	return nil
}
