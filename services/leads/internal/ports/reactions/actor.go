package reactions

import (
	"context"

	"github.com/evcrm/evcrm/libs/reqctx"
)

// asService runs a reaction as the leads service itself. A consumer's context carries no
// request actor, and the application's row-level rules (authz.ScopeOf) give an unknown actor
// nothing to see: a reaction acts on any lead of the tenant. The events keep the actor the
// reaction names in its event metadata (the service, on behalf of the user who caused it).
func asService(ctx context.Context) context.Context {
	return reqctx.WithActor(ctx, reqctx.Actor{Type: reqctx.ActorService, ID: "leads"})
}
