// Package pipelineclient is the leads service's gRPC client of the pipeline service: lead
// conversion opens the opportunity through it (app.Opportunities).
//
// The connection is built by libs/platform/grpcclient (grpc.NewClient with the otelgrpc client
// handler), whose interceptor forwards the tenant, actor, roles and correlation id of the call's
// context as the metadata the pipeline service authenticates (x-tenant-id, x-user-id, x-roles),
// so the opportunity is recorded with the user who converted the lead.
package pipelineclient

import (
	"context"
	"errors"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/evcrm/evcrm/libs/apperr"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcclient"
	"github.com/evcrm/evcrm/libs/platform/grpcerr"
	"github.com/evcrm/evcrm/libs/reqctx"
	"github.com/evcrm/evcrm/services/leads/internal/app"
)

// DefaultTimeout bounds one CreateOpportunity call: a pipeline that does not answer in time is
// treated as unavailable, so the conversion fails with a retryable error instead of hanging.
const DefaultTimeout = 10 * time.Second

// ReconnectWait is how long a call that found pipeline unreachable waits for a fresh connection
// before it reports pipeline unavailable.
const ReconnectWait = 2 * time.Second

// Client opens opportunities in the pipeline service. It implements app.Opportunities.
type Client struct {
	conn    *grpc.ClientConn
	api     pipelinev1.PipelineServiceClient
	timeout time.Duration
}

var _ app.Opportunities = (*Client)(nil)

// Dial returns a client of the pipeline service at target (host:port or any gRPC target).
// grpc.NewClient connects lazily, so a pipeline that is down at start only fails the calls made
// while it is down. Options are added to grpcclient's defaults (plaintext, tracing, identity
// forwarding), e.g. grpc.WithTransportCredentials for TLS.
func Dial(target string, opts ...grpc.DialOption) (*Client, error) {
	conn, err := grpcclient.New(target, opts...)
	if err != nil {
		return nil, err
	}
	return &Client{conn: conn, api: pipelinev1.NewPipelineServiceClient(conn), timeout: DefaultTimeout}, nil
}

// WithTimeout returns c with calls bounded by d instead of DefaultTimeout.
func (c *Client) WithTimeout(d time.Duration) *Client {
	n := *c
	n.timeout = d
	return &n
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Create implements app.Opportunities. tenant and actor override what the context carries, so
// the pipeline service sees the converting user even when the caller built a fresh context.
func (c *Client) Create(ctx context.Context, tenant, actor string, o app.NewOpportunity) (string, error) {
	ctx = reqctx.WithTenant(ctx, tenant)
	if actor != "" {
		a := reqctx.ActorFrom(ctx)
		if a.ID != actor {
			a = reqctx.Actor{Type: reqctx.ActorUser, ID: actor, Roles: a.Roles}
		}
		ctx = reqctx.WithActor(ctx, a)
	}
	caller := ctx
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req := Request(o)
	resp, err := c.api.CreateOpportunity(ctx, req)
	if status.Code(err) == codes.Unavailable {
		// After pipeline was down the channel waits out its reconnect backoff (up to two
		// minutes) and fails calls at once meanwhile, so a user's retry right after pipeline came
		// back would still fail. Reconnect now and wait up to ReconnectWait for it; the
		// idempotency key makes the repeat safe. A pipeline that is really down costs this wait.
		c.conn.ResetConnectBackoff()
		rctx, cancel := context.WithTimeout(ctx, ReconnectWait)
		resp, err = c.api.CreateOpportunity(rctx, req, grpc.WaitForReady(true))
		if status.Code(err) == codes.DeadlineExceeded && ctx.Err() == nil {
			err = status.Error(codes.Unavailable, "pipeline did not accept a connection")
		}
		cancel()
	}
	if err != nil {
		return "", mapError(caller, err)
	}
	return resp.GetOpportunity().GetId(), nil
}

// Request maps the conversion's opportunity to CreateOpportunityRequest.
func Request(o app.NewOpportunity) *pipelinev1.CreateOpportunityRequest {
	opp := &pipelinev1.Opportunity{
		Name:              o.Name,
		AccountId:         o.AccountID,
		PrimaryContactId:  o.ContactID,
		LeadId:            o.LeadID,
		OwnerId:           o.OwnerID,
		PipelineId:        o.PipelineID,
		StageId:           o.StageID,
		ExpectedCloseDate: o.ExpectedCloseDate,
		// The enums are numbered alike (crm.leads.v1.LeadSource, crm.pipeline.v1.OpportunitySource).
		Source:            pipelinev1.OpportunitySource(o.Source),
		PrimaryCampaignId: o.CampaignID,
	}
	if !o.Amount.IsZero() {
		opp.Amount = &commonv1.Money{CurrencyCode: o.Amount.Currency, Units: o.Amount.Units, Nanos: o.Amount.Nanos}
	}
	if o.ContactID != "" {
		opp.ContactRoles = []*pipelinev1.OpportunityContactRole{{ContactId: o.ContactID,
			Role: pipelinev1.ContactRole_CONTACT_ROLE_OTHER, IsPrimary: true}}
	}
	return &pipelinev1.CreateOpportunityRequest{Opportunity: opp, OpportunityId: o.ID,
		Options: &commonv1.WriteOptions{IdempotencyKey: o.IdempotencyKey}}
}

// mapError turns the pipeline's status into the apperr vocabulary of ConvertLead. Field
// violations are renamed to the ConvertLeadRequest fields the caller can fix. A deadline that
// was not the caller's (caller is the caller's context) is the client's own timeout: pipeline
// did not answer, which is Unavailable like a refused connection. (The status can arrive
// before the local context notices its deadline, so the caller's context is what is asked.)
func mapError(caller context.Context, err error) error {
	err = grpcerr.ToAppError(err)
	if errors.Is(err, context.DeadlineExceeded) && caller.Err() == nil {
		return apperr.Wrap(apperr.Unavailable, err, "pipeline did not answer in time")
	}
	if e, ok := apperr.As(err); ok && e.Kind == apperr.Unavailable {
		return apperr.Wrap(apperr.Unavailable, err, "pipeline unavailable")
	}
	return apperr.RenameFields(err, fieldOfConvertLead)
}

// fieldOfConvertLead names a CreateOpportunityRequest field as ConvertLeadRequest does: the
// opportunity's owner is the request's owner_id; everything else belongs under "opportunity.".
func fieldOfConvertLead(field string) string {
	switch {
	case field == "opportunity.owner_id":
		return "owner_id"
	case field == "opportunity.amount.currency_code":
		return "opportunity.amount"
	case strings.HasPrefix(field, "opportunity."):
		return field
	}
	return "opportunity." + field
}
