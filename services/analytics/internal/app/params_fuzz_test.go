package app

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/pagetoken"
	"github.com/evcrm/evcrm/libs/platform/grpcerr"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chquery"
)

// FuzzMetricParams fuzzes the validation of a metric request and the query scope it becomes:
// period, breakdown, currency, the five filter lists (values separated by '|'), the range, for
// each metric's rules, and a timeline page token. Properties: no panic; a rejection is
// InvalidArgument with field violations; an accepted request yields a scope whose period and
// breakdown are among the names the .sql files know and that renders into every placeholder of a
// query without error. `go test -fuzz FuzzMetricParams ./internal/app` in services/analytics
// explores.
func FuzzMetricParams(f *testing.F) {
	f.Add(3, 1, "EUR", "web|event", "c1", "u1", "T1", "", int64(1767225600), int64(1775001600), "")
	f.Add(0, 0, "", "", "", "", "", "P1", int64(0), int64(0), "bm90IGEgdG9rZW4")
	f.Add(42, 99, "eur", "' OR 1=1 --", "x'); DROP TABLE leads; --", "\\", "\x00", "é", int64(-1), int64(1<<40), "%%%")
	f.Add(5, 6, "USD", strings.Repeat("a", 257), "|", "a|b|c", "", "", int64(1775001600), int64(1767225600), "")
	rules := []metricRules{funnelRules, stageRules, velocityRules, forecastRules}
	tmpl := "SELECT {tenant:String}, {from:DateTime}, {to:DateTime}, {from_date:Date}, {to_date:Date}, " +
		"{period:String}, {breakdown:String}, {sources:Array(String)}, {campaign_ids:Array(String)}, " +
		"{owner_ids:Array(String)}, {territory_ids:Array(String)}, {pipeline_ids:Array(String)}"
	split := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, "|")
	}
	f.Fuzz(func(t *testing.T, period, breakdown int, currency, sources, campaigns, owners, territories, pipelines string,
		from, to int64, token string) {
		r := Range{From: time.Unix(from, 0).UTC(), To: time.Unix(to, 0).UTC()}
		if from == 0 {
			r.From = time.Time{}
		}
		fl := Filters{Sources: split(sources), CampaignIDs: split(campaigns), OwnerIDs: split(owners),
			TerritoryIDs: split(territories), PipelineIDs: split(pipelines)}
		for _, mr := range rules {
			var v apperr.Violations
			s := scope(&v, "t1", r, Period(period), Breakdown(breakdown), fl, mr)
			checkCurrency(&v, currency)
			if err := v.Err("invalid query"); err != nil {
				requireFieldViolations(t, err)
				continue
			}
			if !slices.Contains(chquery.Periods, s.Period) || !slices.Contains(chquery.Breakdowns, s.Breakdown) {
				t.Fatalf("accepted period %q breakdown %q unknown to the queries", s.Period, s.Breakdown)
			}
			if _, err := chquery.Render(tmpl, chquery.Params{"tenant": s.Tenant, "from": s.From, "to": s.To,
				"from_date": s.From, "to_date": s.To, "period": s.Period, "breakdown": s.Breakdown,
				"sources": s.Filters.Sources, "campaign_ids": s.Filters.CampaignIDs, "owner_ids": s.Filters.OwnerIDs,
				"territory_ids": s.Filters.TerritoryIDs, "pipeline_ids": s.Filters.PipelineIDs}); err != nil {
				t.Fatalf("accepted scope does not render: %v", err)
			}
		}
		// The timeline's page token: anything but a token this service issued for this tenant
		// and account is refused, never decoded into a cursor.
		var fp pagetoken.Fingerprint
		fp.Str("t1")
		fp.Str("A1")
		var cur timelineCursor
		if ok, err := pagetoken.Decode(token, timelineTokenKey, fp.Sum(), &cur); ok && err == nil {
			if pagetoken.Encode(timelineTokenKey, fp.Sum(), cur) == "" {
				t.Fatalf("token %q decoded but does not re-encode", token)
			}
		}
	})
}

// requireFieldViolations is the property of a rejected request: InvalidArgument on the wire with
// at least one field violation, so the client learns which field to fix.
func requireFieldViolations(t *testing.T, err error) {
	t.Helper()
	st := grpcerr.ToStatus(context.Background(), err)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("rejected with %v (%v), want InvalidArgument", st.Code(), err)
	}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
			return
		}
	}
	t.Fatalf("InvalidArgument without field violations: %v", err)
}
