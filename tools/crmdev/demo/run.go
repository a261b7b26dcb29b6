package demo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
)

// Metadata the generator sends (bearer token or development auth, docs/security.md; backfill,
// docs/events.md).
const (
	mdTenant   = "x-tenant-id"
	mdUser     = "x-user-id"
	mdRoles    = "x-roles"
	mdAuth     = "authorization"
	mdBackfill = "x-evcrm-backfill-time"
)

// runner executes a plan against the services.
type runner struct {
	cfg      Config
	p        *plan
	backfill bool
	pace     *time.Ticker // one tick per call in Load; nil in Seed

	leads    leadsv1.LeadsServiceClient
	pipeline pipelinev1.PipelineServiceClient
	campaign campaignv1.CampaignServiceClient

	// Ids the services gave out, by plan index. A lead's entries are written only by the steps
	// of its key and read by later phases, which start after that phase ended.
	leadID, ownerID, oppID, quoteID []string
	quoteVer                        []uint32
	status                          []leadsv1.LeadStatus
	campaignID                      []string

	resumed atomic.Bool

	mu      sync.Mutex
	members map[[2]int]bool // (campaign, lead) the campaign service accepted
	sum     Summary
}

func newRunner(cfg Config, p *plan, backfill bool, rate float64) *runner {
	n := len(p.leads)
	r := &runner{cfg: cfg, p: p, backfill: backfill,
		leads:    leadsv1.NewLeadsServiceClient(cfg.LeadsConn),
		pipeline: pipelinev1.NewPipelineServiceClient(cfg.PipelineConn),
		campaign: campaignv1.NewCampaignServiceClient(cfg.CampaignConn),
		leadID:   make([]string, n), ownerID: make([]string, n), oppID: make([]string, n), quoteID: make([]string, n),
		quoteVer: make([]uint32, n), status: make([]leadsv1.LeadStatus, n), campaignID: make([]string, len(p.campaigns)),
		members: map[[2]int]bool{},
	}
	if rate > 0 {
		r.pace = time.NewTicker(time.Duration(float64(time.Second) / rate))
	}
	return r
}

// run executes the plan window by window (a few days, see windowDays), phase by phase. Inside a phase the steps are grouped by key
// (one lead and its deal, one campaign's members or responses of the day); groups run
// concurrently on cfg.Workers goroutines, each group's steps in time order.
func (r *runner) run(ctx context.Context) (Summary, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if r.pace != nil {
		defer r.pace.Stop()
	}
	steps := r.p.steps
	lastDay := -1
	for len(steps) > 0 {
		w, day, phase := r.p.window(steps[0].at), r.p.day(steps[0].at), steps[0].phase
		n := 1
		for n < len(steps) && r.p.window(steps[n].at) == w && steps[n].phase == phase {
			n++
		}
		if err := r.runPhase(ctx, phase, steps[:n]); err != nil {
			return r.summary(), err
		}
		steps = steps[n:]
		if day/30 != lastDay/30 {
			lastDay = day
			fmt.Fprintf(r.cfg.Log, "demo: %s: %d leads so far\n", r.p.cfg.Start.AddDate(0, 0, day).Format(time.DateOnly), r.summary().Leads)
		}
	}
	return r.summary(), nil
}

func (r *runner) summary() Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sum
}

func (r *runner) count(f func(*Summary)) {
	r.mu.Lock()
	f(&r.sum)
	r.mu.Unlock()
}

func (r *runner) runPhase(ctx context.Context, phase int, steps []step) error {
	var groups [][]step
	at := map[string]int{}
	for _, s := range steps {
		i, ok := at[s.key]
		if !ok {
			i = len(groups)
			at[s.key] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], s)
	}
	work := func(g []step) error {
		switch phase {
		case phaseMembers:
			return r.addMembers(ctx, g)
		case phaseResponses:
			return r.recordResponses(ctx, g)
		}
		for _, s := range g {
			if err := r.do(ctx, s); err != nil {
				return fmt.Errorf("demo: %s, step %d at %s: %w%s", s.key, s.kind, s.at.Format(time.RFC3339), err, violations(err))
			}
		}
		return nil
	}
	sem := make(chan struct{}, r.cfg.Workers)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for _, g := range groups {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := work(g); err != nil {
				once.Do(func() { first = err })
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// call returns the context of one call made by user at the simulated time at, after waiting
// for its turn in Load.
func (r *runner) call(ctx context.Context, user string, at time.Time) (context.Context, error) {
	if r.pace != nil {
		select {
		case <-r.pace.C:
		case <-ctx.Done():
			return ctx, ctx.Err()
		}
	}
	kv := []string{mdTenant, r.cfg.Tenant, mdUser, user, mdRoles, "admin"}
	if r.cfg.Token != nil {
		tok, err := r.cfg.Token(user)
		if err != nil {
			return ctx, err
		}
		kv = append(kv, mdAuth, "Bearer "+tok)
	}
	if r.backfill {
		kv = append(kv, mdBackfill, at.UTC().Format(time.RFC3339Nano))
	}
	return metadata.AppendToOutgoingContext(ctx, kv...), nil
}

// date is the calendar date of a simulated time: itself when backfilling, today in Load.
func (r *runner) date(at time.Time) time.Time {
	if r.backfill {
		return at.UTC()
	}
	return time.Now().UTC()
}

func (r *runner) key(parts ...any) string {
	k := r.p.opts.keyPrefix
	for _, p := range parts {
		k += fmt.Sprintf("/%v", p)
	}
	return k
}

// retry runs f until it succeeds or fails with a code a retry cannot fix. Aborted covers
// concurrency conflicts with the services' own reactions (campaign responses score leads) and
// keys still held by an earlier attempt; Unavailable and NotFound cover read models that have
// not caught up with a record created a moment ago.
func retry(ctx context.Context, f func() error) error {
	var err error
	for attempt := range 12 {
		if err = f(); err == nil {
			return nil
		}
		switch status.Code(err) {
		case codes.Aborted, codes.Unavailable, codes.ResourceExhausted:
		default:
			return err
		}
		select {
		case <-time.After(time.Duration(25<<min(attempt, 5)) * time.Millisecond):
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		}
	}
	return err
}

// retry is retry, except that a run resuming an earlier one (see resume) takes
// FailedPrecondition for done: the record moved past the step in the earlier run (a campaign
// completed, a deal closed), and some checks of state come before the idempotency-key replay.
func (r *runner) retry(ctx context.Context, f func() error) error {
	err := retry(ctx, f)
	if err != nil && r.resumed.Load() && status.Code(err) == codes.FailedPrecondition {
		return nil
	}
	return err
}

// resume notes that the tenant holds what an earlier run with the same seed wrote (a replayed
// idempotency key, a lead found by its email), so this run converges on it.
func (r *runner) resume() {
	if !r.resumed.Swap(true) {
		fmt.Fprintln(r.cfg.Log, "demo: the tenant has this seed's data already; converging on it")
	}
}

// existingID returns the id of the record an AlreadyExists error names.
func existingID(err error) string {
	if status.Code(err) != codes.AlreadyExists {
		return ""
	}
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			if id := info.GetMetadata()["existing_id"]; id != "" {
				return id
			}
		}
	}
	return ""
}

// violations lists the field violations of err, for error messages.
func violations(err error) string {
	var out string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				out += fmt.Sprintf("; %s: %s", v.GetField(), v.GetDescription())
			}
		}
	}
	return out
}

// reason is the ErrorInfo reason of err, or "".
func reason(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

func (r *runner) addMembers(ctx context.Context, g []step) error {
	ci := g[0].camp
	if r.campaignID[ci] == "" {
		return nil // the campaign lies beyond the period
	}
	var people []*campaignv1.MemberRef
	var idx []int
	for _, s := range g {
		if r.leadID[s.lead] != "" {
			people = append(people, &campaignv1.MemberRef{Type: campaignv1.MemberType_MEMBER_TYPE_LEAD, PersonId: r.leadID[s.lead]})
			idx = append(idx, s.lead)
		}
	}
	for start := 0; start < len(people); start += 1000 {
		end := min(start+1000, len(people))
		batch, bidx := people[start:end], idx[start:end]
		// A lead created a moment ago may not be in the leads read model yet (NOT_FOUND): ask again
		// for those until they show up.
		for attempt := 0; len(batch) > 0; attempt++ {
			cctx, err := r.call(ctx, r.p.campaigns[ci].c.GetOwnerId(), g[0].at)
			if err != nil {
				return err
			}
			var res *campaignv1.AddMembersResponse
			err = r.retry(ctx, func() error {
				var err error
				res, err = r.campaign.AddMembers(cctx, &campaignv1.AddMembersRequest{CampaignId: r.campaignID[ci], People: batch,
					Options: r.writeOpts(r.key("members", ci, r.p.day(g[0].at), start, attempt))})
				return err
			})
			if err != nil {
				return fmt.Errorf("demo: add members to campaign %d: %w", ci, err)
			}
			if res == nil {
				// A re-run after the campaign closed: the first run added them while it ran.
				res = &campaignv1.AddMembersResponse{}
				for range batch {
					res.Results = append(res.Results, &campaignv1.AddMemberResult{Outcome: campaignv1.AddMemberOutcome_ADD_MEMBER_OUTCOME_ALREADY_MEMBER})
				}
			}
			var again []*campaignv1.MemberRef
			var againIdx []int
			for j, res := range res.GetResults() {
				switch res.GetOutcome() {
				case campaignv1.AddMemberOutcome_ADD_MEMBER_OUTCOME_ADDED, campaignv1.AddMemberOutcome_ADD_MEMBER_OUTCOME_ALREADY_MEMBER:
					r.mu.Lock()
					r.members[[2]int{ci, bidx[j]}] = true
					r.sum.Members++
					r.mu.Unlock()
				case campaignv1.AddMemberOutcome_ADD_MEMBER_OUTCOME_SUPPRESSED:
					if !r.resumed.Load() {
						fmt.Fprintf(r.cfg.Log, "demo: campaign %d: lead %s suppressed (%s)\n", ci, batch[j].GetPersonId(), res.GetReason())
						continue
					}
					// A re-run: suppression is checked before membership, and the person
					// unsubscribed after the first run added them.
					r.mu.Lock()
					r.members[[2]int{ci, bidx[j]}] = true
					r.sum.Members++
					r.mu.Unlock()
				case campaignv1.AddMemberOutcome_ADD_MEMBER_OUTCOME_NOT_FOUND:
					again, againIdx = append(again, batch[j]), append(againIdx, bidx[j])
				default:
					fmt.Fprintf(r.cfg.Log, "demo: campaign %d: lead %s %s (%s)\n", ci, batch[j].GetPersonId(), res.GetOutcome(), res.GetReason())
				}
			}
			if len(again) > 0 && attempt >= 50 {
				return fmt.Errorf("demo: campaign %d: %d leads still unknown to the leads read model", ci, len(again))
			}
			if len(again) > 0 {
				select {
				case <-time.After(100 * time.Millisecond):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			batch, bidx = again, againIdx
		}
	}
	return nil
}

func (r *runner) recordResponses(ctx context.Context, g []step) error {
	ci := g[0].camp
	var rs []*campaignv1.Response
	r.mu.Lock()
	for _, s := range g {
		if r.campaignID[ci] == "" || !r.members[[2]int{ci, s.lead}] {
			continue
		}
		at := s.at
		if !r.backfill {
			at = time.Now()
		}
		rs = append(rs, &campaignv1.Response{CampaignId: r.campaignID[ci], MemberType: campaignv1.MemberType_MEMBER_TYPE_LEAD,
			PersonId: r.leadID[s.lead], Status: respStatus[s.n], OccurredAt: timestamp(at)})
	}
	r.mu.Unlock()
	if len(rs) == 0 {
		return nil
	}
	last := g[len(g)-1].at
	cctx, err := r.call(ctx, r.p.campaigns[ci].c.GetOwnerId(), last)
	if err != nil {
		return err
	}
	var res *campaignv1.RecordResponsesResponse
	err = r.retry(ctx, func() error {
		stream, err := r.campaign.RecordResponses(cctx)
		if err != nil {
			return err
		}
		if err := stream.Send(&campaignv1.RecordResponsesRequest{Responses: rs, BatchId: r.key("responses", ci, r.p.day(last))}); err != nil {
			_, rerr := stream.CloseAndRecv()
			return errors.Join(err, rerr)
		}
		res, err = stream.CloseAndRecv()
		return err
	})
	if err != nil {
		return fmt.Errorf("demo: record responses of campaign %d: %w", ci, err)
	}
	if res.GetRejected() > 0 {
		for _, e := range res.GetErrors() {
			fmt.Fprintf(r.cfg.Log, "demo: campaign %d: response %d rejected: %s %s\n", ci, e.GetIndex(), e.GetField(), e.GetDescription())
		}
		return fmt.Errorf("demo: campaign %d: %d responses rejected", ci, res.GetRejected())
	}
	r.count(func(s *Summary) { s.Responses += int(res.GetAccepted() + res.GetDuplicates()) })
	return nil
}
