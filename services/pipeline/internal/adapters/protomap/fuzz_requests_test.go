package protomap_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/evcrm/evcrm/libs/customfield"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/libs/platform/grpcerr"
	"github.com/evcrm/evcrm/services/pipeline/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/contract"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinecfg"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

// requestCase is one RPC's request validation: the request message and what the server does
// with it before it reads or writes anything (the protomap mapper and, for a command, the
// domain's decision on a fixed state, as the application would run it).
type requestCase struct {
	name string
	msg  func() proto.Message
	// check returns what was accepted (compared across two runs) or the error the client sees.
	check func(t *testing.T, m proto.Message) (any, error)
}

// mapped builds a requestCase from a mapper and an optional decision on its result; invariant,
// when set, checks an accepted result.
func mapped[R proto.Message, T any](name string, newMsg func() R, mapFn func(R) (T, error),
	decide func(R, T) ([]any, error), invariant func(*testing.T, T)) requestCase {
	return requestCase{name: name, msg: func() proto.Message { return newMsg() },
		check: func(t *testing.T, m proto.Message) (any, error) {
			req := m.(R)
			v, err := mapFn(req)
			if err != nil {
				requireCode(t, err, true)
				return nil, err
			}
			if invariant != nil {
				invariant(t, v)
			}
			if decide == nil {
				return v, nil
			}
			evs, err := decide(req, v)
			if err != nil {
				err = protomap.RequestError(req, err)
				requireCode(t, err, false)
				return nil, err
			}
			return []any{v, evs}, nil
		}}
}

// noErr adapts a mapper that cannot fail.
func noErr[R, T any](f func(R) T) func(R) (T, error) {
	return func(r R) (T, error) { return f(r), nil }
}

func events[E any](evs []E, err error) ([]any, error) {
	out := make([]any, len(evs))
	for i, e := range evs {
		out[i] = e
	}
	return out, err
}

// requireCode is the property of a refused request: a mapper refuses with InvalidArgument and
// field violations; a domain decision with a client error (InvalidArgument with field
// violations, FailedPrecondition, NotFound, …), never Internal or Unknown.
func requireCode(t *testing.T, err error, mapper bool) {
	t.Helper()
	st := grpcerr.ToStatus(context.Background(), err)
	switch {
	case st.Code() == codes.InvalidArgument:
		for _, d := range st.Details() {
			if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
				return
			}
		}
		t.Fatalf("InvalidArgument without field violations: %v", err)
	case mapper:
		t.Fatalf("mapper refused with %v (%v), want InvalidArgument", st.Code(), err)
	case st.Code() == codes.Internal || st.Code() == codes.Unknown:
		t.Fatalf("decision refused with %v: %v", st.Code(), err)
	}
}

var fuzzNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// pipelineRequestCases covers the request of every RPC of PipelineService that carries input
// (GetPipelineConfig's request is empty; the reads' ids and read options are bound as they are).
func pipelineRequestCases(tb testing.TB) []requestCase {
	fields := fullConfig().CustomFields
	fields["trial"] = customfield.Definition{Name: "trial", Type: customfield.TypeBool}
	fields["renewal"] = customfield.Definition{Name: "renewal", Type: customfield.TypeDate}
	pol := opportunity.Policy{DefaultCurrency: "EUR", MaxCloseDatePastDays: 30, CustomFields: fields}
	def := pipelinedef.Default()
	evs, err := opportunity.Create(opportunity.Opportunity{}, opportunity.NewOpportunity{ID: "o1",
		Details: opportunity.Details{Name: "Acme", AccountID: "acc1", CustomFields: fullDetails().CustomFields}, OwnerID: "olga",
		Amount: eur("10000"), ExpectedCloseDate: civil.New(2026, time.June, 30)}, def, pol, fuzzNow)
	if err != nil {
		tb.Fatal(err)
	}
	open := opportunity.ApplyAll(opportunity.Opportunity{}, evs...)
	evs, err = opportunity.MarkLost(open, opportunity.Loss{Reason: opportunity.LostCompetitor, Competitor: "Globex", MovedBy: "olga"}, def, fuzzNow)
	if err != nil {
		tb.Fatal(err)
	}
	lost := opportunity.ApplyAll(open, evs...)
	withQuote := open
	if d, err := protomap.QuoteDraftFromProto(&pipelinev1.CreateQuoteRequest{OpportunityId: "o1", Quote: mustQuote(tb)}, "q-1"); err != nil {
		tb.Fatal(err)
	} else if evs, err := opportunity.CreateQuote(open, d, fuzzNow); err != nil {
		tb.Fatal(err)
	} else {
		withQuote = opportunity.ApplyAll(open, evs...)
	}
	// Sent, so that it can be accepted or rejected.
	if evs, err := opportunity.SendQuote(withQuote, opportunity.QuoteRef{QuoteID: "q-1"}, fuzzNow); err != nil {
		tb.Fatal(err)
	} else {
		withQuote = opportunity.ApplyAll(withQuote, evs...)
	}
	renewals := fullPipeline()
	renewals.Archived = false
	pevs, err := pipelinedef.Define(pipelinedef.New(renewals.ID), renewals, fuzzNow)
	if err != nil {
		tb.Fatal(err)
	}
	renewalsState := pipelinedef.ApplyAll(pipelinedef.New(renewals.ID), pevs...)
	nc, err := protomap.NewContractFromProto(&pipelinev1.CreateContractRequest{Contract: mustContract(tb)}, "ctr-1")
	if err != nil {
		tb.Fatal(err)
	}
	cevs, err := contract.Create(contract.Contract{}, nc, opportunity.StatusWon, fuzzNow)
	if err != nil {
		tb.Fatal(err)
	}
	draft := contract.ApplyAll(contract.Contract{}, cevs...)
	cevs, err = contract.Activate(draft, fuzzNow)
	if err != nil {
		tb.Fatal(err)
	}
	active := contract.ApplyAll(draft, cevs...)

	pageSizeOK := func(t *testing.T, n int) {
		if n < 1 || n > protomap.MaxPageSize {
			t.Fatalf("accepted page size %d", n)
		}
	}
	rangeOK := func(t *testing.T, from, to civil.Date) {
		if (!from.IsZero() && !from.Valid()) || (!to.IsZero() && !to.Valid()) || (!from.IsZero() && !to.IsZero() && to.Before(from)) {
			t.Fatalf("accepted date range %v…%v", from, to)
		}
	}
	return []requestCase{
		mapped("CreateOpportunity", func() *pipelinev1.CreateOpportunityRequest { return &pipelinev1.CreateOpportunityRequest{} },
			protomap.NewOpportunityFromProto,
			func(_ *pipelinev1.CreateOpportunityRequest, n opportunity.NewOpportunity) ([]any, error) {
				n.ID = "o2" // the app assigns one when the request has none
				return events(opportunity.Create(opportunity.Opportunity{}, n, def, pol, fuzzNow))
			}, nil),
		mapped("UpdateOpportunity", func() *pipelinev1.UpdateOpportunityRequest { return &pipelinev1.UpdateOpportunityRequest{} },
			protomap.OpportunityUpdateFromProto,
			func(_ *pipelinev1.UpdateOpportunityRequest, u opportunity.Update) ([]any, error) {
				return events(opportunity.UpdateDetails(open, u, pol, fuzzNow))
			}, nil),
		mapped("MoveOpportunityStage", func() *pipelinev1.MoveOpportunityStageRequest { return &pipelinev1.MoveOpportunityStageRequest{} },
			noErr(protomap.StageMoveFromProto),
			func(_ *pipelinev1.MoveOpportunityStageRequest, m opportunity.StageMove) ([]any, error) {
				m.MovedBy = "olga" // the caller, set by the app
				return events(opportunity.MoveStage(open, m, def, fuzzNow))
			}, nil),
		mapped("UpdateOpportunityAmount", func() *pipelinev1.UpdateOpportunityAmountRequest {
			return &pipelinev1.UpdateOpportunityAmountRequest{}
		}, protomap.AmountFromProto,
			func(_ *pipelinev1.UpdateOpportunityAmountRequest, a money.Money) ([]any, error) {
				return events(opportunity.UpdateAmount(open, a, fuzzNow))
			}, nil),
		mapped("UpdateOpportunityCloseDate", func() *pipelinev1.UpdateOpportunityCloseDateRequest {
			return &pipelinev1.UpdateOpportunityCloseDateRequest{}
		}, protomap.CloseDateFromProto,
			func(_ *pipelinev1.UpdateOpportunityCloseDateRequest, d civil.Date) ([]any, error) {
				return events(opportunity.UpdateCloseDate(open, d, pol, fuzzNow))
			}, nil),
		mapped("UpdateOpportunityProbability", func() *pipelinev1.UpdateOpportunityProbabilityRequest {
			return &pipelinev1.UpdateOpportunityProbabilityRequest{}
		}, noErr(protomap.ProbabilityFromProto),
			func(_ *pipelinev1.UpdateOpportunityProbabilityRequest, p *int32) ([]any, error) {
				return events(opportunity.UpdateProbability(open, p, fuzzNow))
			}, nil),
		mapped("UpdateOpportunityForecastCategory", func() *pipelinev1.UpdateOpportunityForecastCategoryRequest {
			return &pipelinev1.UpdateOpportunityForecastCategoryRequest{}
		}, protomap.CategoryOverrideFromProto,
			func(_ *pipelinev1.UpdateOpportunityForecastCategoryRequest, c *pipelinedef.Category) ([]any, error) {
				return events(opportunity.UpdateForecastCategory(open, c, fuzzNow))
			}, nil),
		mapped("AssignOpportunity", func() *pipelinev1.AssignOpportunityRequest { return &pipelinev1.AssignOpportunityRequest{} },
			noErr(protomap.AssignmentFromProto),
			func(_ *pipelinev1.AssignOpportunityRequest, a opportunity.Assignment) ([]any, error) {
				return events(opportunity.Assign(open, a, fuzzNow))
			}, nil),
		mapped("SetOpportunityContactRoles", func() *pipelinev1.SetOpportunityContactRolesRequest {
			return &pipelinev1.SetOpportunityContactRolesRequest{}
		}, protomap.ContactRolesFromProto,
			func(_ *pipelinev1.SetOpportunityContactRolesRequest, rs []opportunity.ContactRole) ([]any, error) {
				return events(opportunity.SetContactRoles(open, rs, fuzzNow))
			}, nil),
		mapped("MarkOpportunityWon", func() *pipelinev1.MarkOpportunityWonRequest { return &pipelinev1.MarkOpportunityWonRequest{} },
			protomap.WinFromProto,
			func(_ *pipelinev1.MarkOpportunityWonRequest, w opportunity.Win) ([]any, error) {
				w.MovedBy = "olga"
				return events(opportunity.MarkWon(open, w, def, fuzzNow))
			}, nil),
		mapped("MarkOpportunityLost", func() *pipelinev1.MarkOpportunityLostRequest { return &pipelinev1.MarkOpportunityLostRequest{} },
			protomap.LossFromProto,
			func(_ *pipelinev1.MarkOpportunityLostRequest, l opportunity.Loss) ([]any, error) {
				l.MovedBy = "olga"
				return events(opportunity.MarkLost(open, l, def, fuzzNow))
			}, nil),
		mapped("ReopenOpportunity", func() *pipelinev1.ReopenOpportunityRequest { return &pipelinev1.ReopenOpportunityRequest{} },
			noErr(protomap.ReopeningFromProto),
			func(_ *pipelinev1.ReopenOpportunityRequest, r opportunity.Reopening) ([]any, error) {
				r.MovedBy = "olga"
				return events(opportunity.Reopen(lost, r, def, fuzzNow))
			}, nil),
		mapped("ListOpportunities", func() *pipelinev1.ListOpportunitiesRequest { return &pipelinev1.ListOpportunitiesRequest{} },
			protomap.OpportunityFilterFromProto, nil,
			func(t *testing.T, f protomap.OpportunityFilter) {
				pageSizeOK(t, f.PageSize)
				rangeOK(t, f.CloseFrom, f.CloseTo)
				if (f.AmountMin != nil || f.AmountMax != nil) && f.AmountMin != nil && f.AmountMax != nil {
					if c, err := f.AmountMin.Cmp(*f.AmountMax); err != nil || c > 0 {
						t.Fatalf("accepted amount range %v…%v", f.AmountMin, f.AmountMax)
					}
				}
			}),
		mapped("GetForecast", func() *pipelinev1.GetForecastRequest { return &pipelinev1.GetForecastRequest{} },
			protomap.ForecastRequestFromProto, nil,
			func(t *testing.T, r protomap.ForecastRequest) { rangeOK(t, r.CloseFrom, r.CloseTo) }),
		mapped("ReviseQuote", func() *pipelinev1.ReviseQuoteRequest { return &pipelinev1.ReviseQuoteRequest{} },
			protomap.QuoteRevisionFromProto,
			func(_ *pipelinev1.ReviseQuoteRequest, d opportunity.QuoteDraft) ([]any, error) {
				return events(opportunity.ReviseQuote(withQuote, d, fuzzNow))
			}, nil),
		mapped("SendQuote", func() *pipelinev1.SendQuoteRequest { return &pipelinev1.SendQuoteRequest{} },
			func(r *pipelinev1.SendQuoteRequest) (opportunity.QuoteRef, error) {
				return protomap.QuoteRefFromProto(r), nil
			},
			func(_ *pipelinev1.SendQuoteRequest, ref opportunity.QuoteRef) ([]any, error) {
				return events(opportunity.SendQuote(withQuote, ref, fuzzNow))
			}, nil),
		mapped("AcceptQuote", func() *pipelinev1.AcceptQuoteRequest { return &pipelinev1.AcceptQuoteRequest{} },
			func(r *pipelinev1.AcceptQuoteRequest) (opportunity.QuoteRef, error) {
				return protomap.QuoteRefFromProto(r), nil
			},
			func(_ *pipelinev1.AcceptQuoteRequest, ref opportunity.QuoteRef) ([]any, error) {
				return events(opportunity.AcceptQuote(withQuote, ref, fuzzNow))
			}, nil),
		mapped("RejectQuote", func() *pipelinev1.RejectQuoteRequest { return &pipelinev1.RejectQuoteRequest{} },
			func(r *pipelinev1.RejectQuoteRequest) (opportunity.QuoteRef, error) {
				return protomap.QuoteRefFromProto(r), nil
			},
			func(r *pipelinev1.RejectQuoteRequest, ref opportunity.QuoteRef) ([]any, error) {
				return events(opportunity.RejectQuote(withQuote, ref, r.GetReason(), fuzzNow))
			}, nil),
		mapped("CreateContract", func() *pipelinev1.CreateContractRequest { return &pipelinev1.CreateContractRequest{} },
			func(r *pipelinev1.CreateContractRequest) (contract.NewContract, error) {
				return protomap.NewContractFromProto(r, r.GetContract().GetId())
			},
			func(_ *pipelinev1.CreateContractRequest, n contract.NewContract) ([]any, error) {
				n.ID = "ctr-2"
				return events(contract.Create(contract.Contract{}, n, opportunity.StatusWon, fuzzNow))
			}, nil),
		mapped("UpdateContract", func() *pipelinev1.UpdateContractRequest { return &pipelinev1.UpdateContractRequest{} },
			protomap.ContractUpdateFromProto,
			func(_ *pipelinev1.UpdateContractRequest, u contract.Update) ([]any, error) {
				return events(contract.UpdateDetails(active, u, fuzzNow))
			}, nil),
		mapped("TerminateContract", func() *pipelinev1.TerminateContractRequest { return &pipelinev1.TerminateContractRequest{} },
			protomap.TerminationFromProto,
			func(_ *pipelinev1.TerminateContractRequest, c contract.Termination) ([]any, error) {
				return events(contract.Terminate(active, c, fuzzNow))
			}, nil),
		mapped("RenewContract", func() *pipelinev1.RenewContractRequest { return &pipelinev1.RenewContractRequest{} },
			protomap.RenewalFromProto,
			func(_ *pipelinev1.RenewContractRequest, c contract.Renewal) ([]any, error) {
				return events(contract.Renew(active, c, fuzzNow))
			}, nil),
		mapped("ListContracts", func() *pipelinev1.ListContractsRequest { return &pipelinev1.ListContractsRequest{} },
			protomap.ContractFilterFromProto, nil,
			func(t *testing.T, f protomap.ContractFilter) {
				pageSizeOK(t, f.PageSize)
				rangeOK(t, f.RenewalFrom, f.RenewalTo)
			}),
		mapped("CreatePipeline", func() *pipelinev1.CreatePipelineRequest { return &pipelinev1.CreatePipelineRequest{} },
			protomap.NewPipelineFromProto,
			func(_ *pipelinev1.CreatePipelineRequest, p pipelinedef.Pipeline) ([]any, error) {
				return events(pipelinedef.Define(pipelinedef.New(p.ID), p, fuzzNow))
			}, nil),
		mapped("UpdatePipeline", func() *pipelinev1.UpdatePipelineRequest { return &pipelinev1.UpdatePipelineRequest{} },
			protomap.PipelineRevisionFromProto,
			func(_ *pipelinev1.UpdatePipelineRequest, p pipelinedef.Pipeline) ([]any, error) {
				st := pipelinedef.New(p.ID)
				if p.ID == renewalsState.ID {
					st = renewalsState
				}
				return events(pipelinedef.Revise(st, p, fuzzNow))
			}, nil),
		mapped("ListPipelines", func() *pipelinev1.ListPipelinesRequest { return &pipelinev1.ListPipelinesRequest{} },
			protomap.PipelineFilterFromProto, nil,
			func(t *testing.T, f protomap.PipelineFilter) { pageSizeOK(t, f.PageSize) }),
		mapped("UpdatePipelineConfig", func() *pipelinev1.UpdatePipelineConfigRequest {
			return &pipelinev1.UpdatePipelineConfigRequest{}
		}, protomap.ConfigUpdateFromProto,
			func(_ *pipelinev1.UpdatePipelineConfigRequest, c pipelinecfg.Config) ([]any, error) {
				return events(pipelinecfg.Update(pipelinecfg.New(), c, fuzzNow))
			}, nil),
		// The options of every command.
		mapped("WriteOptions", func() *commonv1.WriteOptions { return &commonv1.WriteOptions{} },
			protomap.WriteFromProto, nil, nil),
	}
}

// FuzzPipelineRequests feeds arbitrary wire bytes, as the request of the RPC the first
// argument selects, through that RPC's validation: the protomap mapper and, for a command, the
// domain's decision on a fixed opportunity, contract or pipeline. Properties: no panic; a
// refusal is InvalidArgument with field violations (a decision may also answer another client
// error, never Internal); an accepted filter has a page size in range and ordered dates; the
// same bytes give the same answer twice. `go test -fuzz FuzzPipelineRequests
// ./internal/adapters/protomap` in services/pipeline explores.
func FuzzPipelineRequests(f *testing.F) {
	cases := pipelineRequestCases(f)
	for i, m := range pipelineRequestSeeds(f) {
		for _, msg := range m {
			b, err := proto.Marshal(msg)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint8(i), b)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		c := cases[int(which)%len(cases)]
		runRequestCase(t, c, data)
	})
}

func runRequestCase(t *testing.T, c requestCase, data []byte) {
	t.Helper()
	msg := c.msg()
	if proto.Unmarshal(data, msg) != nil {
		return // gRPC refuses it before any handler runs
	}
	// A validator that takes seconds is a denial of service: crash the worker, so the fuzzer
	// keeps the input (it has no per-input timeout of its own).
	watchdog := time.AfterFunc(5*time.Second, func() {
		panic(fmt.Sprintf("%s: no answer after 5 s to %s", c.name, prototextOf(msg)))
	})
	defer watchdog.Stop()
	v1, err1 := c.check(t, msg)
	v2, err2 := c.check(t, msg)
	if fmt.Sprint(err1) != fmt.Sprint(err2) {
		t.Fatalf("%s: answers differ: %v, then %v", c.name, err1, err2)
	}
	j1, e1 := json.Marshal(v1)
	j2, e2 := json.Marshal(v2)
	if string(j1) != string(j2) || fmt.Sprint(e1) != fmt.Sprint(e2) {
		t.Fatalf("%s: accepted differently: %s, then %s", c.name, j1, j2)
	}
}

// pipelineRequestSeeds gives, per case (same order as pipelineRequestCases), valid and
// near-valid requests.
func pipelineRequestSeeds(tb testing.TB) [][]proto.Message {
	opp, err := protomap.OpportunityToProto(fullOpportunity())
	if err != nil {
		tb.Fatal(err)
	}
	opp.Status, opp.StageId, opp.ExpectedCloseDate = pipelinev1.OpportunityStatus_OPPORTUNITY_STATUS_OPEN, "proposal", "2026-06-30"
	amount := &commonv1.Money{CurrencyCode: "EUR", Units: 7000, Nanos: 250_000_000}
	bad := &commonv1.Money{CurrencyCode: "EURO", Units: -1, Nanos: 2_000_000_000}
	mask := func(p ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: p} }
	pl := protomap.PipelineToProto(fullPipeline())
	cfg := protomap.ConfigToProto(pipelinecfg.State{Config: fullConfig()})
	return [][]proto.Message{
		{&pipelinev1.CreateOpportunityRequest{Opportunity: opp}, &pipelinev1.CreateOpportunityRequest{Opportunity: &pipelinev1.Opportunity{
			Name: "' OR 1=1 --", ExpectedCloseDate: "2025-02-30", Amount: bad}}},
		{&pipelinev1.UpdateOpportunityRequest{OpportunityId: "o1", Opportunity: opp, UpdateMask: mask("name", "tags", "custom_fields.seats")},
			&pipelinev1.UpdateOpportunityRequest{Opportunity: opp, UpdateMask: mask("owner_id", "custom_fields.", "x")}},
		{&pipelinev1.MoveOpportunityStageRequest{StageId: "proposal"}, &pipelinev1.MoveOpportunityStageRequest{StageId: "closed_won"}},
		{&pipelinev1.UpdateOpportunityAmountRequest{Amount: amount}, &pipelinev1.UpdateOpportunityAmountRequest{Amount: bad}},
		{&pipelinev1.UpdateOpportunityCloseDateRequest{ExpectedCloseDate: "2026-12-31"},
			&pipelinev1.UpdateOpportunityCloseDateRequest{ExpectedCloseDate: "1999-01-01"}},
		{&pipelinev1.UpdateOpportunityProbabilityRequest{Probability: proto.Uint32(40)},
			&pipelinev1.UpdateOpportunityProbabilityRequest{Probability: proto.Uint32(1 << 31)}},
		{&pipelinev1.UpdateOpportunityForecastCategoryRequest{ForecastCategory: pipelinev1.ForecastCategory_FORECAST_CATEGORY_COMMIT},
			&pipelinev1.UpdateOpportunityForecastCategoryRequest{ForecastCategory: 99}},
		{&pipelinev1.AssignOpportunityRequest{OwnerId: "ivan", Note: "holiday"}, &pipelinev1.AssignOpportunityRequest{}},
		{&pipelinev1.SetOpportunityContactRolesRequest{ContactRoles: protomap.ContactRolesToProto(fullRoles())},
			&pipelinev1.SetOpportunityContactRolesRequest{ContactRoles: []*pipelinev1.OpportunityContactRole{{IsPrimary: true}, {IsPrimary: true, Role: 77}}}},
		{&pipelinev1.MarkOpportunityWonRequest{Amount: amount, CloseDate: "2026-03-01", Note: "fit"},
			&pipelinev1.MarkOpportunityWonRequest{CloseDate: "2026-13-01", Amount: bad}},
		{&pipelinev1.MarkOpportunityLostRequest{Reason: pipelinev1.LostReason_LOST_REASON_COMPETITOR, Competitor: "Globex", CloseDate: "2026-03-01"},
			&pipelinev1.MarkOpportunityLostRequest{Reason: 55, StageId: "proposal"}},
		{&pipelinev1.ReopenOpportunityRequest{StageId: "negotiation"}, &pipelinev1.ReopenOpportunityRequest{StageId: "closed_won"}},
		{&pipelinev1.ListOpportunitiesRequest{OwnerIds: []string{"olga"}, Statuses: []pipelinev1.OpportunityStatus{1},
			CloseDateFrom: "2026-01-01", CloseDateTo: "2026-12-31", MinAmount: amount, MaxAmount: &commonv1.Money{CurrencyCode: "EUR", Units: 9000},
			Tag: " Enterprise ", OrderBy: pipelinev1.OpportunityOrderBy_OPPORTUNITY_ORDER_BY_AMOUNT, PageSize: 50},
			&pipelinev1.ListOpportunitiesRequest{CloseDateFrom: "2026-12-31", CloseDateTo: "2026-01-01", MinAmount: amount,
				MaxAmount: &commonv1.Money{CurrencyCode: "USD", Units: 1}, PageSize: -1, OrderBy: 42, ForecastCategories: []pipelinev1.ForecastCategory{0}}},
		{&pipelinev1.GetForecastRequest{Period: pipelinev1.ForecastPeriod_FORECAST_PERIOD_QUARTER, CloseDateFrom: "2026-01-01",
			AsOf: timestamppb.New(fuzzNow), GroupByOwner: true},
			&pipelinev1.GetForecastRequest{Period: 9, AsOf: &timestamppb.Timestamp{Seconds: 1 << 62}, CloseDateTo: "x"}},
		{&pipelinev1.ReviseQuoteRequest{OpportunityId: "o1", QuoteId: "q-1", Quote: mustQuote(tb)},
			&pipelinev1.ReviseQuoteRequest{QuoteId: "nope", Quote: &pipelinev1.Quote{}}},
		{&pipelinev1.SendQuoteRequest{QuoteId: "q-1", Version: 1}, &pipelinev1.SendQuoteRequest{QuoteId: "q-1", Version: 7}},
		{&pipelinev1.AcceptQuoteRequest{QuoteId: "q-1"}, &pipelinev1.AcceptQuoteRequest{QuoteId: "' OR 1=1 --"}},
		{&pipelinev1.RejectQuoteRequest{QuoteId: "q-1", Reason: "price"}, &pipelinev1.RejectQuoteRequest{}},
		{&pipelinev1.CreateContractRequest{Contract: mustContract(tb)},
			&pipelinev1.CreateContractRequest{Contract: &pipelinev1.Contract{StartDate: "2026-05-01", EndDate: "2026-04-01", Value: bad}}},
		{&pipelinev1.UpdateContractRequest{ContractId: "ctr-1", Contract: mustContract(tb), UpdateMask: mask("terms", "end_date")},
			&pipelinev1.UpdateContractRequest{Contract: mustContract(tb), UpdateMask: mask("status")}},
		{&pipelinev1.TerminateContractRequest{Reason: "merger", EffectiveDate: "2026-03-15"},
			&pipelinev1.TerminateContractRequest{EffectiveDate: "2026-02-29"}},
		{&pipelinev1.RenewContractRequest{EndDate: "2027-03-31", RenewalDate: "2027-03-01", Value: amount},
			&pipelinev1.RenewContractRequest{EndDate: "2020-01-01", Value: bad}},
		{&pipelinev1.ListContractsRequest{Statuses: []pipelinev1.ContractStatus{1}, RenewalDateTo: "2026-12-31", PageSize: 10},
			&pipelinev1.ListContractsRequest{RenewalDateFrom: "2026-12-31", RenewalDateTo: "2026-01-01", PageSize: 1001, OrderBy: 9}},
		{&pipelinev1.CreatePipelineRequest{Pipeline: pl}, &pipelinev1.CreatePipelineRequest{Pipeline: &pipelinev1.Pipeline{Id: "Bad Id",
			Stages: []*pipelinev1.Stage{{Id: "a"}, {Id: "a", DefaultProbability: 101}}}}},
		{&pipelinev1.UpdatePipelineRequest{PipelineId: "renewals", Name: "R", Stages: pl.GetStages()},
			&pipelinev1.UpdatePipelineRequest{PipelineId: "renewals", Stages: pl.GetStages()[:1]}},
		{&pipelinev1.ListPipelinesRequest{IncludeArchived: true, PageSize: 10}, &pipelinev1.ListPipelinesRequest{PageSize: -5, PageToken: "x"}},
		{&pipelinev1.UpdatePipelineConfigRequest{Config: cfg},
			&pipelinev1.UpdatePipelineConfigRequest{Config: &pipelinev1.PipelineConfig{DefaultCurrency: "eur",
				CustomFields: map[string]*pipelinev1.CustomFieldDefinition{"x": {Name: "Bad Name", Type: 99}}}}},
		{&commonv1.WriteOptions{IdempotencyKey: "k-1", ExpectedVersion: proto.Uint64(3)}, &commonv1.WriteOptions{IdempotencyKey: "a b\x00"}},
	}
}

func mustQuote(tb testing.TB) *pipelinev1.Quote {
	q, err := protomap.QuoteToProto("o1", fullQuote())
	if err != nil {
		tb.Fatal(err)
	}
	q.ValidUntil = "2026-04-30"
	return q
}

func mustContract(tb testing.TB) *pipelinev1.Contract {
	k := fullContract()
	k.Status = contract.StatusDraft
	p, err := protomap.ContractToProto(k)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// TestPipelineRequestSeedsCoverEveryCase keeps the seed table in step with the cases, and
// makes sure each case has a valid seed, so the fuzzer starts from requests that get past
// the mapper into the decision.
func TestPipelineRequestSeedsCoverEveryCase(t *testing.T) {
	t.Parallel()
	cases, seeds := pipelineRequestCases(t), pipelineRequestSeeds(t)
	if len(cases) != len(seeds) {
		t.Fatalf("%d cases, %d seed lists", len(cases), len(seeds))
	}
	for i, c := range cases {
		accepted := false
		for _, m := range seeds[i] {
			if got, want := string(m.ProtoReflect().Descriptor().Name()), string(c.msg().ProtoReflect().Descriptor().Name()); got != want {
				t.Fatalf("case %s seeded with a %s", c.name, got)
			}
			b, err := proto.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			runRequestCase(t, c, b)
			if v, err := c.check(t, m); err == nil && v != nil {
				accepted = true
			}
		}
		if !accepted {
			t.Errorf("%s: no seed is accepted; the first should be a valid request", c.name)
		}
	}
}

func prototextOf(m proto.Message) string {
	b, err := prototext.MarshalOptions{}.Marshal(m)
	if err != nil {
		return err.Error()
	}
	if len(b) > 2000 {
		b = append(b[:2000], "…"...)
	}
	return string(b)
}
