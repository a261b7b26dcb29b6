// Package grpc is the analytics service's gRPC port: it validates metric requests, runs them
// through the application and maps the rows back.
package grpc

import (
	"google.golang.org/grpc"

	analyticsv1 "github.com/evcrm/evcrm/libs/gen/crm/analytics/v1"
	"github.com/evcrm/evcrm/services/analytics/internal/app"
)

// Server implements analyticsv1.AnalyticsServiceServer.
type Server struct {
	analyticsv1.UnimplementedAnalyticsServiceServer
	app *app.App
}

// NewServer returns the gRPC server of a.
func NewServer(a *app.App) *Server { return &Server{app: a} }

// Register adds the analytics service to s.
func Register(s grpc.ServiceRegistrar, a *app.App) {
	analyticsv1.RegisterAnalyticsServiceServer(s, NewServer(a))
}
