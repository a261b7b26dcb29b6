package natsperm

import (
	"fmt"
	"slices"
	"strings"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/projection"
)

// Permissions are one NATS user's allow lists. Everything not allowed is denied.
type Permissions struct {
	// User is the NATS user name.
	User string
	// Publish subjects (wildcards allowed); JetStream API calls are publishes too.
	Publish []string
	// Subscribe subjects.
	Subscribe []string
}

// ServiceInbox is the reply subject space of the service users: nats.go's default inbox
// prefix. JetStream answers API calls, direct gets and pull fetches there.
const ServiceInbox = "_INBOX.>"

// IntegrationPrefix is the subject space an integration user of tenant receives on: its inbox
// (connect with nats.CustomInboxPrefix(IntegrationInbox(tenant))) and the deliver subjects of
// push consumers. It is outside _INBOX so that an integration can never see the services'
// replies, which carry every tenant's events.
func IntegrationPrefix(tenant string) string { return "integration." + tenant }

// IntegrationInbox is the inbox prefix an integration client of tenant must use.
func IntegrationInbox(tenant string) string { return IntegrationPrefix(tenant) + ".inbox" }

// IntegrationConsumer is the one consumer name (on each event stream) an integration user of
// tenant may create and use. Pinning the name keeps it away from the services' consumers: with
// any name allowed it could update a services' durable consumer to its own tenant's filter and
// silently starve that projection of every other tenant's events.
func IntegrationConsumer(tenant string) string { return "integration-" + tenant }

// IntegrationUser is the NATS user name of tenant's integration user.
func IntegrationUser(tenant string) string { return "integration-" + tenant }

// For returns the permissions of a service by name ("leads", "pipeline", "campaign",
// "analytics") or of a tenant's integration user ("integration:<tenant>").
func For(name string) (Permissions, error) {
	if tenant, ok := strings.CutPrefix(name, "integration:"); ok {
		return Integration(tenant)
	}
	for _, s := range Services {
		if s.Name == name {
			return ForService(s), nil
		}
	}
	return Permissions{}, fmt.Errorf("natsperm: no NATS user %q", name)
}

// ForService derives a service user's subjects from its table entry.
func ForService(s Service) Permissions {
	// Account info ($JS.API.INFO): nats.go's KV calls read the server's API level from it. It
	// holds the account's limits and usage totals, no subjects or data.
	pub := []string{"$JS.API.INFO"}
	for _, st := range s.Owns {
		// Appends: a single event is a request to its subject; an atomic batch publishes the
		// staged messages to the same subjects.
		pub = append(pub, st.Subjects()...)
		pub = append(pub, "$JS.API.STREAM.CREATE."+st.Name, "$JS.API.STREAM.UPDATE."+st.Name)
	}
	for _, st := range s.Creates {
		pub = append(pub, "$JS.API.STREAM.CREATE."+st.Name)
	}
	for _, st := range s.Reads {
		pub = append(pub, readStream(st.Name)...)
	}
	// Projections look up the dead-letter stream, create it when missing and append dead
	// letters (dlq.<projection>.<original subject>). The projection name is one subject token,
	// so a narrower grant per service would have to list every projection by name.
	pub = append(pub,
		"$JS.API.STREAM.INFO."+DeadLetterStream,
		"$JS.API.STREAM.CREATE."+DeadLetterStream,
		projection.DeadLetterSubjectPrefix+".>")
	for _, b := range s.Buckets {
		pub = append(pub, bucket(b)...)
	}
	for _, b := range s.ShreddingBuckets {
		pub = append(pub, "$JS.API.STREAM.MSG.DELETE.KV_"+b)
	}
	return Permissions{User: s.Name, Publish: dedupe(pub), Subscribe: []string{ServiceInbox}}
}

// readStream is what consuming a stream takes: its info, direct and API message gets (the
// event store's loads, coverage and lag checks), durable and ordered consumers (create with or
// without a filter in the subject, info, delete, fetch) and acks. Flow control is not granted:
// every consumer here is a pull consumer.
func readStream(name string) []string {
	return []string{
		"$JS.API.STREAM.INFO." + name,
		"$JS.API.STREAM.MSG.GET." + name,
		"$JS.API.DIRECT.GET." + name,
		"$JS.API.DIRECT.GET." + name + ".>",
		"$JS.API.CONSUMER.CREATE." + name + ".>",
		"$JS.API.CONSUMER.INFO." + name + ".*",
		"$JS.API.CONSUMER.DELETE." + name + ".*",
		"$JS.API.CONSUMER.MSG.NEXT." + name + ".*",
		"$JS.ACK." + name + ".>",
	}
}

// bucket is what a KV bucket's owner needs: create or update its stream, get (direct or API),
// put and delete ($KV.<bucket>.<key>), and the watchers' ordered push consumers with their flow
// control answers.
func bucket(b string) []string {
	st := "KV_" + b
	return []string{
		"$JS.API.STREAM.CREATE." + st,
		"$JS.API.STREAM.UPDATE." + st,
		"$JS.API.STREAM.INFO." + st,
		"$JS.API.STREAM.MSG.GET." + st,
		"$JS.API.DIRECT.GET." + st,
		"$JS.API.DIRECT.GET." + st + ".>",
		"$JS.API.CONSUMER.CREATE." + st + ".>",
		"$JS.API.CONSUMER.INFO." + st + ".*",
		"$JS.API.CONSUMER.DELETE." + st + ".*",
		"$JS.API.CONSUMER.MSG.NEXT." + st + ".*",
		"$JS.FC." + st + ".>",
		"$KV." + b + ".>",
	}
}

// Integration returns the read-only permissions of tenant's integration user: on each event
// stream, the consumer IntegrationConsumer(tenant) only, created with a filter inside
// crm.<tenant>.> (nats.go puts a single filter subject into the create subject,
// $JS.API.CONSUMER.CREATE.<stream>.<consumer>.<filter>, and the server refuses a create whose
// configured filter or name differs from the subject's), then its info, fetch, acks and
// deletion. Replies and push deliveries arrive on IntegrationPrefix(tenant). No stream info, no
// direct gets, no other consumer: those are not confined to a tenant.
func Integration(tenant string) (Permissions, error) {
	if !eventstore.ValidToken(tenant) {
		return Permissions{}, fmt.Errorf("natsperm: invalid tenant id %q", tenant)
	}
	name := IntegrationConsumer(tenant)
	var pub []string
	for _, st := range eventstore.DefaultStreams() {
		pub = append(pub,
			"$JS.API.CONSUMER.CREATE."+st.Name+"."+name+".crm."+tenant+".>",
			"$JS.API.CONSUMER.INFO."+st.Name+"."+name,
			"$JS.API.CONSUMER.DELETE."+st.Name+"."+name,
			"$JS.API.CONSUMER.MSG.NEXT."+st.Name+"."+name,
			"$JS.ACK."+st.Name+"."+name+".>")
	}
	return Permissions{User: IntegrationUser(tenant), Publish: pub, Subscribe: []string{IntegrationPrefix(tenant) + ".>"}}, nil
}

// ServiceUsers are the permissions of every service user, in table order.
func ServiceUsers() []Permissions {
	out := make([]Permissions, len(Services))
	for i, s := range Services {
		out[i] = ForService(s)
	}
	return out
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	out := in[:0:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return slices.Clip(out)
}
