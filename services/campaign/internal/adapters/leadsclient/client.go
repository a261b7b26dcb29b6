// Package leadsclient is the campaign service's gRPC client of the leads service: suppression
// checks when members are added (lookup.go), paging through leads and contacts for segments
// (list.go), and the actions of automation rules (actions.go).
//
// The connection is built by libs/platform/grpcclient (grpc.NewClient with the otelgrpc client
// handler), whose interceptor forwards the tenant, actor, roles and correlation id of the
// call's context as metadata, so leads records the campaign's caller (or the rule engine) as the
// actor and keeps the correlation id that rule cycle detection follows.
package leadsclient

import (
	"google.golang.org/grpc"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcclient"
)

// Client calls the leads service.
type Client struct {
	conn       *grpc.ClientConn
	leads      leadsv1.LeadsServiceClient
	contacts   leadsv1.ContactsServiceClient
	activities leadsv1.ActivitiesServiceClient
}

// Dial returns a client of the leads service at target (host:port or any gRPC target).
// grpc.NewClient connects lazily, so a leads service that is down at start only fails the calls
// made while it is down. Options are added to grpcclient's defaults.
func Dial(target string, opts ...grpc.DialOption) (*Client, error) {
	conn, err := grpcclient.New(target, opts...)
	if err != nil {
		return nil, err
	}
	return &Client{
		conn:       conn,
		leads:      leadsv1.NewLeadsServiceClient(conn),
		contacts:   leadsv1.NewContactsServiceClient(conn),
		activities: leadsv1.NewActivitiesServiceClient(conn),
	}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }
