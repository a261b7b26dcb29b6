package leadsclient

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/evcrm/evcrm/libs/apperr"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/campaign/internal/app"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/member"
)

// The methods of this file implement app.RuleLeads: the records rule conditions read and the
// actions rules take on leads. The tenant travels in ctx; each write carries the action's
// idempotency key, which the leads service records as the causation id of its events.

var _ app.RuleLeads = (*Client)(nil)

// Record returns the lead or contact as a value tree for conditions.
func (c *Client) Record(ctx context.Context, t member.Type, id string, minSeq uint64) (app.Record, error) {
	var read *commonv1.ReadOptions
	if minSeq > 0 {
		read = &commonv1.ReadOptions{MinSequence: minSeq}
	}
	switch t {
	case member.TypeLead:
		res, err := c.leads.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: id, Read: read})
		if err != nil {
			return app.Record{}, actionErr(err)
		}
		v, err := protomap.RuleValues(res.GetLead())
		return app.Record{ID: id, OwnerID: res.GetLead().GetOwnerId(), Values: v}, err
	case member.TypeContact:
		res, err := c.contacts.GetContact(ctx, &leadsv1.GetContactRequest{ContactId: id, Read: read})
		if err != nil {
			return app.Record{}, actionErr(err)
		}
		v, err := protomap.RuleValues(res.GetContact())
		return app.Record{ID: id, OwnerID: res.GetContact().GetOwnerId(), Values: v}, err
	}
	return app.Record{}, apperr.New(apperr.Invalid, "unknown member type %d", t)
}

// AddTags adds tags to a lead.
func (c *Client) AddTags(ctx context.Context, leadID string, tags []string, key string) error {
	_, err := c.leads.AddLeadTags(ctx, &leadsv1.AddLeadTagsRequest{LeadId: leadID, Tags: tags, Options: opts(key)})
	return actionErr(err)
}

// RemoveTags removes tags from a lead.
func (c *Client) RemoveTags(ctx context.Context, leadID string, tags []string, key string) error {
	_, err := c.leads.RemoveLeadTags(ctx, &leadsv1.RemoveLeadTagsRequest{LeadId: leadID, Tags: tags, Options: opts(key)})
	return actionErr(err)
}

// Assign gives a lead to an owner.
func (c *Client) Assign(ctx context.Context, leadID, ownerID, note, key string) error {
	_, err := c.leads.AssignLead(ctx, &leadsv1.AssignLeadRequest{LeadId: leadID, OwnerId: ownerID, Note: note, Options: opts(key)})
	return actionErr(err)
}

// CreateTask creates a task about a lead.
func (c *Client) CreateTask(ctx context.Context, t app.Task, key string) error {
	task := &leadsv1.Task{Subject: t.Subject, AssigneeId: t.AssigneeID,
		Record: &leadsv1.RecordRef{Type: leadsv1.RecordType_RECORD_TYPE_LEAD, Id: t.LeadID}}
	if !t.DueAt.IsZero() {
		task.DueAt = timestamppb.New(t.DueAt)
	}
	_, err := c.activities.CreateTask(ctx, &leadsv1.CreateTaskRequest{Task: task, Options: opts(key)})
	return actionErr(err)
}

func opts(key string) *commonv1.WriteOptions { return &commonv1.WriteOptions{IdempotencyKey: key} }

// actionErr classifies a failed call: a refusal the leads service will repeat (bad input,
// missing lead, wrong state) keeps its kind and message, so the rule run records it as
// failed; anything else is Unavailable, retried with the event.
func actionErr(err error) error {
	if err == nil {
		return nil
	}
	st := status.Convert(err)
	kind := apperr.Unavailable
	switch st.Code() {
	case codes.InvalidArgument:
		kind = apperr.Invalid
	case codes.NotFound:
		kind = apperr.NotFound
	case codes.FailedPrecondition:
		kind = apperr.FailedPrecondition
	case codes.AlreadyExists:
		kind = apperr.AlreadyExists
	case codes.PermissionDenied:
		kind = apperr.PermissionDenied
	case codes.Aborted:
		kind = apperr.Conflict
	}
	return &apperr.Error{Kind: kind, Message: "leads service: " + st.Message(), Err: err}
}
