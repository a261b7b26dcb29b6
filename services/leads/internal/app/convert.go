package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/platform/authz"
	"github.com/evcrm/evcrm/libs/reqctx"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/territory"
)

// Steps of a conversion, as Deps.AfterConversionStep names them.
const (
	StepAccount     = "account"
	StepContact     = "contact"
	StepOpportunity = "opportunity"
)

// ReasonConversionIncomplete is the ErrorInfo reason of a conversion that stopped after
// creating some of its records: the same request again completes it.
const ReasonConversionIncomplete = "CONVERSION_INCOMPLETE"

// MaxOpportunityNameLen is the pipeline service's limit, checked before anything is created.
const MaxOpportunityNameLen = 200

// ConvertLead is the ConvertLead command.
type ConvertLead struct {
	LeadID string
	// AccountID links an existing account; "" creates one from the lead.
	AccountID string
	// ContactID links an existing contact; "" creates one from the lead.
	ContactID string
	// Opportunity to open; nil opens none.
	Opportunity *ConversionOpportunity
	// AllowDuplicateAccount and AllowDuplicateContact skip the dedupe check of created records.
	AllowDuplicateAccount bool
	AllowDuplicateContact bool
	// OwnerID owns the created records; "" means the lead's owner.
	OwnerID string
}

// ConversionOpportunity is the opportunity a conversion opens; empty fields take the defaults
// of opportunityFromLead.
type ConversionOpportunity struct {
	Name   string
	Amount lead.Money
	// ExpectedCloseDate is YYYY-MM-DD.
	ExpectedCloseDate string
	PipelineID        string
	StageID           string
}

// ConvertResult is what a conversion produced.
type ConvertResult struct {
	Lead           lead.Lead
	Result         eventstore.Result
	AccountID      string
	ContactID      string
	OpportunityID  string
	AccountCreated bool
	ContactCreated bool
}

// IncompleteConversion is the error of a conversion that stopped after it had created or
// linked some of its records; the lead is not converted. Err is the cause, classified (the
// pipeline's outage is Unavailable); the ids name what exists so far, and the gRPC port puts
// them in the ErrorInfo metadata. Retrying the same ConvertLead reuses them.
type IncompleteConversion struct {
	Err       *apperr.Error
	LeadID    string
	AccountID string
	ContactID string
	// OpportunityID is set when the opportunity was opened and the lead's own step failed.
	OpportunityID string
}

func (e *IncompleteConversion) Error() string { return e.Err.Error() }

// Unwrap returns the classified cause, so apperr.KindOf and the error interceptor see it.
func (e *IncompleteConversion) Unwrap() error { return e.Err }

// Metadata returns the ids for the ErrorInfo metadata.
func (e *IncompleteConversion) Metadata() map[string]string {
	m := map[string]string{"lead_id": e.LeadID}
	if e.AccountID != "" {
		m["account_id"] = e.AccountID
	}
	if e.ContactID != "" {
		m["contact_id"] = e.ContactID
	}
	if e.OpportunityID != "" {
		m["opportunity_id"] = e.OpportunityID
	}
	return m
}

// ConvertLead turns a SALES_QUALIFIED lead (SALES_ACCEPTED too when the tenant allows it) into
// an account, a contact and optionally an opportunity in the pipeline service, then records
// the conversion on the lead. It is a saga without compensation: every step is idempotent on
// ids derived from the conversion (DeriveConversionIDs), so a retry of the same request after
// any failure finishes it without duplicates, and the lead turns CONVERTED only in the last
// step, once everything it names exists. See docs/conversion.md.
func (a *App) ConvertLead(ctx context.Context, tenant string, cmd ConvertLead, w Write) (ConvertResult, error) {
	if err := validateConvert(cmd, w); err != nil {
		return ConvertResult{}, err
	}
	cfg, err := a.Config(ctx, tenant)
	if err != nil {
		return ConvertResult{}, err
	}
	settings := cfg.Policy().Settings
	agg, err := a.d.Leads.Load(ctx, a.d.Leads.Ref(tenant, cmd.LeadID))
	if err != nil {
		return ConvertResult{}, err
	}
	l := agg.State
	if !inScope(authz.ScopeOf(ctx), l) {
		return ConvertResult{}, leadNotFound(cmd.LeadID)
	}
	ids := DeriveConversionIDs(tenant, l.ID)
	want := plannedConversion(cmd, ids)
	if l.Status == lead.StatusConverted {
		if !want.SameRecords(l.Converted) {
			return ConvertResult{}, lead.CanConvert(l, settings)
		}
		return replayedConversion(agg), nil
	}
	if w.ExpectedVersion != nil && *w.ExpectedVersion != l.Version {
		return ConvertResult{}, &apperr.Error{Kind: apperr.Conflict, Reason: "VERSION_MISMATCH",
			Message: fmt.Sprintf("the lead is at version %d, not the expected %d", l.Version, *w.ExpectedVersion)}
	}
	if err := lead.CanConvert(l, settings); err != nil {
		return ConvertResult{}, err
	}
	// An existing account or contact to link must exist and be in the caller's row-level
	// scope (a rep may not fill, and learn, a record it cannot see): otherwise NotFound, the
	// same answer for both, before any step runs, so nothing is created or filled.
	if cmd.AccountID != "" {
		if _, err := a.loadVisibleAccount(ctx, tenant, cmd.AccountID); err != nil {
			return ConvertResult{}, err
		}
	}
	if cmd.ContactID != "" {
		if _, err := a.loadVisibleContact(ctx, tenant, cmd.ContactID); err != nil {
			return ConvertResult{}, err
		}
	}

	s := saga{a: a, tenant: tenant, cmd: cmd, ids: ids, l: l, now: a.now(ctx), conv: want}
	s.conv.ConvertedBy = reqctx.ActorFrom(ctx).ID
	s.owner = cmd.OwnerID
	if s.owner == "" {
		s.owner = l.OwnerID
	}
	for _, step := range []struct {
		name string
		run  func(context.Context) error
	}{{StepAccount, s.account}, {StepContact, s.contact}, {StepOpportunity, s.opportunity}} {
		if step.name == StepOpportunity && cmd.Opportunity == nil {
			continue
		}
		if err := step.run(ctx); err != nil {
			return ConvertResult{}, s.incomplete(step.name, err)
		}
		if a.d.AfterConversionStep != nil {
			if err := a.d.AfterConversionStep(step.name); err != nil {
				return ConvertResult{}, err
			}
		}
	}
	return s.finish(ctx, settings)
}

// plannedConversion names the records cmd converts the lead into.
func plannedConversion(cmd ConvertLead, ids ConversionIDs) lead.Conversion {
	c := lead.Conversion{AccountID: cmd.AccountID, ContactID: cmd.ContactID}
	if c.AccountID == "" {
		c.AccountID, c.AccountCreated = ids.Account, true
	}
	if c.ContactID == "" {
		c.ContactID, c.ContactCreated = ids.Contact, true
	}
	if cmd.Opportunity != nil {
		c.OpportunityID = ids.Opportunity
	}
	return c
}

// replayedConversion answers a repeat of a finished conversion with what the lead became.
func replayedConversion(agg eventstore.Aggregate[lead.Lead]) ConvertResult {
	l := agg.State
	return ConvertResult{Lead: l, Result: eventstore.Result{Ref: agg.Ref, Position: agg.Position, Replayed: true},
		AccountID: l.Converted.AccountID, ContactID: l.Converted.ContactID, OpportunityID: l.Converted.OpportunityID,
		AccountCreated: l.Conversion.AccountCreated, ContactCreated: l.Conversion.ContactCreated}
}

// validateConvert rejects bad input before any step runs, so a rejected conversion creates
// nothing.
func validateConvert(cmd ConvertLead, w Write) error {
	var v apperr.Violations
	if !lead.ValidID(cmd.LeadID) {
		v.Add("lead_id", "must match [A-Za-z0-9_-]{1,64}")
	}
	if cmd.AccountID != "" && !account.ValidID(cmd.AccountID) {
		v.Add("account_id", "must match [A-Za-z0-9_-]{1,64}")
	}
	if cmd.ContactID != "" && !contact.ValidID(cmd.ContactID) {
		v.Add("contact_id", "must match [A-Za-z0-9_-]{1,64}")
	}
	if cmd.OwnerID != "" && !territory.ValidUserID(cmd.OwnerID) {
		v.Add("owner_id", "must be a user id (1 to 128 printable characters, no spaces)")
	}
	if w.IdempotencyKey != "" {
		if err := eventstore.ValidateIdempotencyKey(w.IdempotencyKey); err != nil {
			v.Add("options.idempotency_key", "must be 1 to 255 printable ASCII characters without spaces")
		}
	}
	if o := cmd.Opportunity; o != nil {
		if n := utf8.RuneCountInString(strings.TrimSpace(o.Name)); n > MaxOpportunityNameLen {
			v.Add("opportunity.name", "must be at most %d characters", MaxOpportunityNameLen)
		}
		if o.Amount.Negative() {
			v.Add("opportunity.amount", "must not be negative")
		}
		if o.ExpectedCloseDate != "" {
			if _, err := time.Parse(time.DateOnly, o.ExpectedCloseDate); err != nil {
				v.Add("opportunity.expected_close_date", "must be a date YYYY-MM-DD")
			}
		}
		if o.PipelineID != "" && !lead.ValidID(o.PipelineID) {
			v.Add("opportunity.pipeline_id", "must match [A-Za-z0-9_-]{1,64}")
		}
		if o.StageID != "" && !lead.ValidID(o.StageID) {
			v.Add("opportunity.stage_id", "must match [A-Za-z0-9_-]{1,64}")
		}
	}
	return v.Err("invalid conversion")
}

// saga is one execution of ConvertLead.
type saga struct {
	a      *App
	tenant string
	cmd    ConvertLead
	ids    ConversionIDs
	l      lead.Lead
	owner  string
	now    time.Time
	conv   lead.Conversion
	// The records this execution has seen exist (for the error of an incomplete run).
	accountDone, contactDone, opportunityDone bool
}

// account creates the account from the lead (or finds the one an earlier attempt created), or
// fills the linked account's empty fields from the lead.
func (s *saga) account(ctx context.Context) error {
	from := accountFromLead(s.l, s.owner)
	if !s.conv.AccountCreated {
		existing, err := s.a.LoadAccount(ctx, s.tenant, s.conv.AccountID)
		if err != nil {
			return err
		}
		if upd := accountFill(existing.Details, from); len(upd.Paths) > 0 {
			_, err := s.a.UpdateAccount(ctx, s.tenant, existing.ID, upd, Write{})
			// The fill is best effort: a domain another account holds is not copied, rather
			// than failing the link the caller asked for.
			if _, _, dup := duplicate(err, ReasonDuplicateAccount); dup {
				if upd.Paths = slices.DeleteFunc(upd.Paths, func(p string) bool { return p == account.PathDomain }); len(upd.Paths) > 0 {
					_, err = s.a.UpdateAccount(ctx, s.tenant, existing.ID, upd, Write{})
				} else {
					err = nil
				}
			}
			if err != nil {
				return err
			}
		}
		s.accountDone = true
		return nil
	}
	// A retry finds the account its first attempt created and goes on.
	if agg, err := s.a.d.Accounts.Load(ctx, s.a.d.Accounts.Ref(s.tenant, s.conv.AccountID)); err != nil {
		return err
	} else if agg.State.Exists() {
		s.accountDone = true
		return nil
	}
	_, err := s.a.CreateAccount(ctx, s.tenant, account.New{ID: s.conv.AccountID, Details: from, SourceLeadID: s.l.ID},
		s.cmd.AllowDuplicateAccount, Write{})
	// A concurrent identical conversion may have created it first (CreateAccount keeps the
	// claims the winner holds).
	if err = s.a.ownRecord(err, s.conv.AccountID); err != nil {
		return renameDuplicate(err, "account_id", "pass it as account_id to link it, or set allow_duplicate_account")
	}
	s.accountDone = true
	return nil
}

// contact does for the contact what account does for the account; the contact is linked to
// the conversion's account (a linked contact only when it has no account yet).
func (s *saga) contact(ctx context.Context) error {
	from := contactFromLead(s.l, s.conv.AccountID, s.owner)
	if !s.conv.ContactCreated {
		existing, err := s.a.LoadContact(ctx, s.tenant, s.conv.ContactID)
		if err != nil {
			return err
		}
		if upd := contactFill(existing.Details, from); len(upd.Paths) > 0 {
			_, err := s.a.UpdateContact(ctx, s.tenant, existing.ID, upd, Write{})
			// As for the account: an email another contact holds is not copied.
			if _, _, dup := duplicate(err, ReasonDuplicateContact); dup {
				if upd.Paths = slices.DeleteFunc(upd.Paths, func(p string) bool { return p == contact.PathEmail }); len(upd.Paths) > 0 {
					_, err = s.a.UpdateContact(ctx, s.tenant, existing.ID, upd, Write{})
				} else {
					err = nil
				}
			}
			if err != nil {
				return err
			}
		}
		s.contactDone = true
		return nil
	}
	if agg, err := s.a.d.Contacts.Load(ctx, s.a.d.Contacts.Ref(s.tenant, s.conv.ContactID)); err != nil {
		return err
	} else if agg.State.Exists() {
		s.contactDone = true
		return nil
	}
	_, err := s.a.CreateContact(ctx, s.tenant, contact.New{ID: s.conv.ContactID, Details: from, SourceLeadID: s.l.ID},
		s.cmd.AllowDuplicateContact, Write{})
	if err = s.a.ownRecord(err, s.conv.ContactID); err != nil {
		return renameDuplicate(err, "contact_id", "pass it as contact_id to link it, or set allow_duplicate_contact")
	}
	s.contactDone = true
	return nil
}

// ownRecord turns "already exists" about the record this conversion derived into success: an
// earlier attempt (or a concurrent identical one) created it.
func (a *App) ownRecord(err error, id string) error {
	if e, ok := apperr.As(err); ok && e.Kind == apperr.AlreadyExists && e.ExistingID == id {
		return nil
	}
	return err
}

// renameDuplicate tells the caller what to do about a record the dedupe check found.
func renameDuplicate(err error, field, hint string) error {
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.AlreadyExists {
		return err
	}
	c := *e
	c.Message = fmt.Sprintf("%s (%s): %s", e.Message, e.ExistingID, hint)
	return &c
}

// Bounds of waiting for another executor of the same conversion that holds the pipeline's
// idempotency key (a concurrent identical ConvertLead on another replica).
const (
	keyInUseAttempts = 20
	keyInUseBackoff  = 50 * time.Millisecond
)

// opportunity opens the opportunity in pipeline with the derived id and idempotency key.
func (s *saga) opportunity(ctx context.Context) error {
	if s.a.d.Opportunities == nil {
		return apperr.New(apperr.Unavailable, "pipeline service not configured")
	}
	o := opportunityFromLead(s.l, *s.cmd.Opportunity, s.now)
	req := NewOpportunity{ID: s.ids.Opportunity, IdempotencyKey: s.ids.IdempotencyKey, Name: o.Name,
		AccountID: s.conv.AccountID, ContactID: s.conv.ContactID, LeadID: s.l.ID, OwnerID: s.owner,
		Amount: o.Amount, ExpectedCloseDate: o.ExpectedCloseDate, PipelineID: o.PipelineID, StageID: o.StageID,
		Source: s.l.Source, CampaignID: s.l.CampaignID}
	actor := reqctx.ActorFrom(ctx).ID
	for attempt := 1; ; attempt++ {
		_, err := s.a.d.Opportunities.Create(ctx, s.tenant, actor, req)
		// Past the idempotency key's 24 hours, a retry meets the opportunity by its id.
		err = s.a.ownRecord(err, req.ID)
		if e, ok := apperr.As(err); ok && e.Kind == apperr.Conflict && attempt < keyInUseAttempts {
			select {
			case <-time.After(keyInUseBackoff):
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err == nil {
			s.opportunityDone = true
		}
		return err
	}
}

// finish records the conversion on the lead. A concurrent identical conversion that got there
// first makes this a no-op (lead.Convert answers the same records with no events).
func (s *saga) finish(ctx context.Context, settings lead.Settings) (ConvertResult, error) {
	ref := s.a.d.Leads.Ref(s.tenant, s.l.ID)
	l, res, err := s.a.d.Leads.Run(ctx, ref, eventstore.Command{Name: "ConvertLead"},
		func(l lead.Lead) ([]lead.Event, error) { return lead.Convert(l, s.conv, settings, s.a.now(ctx)) })
	if err != nil {
		return ConvertResult{}, s.incomplete("lead", err)
	}
	return ConvertResult{Lead: l, Result: res, AccountID: l.Converted.AccountID, ContactID: l.Converted.ContactID,
		OpportunityID: l.Converted.OpportunityID, AccountCreated: l.Conversion.AccountCreated,
		ContactCreated: l.Conversion.ContactCreated}, nil
}

// incomplete explains a failed step. Before any record exists the error is returned as it is;
// after, it names what exists and says that the same request completes the conversion. An
// outage (pipeline down, NATS unreachable) stays Unavailable: retrying is the fix.
func (s *saga) incomplete(step string, err error) error {
	if !s.accountDone && !s.contactDone {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		err = apperr.Wrap(apperr.Unavailable, err, "the conversion ran out of time")
	}
	e, ok := apperr.As(err)
	if !ok {
		e = apperr.Wrap(apperr.Internal, err, "conversion failed")
	}
	c := *e
	c.Err = err
	if c.Reason == "" || c.Kind == apperr.Unavailable {
		c.Reason = ReasonConversionIncomplete
	}
	switch {
	case c.Kind == apperr.Unavailable && step == StepOpportunity:
		c.Message = "pipeline unavailable: retry ConvertLead to complete the conversion"
	case c.Kind == apperr.Unavailable:
		c.Message = "service unavailable: retry ConvertLead to complete the conversion"
	default:
		c.Message = e.Message + "; the lead is not converted: the same ConvertLead, once this is fixed, completes the conversion with the records already made"
	}
	ic := &IncompleteConversion{Err: &c, LeadID: s.l.ID}
	if s.accountDone {
		ic.AccountID = s.conv.AccountID
	}
	if s.contactDone {
		ic.ContactID = s.conv.ContactID
	}
	if s.opportunityDone {
		ic.OpportunityID = s.conv.OpportunityID
	}
	return ic
}
