package grpc

import (
	"google.golang.org/grpc"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/app"
)

// Register adds every gRPC service of the leads service to s: leads (with conversion),
// accounts, contacts, activities and tasks, and import/export.
func Register(s grpc.ServiceRegistrar, a *app.App) {
	leadsv1.RegisterLeadsServiceServer(s, NewServer(a))
	leadsv1.RegisterAccountsServiceServer(s, NewAccountsServer(a))
	leadsv1.RegisterContactsServiceServer(s, NewContactsServer(a))
	leadsv1.RegisterActivitiesServiceServer(s, NewActivitiesServer(a))
	leadsv1.RegisterDataTransferServiceServer(s, NewTransferServer(a))
}
