package app

import (
	"context"
	"fmt"
	"sync"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/campaignmodel"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/member"
)

// Person is someone to add to a campaign.
type Person struct {
	Type member.Type
	ID   string
	// Known says the caller already has the person's flags (e.g. from a ListLeads page), so no
	// lookup in the leads service is needed; otherwise the leads service is asked.
	Known                     bool
	EmailOptOut, DoNotContact bool
}

// AddOutcome is what happened to one person of AddMembers (numbers of
// crm.campaign.v1.AddMemberOutcome).
type AddOutcome int

// Outcomes of AddMembers.
const (
	AddUnspecified AddOutcome = iota
	AddAdded
	AddAlreadyMember
	// AddSuppressed: do-not-contact, opted out of email, or unsubscribed earlier.
	AddSuppressed
	// AddNotFound: the lead or contact does not exist.
	AddNotFound
)

// Suppression reasons of AddResult.Reason.
const (
	ReasonDoNotContact = "do_not_contact"
	ReasonEmailOptOut  = "email_opt_out"
	ReasonUnsubscribed = "unsubscribed"
)

// AddResult is the outcome for one person, in request order.
type AddResult struct {
	Person   Person
	Outcome  AddOutcome
	MemberID string
	// Reason says why a person was suppressed.
	Reason string
}

// MaxAddMembers bounds one AddMembers call.
const MaxAddMembers = 1000

// addConcurrency is how many people of one call are checked and added at once: each costs a
// leads round trip and an append, so a page of a segment takes a few round trips, not 1000.
const addConcurrency = 32

// AddMembers adds people to a campaign. Adding a member twice changes nothing (ALREADY_MEMBER);
// people who are do-not-contact, opted out of email, or unsubscribed in any campaign are
// SUPPRESSED and not added; people the leads service does not know are NOT_FOUND. A COMPLETED or
// ABORTED campaign takes no members (FailedPrecondition). The Result is that of the last member
// added (the highest stream sequence), for read-your-writes. Bad input is InvalidArgument on
// "campaign_id" and "people[i]…"; nothing is appended then.
//
// Membership is idempotent by construction (the member id is derived from the campaign and the
// person), so w.IdempotencyKey needs no bookkeeping: a retry finds the members it added. The
// key is recorded in the causation id of the members added ("<key>/<member id>").
func (a *App) AddMembers(ctx context.Context, tenant, campaignID string, people []Person, addedBy string, w Write) ([]AddResult, eventstore.Result, error) {
	var v apperr.Violations
	if !campaign.ValidID(campaignID) {
		v.Add("campaign_id", "required: 1 to 64 characters of [A-Za-z0-9_-]")
	}
	switch {
	case len(people) == 0:
		v.Add("people", "name 1 to %d people", MaxAddMembers)
	case len(people) > MaxAddMembers:
		v.Add("people", "at most %d people per call", MaxAddMembers)
	}
	for i, p := range people {
		if !p.Type.Valid() {
			v.Add(fmt.Sprintf("people[%d].type", i), "required: LEAD or CONTACT")
		}
		if !campaign.ValidID(p.ID) {
			v.Add(fmt.Sprintf("people[%d].person_id", i), "required: 1 to 64 characters of [A-Za-z0-9_-]")
		}
	}
	if err := v.Err("invalid members"); err != nil {
		return nil, eventstore.Result{}, err
	}
	c, err := a.loadCampaign(ctx, tenant, campaignID)
	if err != nil {
		return nil, eventstore.Result{}, err
	}
	if c.Status.Closed() {
		return nil, eventstore.Result{}, apperr.Precondition("CAMPAIGN_CLOSED", "campaign is %s and takes no members", c.Status)
	}
	unsub, err := a.unsubscribedAnywhere(ctx, tenant, people)
	if err != nil {
		return nil, eventstore.Result{}, err
	}
	results := make([]AddResult, len(people))
	var (
		mu   sync.Mutex
		last eventstore.Result
		errs = make([]error, len(people))
		wg   sync.WaitGroup
		sem  = make(chan struct{}, addConcurrency)
	)
	for i, p := range people {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			r, res, err := a.addOne(ctx, tenant, c, p, addedBy, w.IdempotencyKey, unsub[campaignmodel.Person{Type: p.Type, ID: p.ID}])
			results[i], errs[i] = r, err
			if err == nil && r.Outcome == AddAdded {
				mu.Lock()
				if res.Position.Sequence > last.Position.Sequence {
					last = res
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			// Members added before the failure stay added; a retry reports them ALREADY_MEMBER.
			return nil, eventstore.Result{}, err
		}
	}
	return results, last, nil
}

// addOne checks and adds one person. The suppression checks come first and the member is
// not read before the append: a new member (the common case, e.g. a segment enrollment) then
// costs one append, and an existing one is found by the append's concurrency check, which makes
// the repository reload it and decide again (no events: ALREADY_MEMBER). So a person who is a
// member and has opted out since is reported SUPPRESSED, not ALREADY_MEMBER.
func (a *App) addOne(ctx context.Context, tenant string, c campaign.Campaign, p Person, addedBy, key string, unsubscribed bool) (AddResult, eventstore.Result, error) {
	id := member.ID(c.ID, p.Type, p.ID)
	r := AddResult{Person: p}
	if !p.Known {
		found, optOut, dnc, err := a.contactability(ctx, tenant, p)
		if err != nil {
			return r, eventstore.Result{}, err
		}
		if !found {
			r.Outcome = AddNotFound
			return r, eventstore.Result{}, nil
		}
		p.EmailOptOut, p.DoNotContact = optOut, dnc
	}
	switch {
	case p.DoNotContact:
		r.Outcome, r.Reason = AddSuppressed, ReasonDoNotContact
		return r, eventstore.Result{}, nil
	case p.EmailOptOut:
		r.Outcome, r.Reason = AddSuppressed, ReasonEmailOptOut
		return r, eventstore.Result{}, nil
	case unsubscribed:
		r.Outcome, r.Reason = AddSuppressed, ReasonUnsubscribed
		return r, eventstore.Result{}, nil
	}
	now := a.now(ctx)
	var existing member.Member
	cmd := eventstore.Command{Name: "AddMember", New: true}
	if key != "" {
		// The caller's key (a rule action's) becomes the event's causation id, so the rule
		// engine can follow the chain of events a rule caused (cycle detection).
		cmd.ID = key + "/" + id
	}
	res, err := a.d.Campaigns.Members.Execute(ctx, a.d.Campaigns.Members.Ref(tenant, id), cmd,
		func(m member.Member) ([]member.Event, error) {
			existing = m
			return member.Add(m, c, p.Type, p.ID, addedBy, now)
		})
	if err != nil {
		return r, eventstore.Result{}, err
	}
	r.MemberID = id
	switch {
	case !existing.Exists():
		r.Outcome = AddAdded
	case existing.Unsubscribed:
		// Unsubscribed in this campaign, before the read model knew.
		r.Outcome, r.Reason = AddSuppressed, ReasonUnsubscribed
	default:
		r.Outcome = AddAlreadyMember
	}
	return r, res, nil
}

func (a *App) contactability(ctx context.Context, tenant string, p Person) (found, optOut, dnc bool, err error) {
	if a.d.Campaigns.People == nil {
		return false, false, false, nil
	}
	return a.d.Campaigns.People.Contactability(withTenant(ctx, tenant), p.Type, p.ID)
}

// unsubscribedAnywhere asks the read model which people unsubscribed in any campaign: an
// unsubscribe is respected everywhere afterwards (campaign.proto, RESPONSE_KIND_UNSUBSCRIBED).
func (a *App) unsubscribedAnywhere(ctx context.Context, tenant string, people []Person) (map[campaignmodel.Person]bool, error) {
	if a.d.Campaigns.Views == nil {
		return nil, nil
	}
	ps := make([]campaignmodel.Person, len(people))
	for i, p := range people {
		ps[i] = campaignmodel.Person{Type: p.Type, ID: p.ID}
	}
	return a.d.Campaigns.Views.Unsubscribed(ctx, tenant, ps)
}

// ListMembers lists a campaign's members by status, a page at a time.
func (a *App) ListMembers(ctx context.Context, tenant string, f MemberFilter, r Read) ([]member.Member, string, error) {
	var v apperr.Violations
	if !campaign.ValidID(f.CampaignID) {
		v.Add("campaign_id", "required")
	}
	if f.PageSize < 0 || f.PageSize > 1000 {
		v.Add("page_size", "1 to 1000")
	}
	if err := v.Err("invalid member query"); err != nil {
		return nil, "", err
	}
	if err := waitRead(ctx, a.d.Campaigns.Views, r); err != nil {
		return nil, "", err
	}
	return a.d.Campaigns.Views.ListMembers(ctx, tenant, f)
}

// MemberHistory returns a lead's or contact's memberships and every membership and response
// across campaigns, oldest first (the input of first- and last-touch attribution).
func (a *App) MemberHistory(ctx context.Context, tenant string, t member.Type, personID string, r Read) ([]member.Member, []Touch, error) {
	var v apperr.Violations
	if !t.Valid() {
		v.Add("person.type", "required: LEAD or CONTACT")
	}
	if !campaign.ValidID(personID) {
		v.Add("person.person_id", "required")
	}
	if err := v.Err("invalid member history query"); err != nil {
		return nil, nil, err
	}
	if err := waitRead(ctx, a.d.Campaigns.Views, r); err != nil {
		return nil, nil, err
	}
	return a.d.Campaigns.Views.History(ctx, tenant, t, personID)
}
