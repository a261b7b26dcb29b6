package app

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/member"
)

// Response is one response to record (crm.campaign.v1.Response).
type Response struct {
	CampaignID string
	Type       member.Type
	PersonID   string
	Status     string
	// OccurredAt is when it happened; now when zero.
	OccurredAt time.Time
	Metadata   map[string]string
}

// MemberResult is the outcome of RecordResponse.
type MemberResult struct {
	Member member.Member
	Result eventstore.Result
	// Duplicate: the response's idempotency key was recorded before; nothing was appended.
	Duplicate bool
}

// KeyPrefix marks a causation id that carries a response's idempotency key: the member codec
// restores Responded.Key from it when the log is folded.
const KeyPrefix = "resp:"

// RecordResponse records one response of a member. The idempotency key of w is kept in the
// member's own state (not in the idempotency bucket), so a retry is recognised for as long as
// the member exists. A response for a non-member or with an unknown status is InvalidArgument
// (field paths under "response"); a send after the member unsubscribed is FailedPrecondition.
func (a *App) RecordResponse(ctx context.Context, tenant string, r Response, w Write) (MemberResult, error) {
	if err := validateResponse(r); err != nil {
		return MemberResult{}, err
	}
	c, err := a.responseCampaign(ctx, tenant, r.CampaignID)
	if err != nil {
		return MemberResult{}, err
	}
	return a.respond(ctx, tenant, c, r, w.IdempotencyKey, w.ExpectedVersion, true)
}

func validateResponse(r Response) error {
	var v apperr.Violations
	if !campaign.ValidID(r.CampaignID) {
		v.Add("response.campaign_id", "required: 1 to 64 characters of [A-Za-z0-9_-]")
	}
	if !r.Type.Valid() {
		v.Add("response.member_type", "required: LEAD or CONTACT")
	}
	if !campaign.ValidID(r.PersonID) {
		v.Add("response.person_id", "required: 1 to 64 characters of [A-Za-z0-9_-]")
	}
	if r.Status == "" {
		v.Add("response.status", "required")
	}
	return v.Err("invalid response")
}

// responseCampaign loads the campaign a response is for; an unknown campaign is a field
// violation of the response, like an unknown status.
func (a *App) responseCampaign(ctx context.Context, tenant, id string) (campaign.Campaign, error) {
	c, err := a.cachedCampaign(ctx, tenant, id)
	if apperr.KindOf(err) == apperr.NotFound {
		return c, apperr.InvalidFields("invalid response", apperr.FieldViolation{Field: "response.campaign_id", Description: "no campaign " + id})
	}
	return c, err
}

// respond records one response; withPosition says whether a duplicate's answer needs the
// member's current position (a bulk call only counts duplicates, so it skips that read).
func (a *App) respond(ctx context.Context, tenant string, c campaign.Campaign, r Response, key string, expected *uint64, withPosition bool) (MemberResult, error) {
	id := member.ID(c.ID, r.Type, r.PersonID)
	ref := a.d.Campaigns.Members.Ref(tenant, id)
	cmd := eventstore.Command{Name: "RecordResponse", ExpectedVersion: expected}
	if key != "" {
		cmd.ID = KeyPrefix + key
	}
	now := a.now(ctx)
	var seen member.Member
	m, res, err := a.d.Campaigns.Members.Run(ctx, ref, cmd, func(m member.Member) ([]member.Event, error) {
		seen = m
		return member.Respond(m, c, member.Response{Status: r.Status, OccurredAt: r.OccurredAt, Metadata: r.Metadata, Key: key}, now)
	})
	if errors.Is(err, member.ErrDuplicate) {
		if !withPosition {
			return MemberResult{Member: seen, Result: eventstore.Result{Ref: ref, Replayed: true}, Duplicate: true}, nil
		}
		agg, err := a.d.Campaigns.Members.Load(ctx, ref)
		if err != nil {
			return MemberResult{}, err
		}
		return MemberResult{Member: agg.State, Result: eventstore.Result{Ref: ref, Position: agg.Position, Replayed: true}, Duplicate: true}, nil
	}
	if err != nil {
		return MemberResult{}, err
	}
	return MemberResult{Member: m, Result: res}, nil
}

// Batch is one batch of the RecordResponses stream.
type Batch struct {
	// ID identifies the batch for retries: response i's idempotency key is "<ID>:<i>". Empty:
	// no idempotency.
	ID        string
	Responses []Response
}

// ResponseError is a rejected response of a batch.
type ResponseError struct {
	Index       int
	Field       string
	Description string
}

// BatchResult sums up a batch.
type BatchResult struct {
	Accepted, Duplicates, Rejected int64
	// Errors of rejected responses, in index order, at most MaxBatchErrors.
	Errors []ResponseError
	// Last is the result with the highest stream sequence among the accepted responses.
	Last eventstore.Result
}

// Limits of RecordResponses.
const (
	MaxBatchResponses = 10_000
	MaxBatchErrors    = 1000
)

// batchConcurrency is how many members of a batch are worked on at once. Appends are per
// member aggregate and each waits for one JetStream round trip, so throughput comes from having
// many in flight; the members' states come from the repository cache.
var batchConcurrency = max(256, 128*runtime.GOMAXPROCS(0))

// RecordResponses records one batch of responses, each accepted, counted as a duplicate (its
// key "<batch id>:<index>" was recorded before) or rejected on its own. Responses of one member
// are recorded in batch order; different members concurrently. Only a failure of the event
// store (not a bad response) fails the whole batch; what was recorded before stays recorded
// and a resend counts it as duplicates.
func (a *App) RecordResponses(ctx context.Context, tenant string, b Batch) (BatchResult, error) {
	var out BatchResult
	if len(b.Responses) > MaxBatchResponses {
		return out, apperr.InvalidFields("invalid batch", apperr.FieldViolation{Field: "responses", Description: "at most 10000 responses per batch"})
	}
	if b.ID != "" && (len(b.ID) > 128) {
		return out, apperr.InvalidFields("invalid batch", apperr.FieldViolation{Field: "batch_id", Description: "at most 128 characters"})
	}
	errs := make([]*apperr.FieldViolation, len(b.Responses))
	reject := func(i int, err error) error {
		e, ok := apperr.As(err)
		switch {
		case ok && e.Kind == apperr.Invalid && len(e.Fields) > 0:
			errs[i] = &e.Fields[0]
		case ok && e.Kind == apperr.FailedPrecondition:
			errs[i] = &apperr.FieldViolation{Field: "response.status", Description: e.Message}
		default:
			return err
		}
		return nil
	}
	// Group by member, keeping batch order inside a group.
	campaigns := map[string]campaign.Campaign{}
	groups := map[string][]int{}
	var order []string
	for i, r := range b.Responses {
		if err := validateResponse(r); err != nil {
			_ = reject(i, err)
			continue
		}
		c, ok := campaigns[r.CampaignID]
		if !ok {
			var err error
			if c, err = a.responseCampaign(ctx, tenant, r.CampaignID); err != nil {
				if err := reject(i, err); err != nil {
					return out, err
				}
				continue
			}
			campaigns[r.CampaignID] = c
		}
		id := member.ID(r.CampaignID, r.Type, r.PersonID)
		if _, ok := groups[id]; !ok {
			order = append(order, id)
		}
		groups[id] = append(groups[id], i)
	}
	var (
		mu       sync.Mutex
		fatal    error
		accepted int64
		dups     int64
		last     eventstore.Result
	)
	work := make(chan string)
	var wg sync.WaitGroup
	for range min(batchConcurrency, len(order)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var acc, dup int64
			var hi eventstore.Result
			for id := range work {
			member:
				for _, i := range groups[id] {
					r := b.Responses[i]
					key := ""
					if b.ID != "" {
						key = b.ID + ":" + strconv.Itoa(i)
					}
					res, err := a.respond(ctx, tenant, campaigns[r.CampaignID], r, key, nil, false)
					switch {
					case err != nil:
						if err := reject(i, err); err != nil {
							mu.Lock()
							fatal = errors.Join(fatal, err)
							mu.Unlock()
							// The member's later responses wait for the resend: recorded now,
							// they would precede this one (a send ahead of an unsubscribe).
							break member
						}
					case res.Duplicate:
						dup++
					default:
						acc++
						if res.Result.Position.Sequence > hi.Position.Sequence {
							hi = res.Result
						}
					}
				}
			}
			mu.Lock()
			accepted += acc
			dups += dup
			if hi.Position.Sequence > last.Position.Sequence {
				last = hi
			}
			mu.Unlock()
		}()
	}
	for _, id := range order {
		work <- id
	}
	close(work)
	wg.Wait()
	out.Accepted, out.Duplicates, out.Last = accepted, dups, last
	for i, e := range errs {
		if e == nil {
			continue
		}
		out.Rejected++
		if len(out.Errors) < MaxBatchErrors {
			out.Errors = append(out.Errors, ResponseError{Index: i, Field: e.Field, Description: e.Description})
		}
	}
	if fatal != nil {
		return out, fatal
	}
	return out, nil
}
