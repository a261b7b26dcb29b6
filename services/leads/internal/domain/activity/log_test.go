package activity_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/leads/internal/domain/activity"
)

var now = time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)

func call() activity.NewActivity {
	return activity.NewActivity{ID: "act-1", Kind: activity.KindCall,
		Records: []activity.RecordRef{{Type: activity.RecordLead, ID: "lead-1"}, {Type: activity.RecordOpportunity, ID: "opp-9"}},
		Subject: "  Intro call ", Body: "Talked about\npricing.", Direction: activity.DirectionOutbound,
		Outcome: "connected", Duration: 15 * time.Minute, Participants: []string{" ada@example.com "},
		OccurredAt: now.Add(-time.Hour), LoggedBy: "rep-1"}
}

func fields(t *testing.T, err error) []string {
	t.Helper()
	e, ok := apperr.As(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, apperr.Invalid, e.Kind, "%v", err)
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestLogNormalisesAndFolds(t *testing.T) {
	t.Parallel()
	evs, err := activity.Log(activity.Activity{}, call(), now)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	a := activity.Apply(activity.Activity{}, evs[0])
	assert.Equal(t, uint64(1), a.Version)
	assert.Equal(t, "Intro call", a.Subject)
	assert.Equal(t, []string{"ada@example.com"}, a.Participants)
	assert.Equal(t, now, a.CreatedAt)
	assert.True(t, a.Concerns(activity.RecordRef{Type: activity.RecordLead, ID: "lead-1"}))

	cmd := call()
	cmd.OccurredAt = time.Time{}
	evs, err = activity.Log(activity.Activity{}, cmd, now)
	require.NoError(t, err)
	assert.Equal(t, now, evs[0].(activity.ActivityLogged).Activity.OccurredAt, "unset occurred_at is the time of logging")

	_, err = activity.Log(a, call(), now)
	assert.Equal(t, apperr.AlreadyExists, apperr.KindOf(err))
}

func TestLogValidation(t *testing.T) {
	t.Parallel()
	many := func(n int) []activity.RecordRef {
		out := make([]activity.RecordRef, n)
		for i := range out {
			out[i] = activity.RecordRef{Type: activity.RecordContact, ID: "c" + strings.Repeat("x", i+1)}
		}
		return out
	}
	tests := []struct {
		name   string
		change func(*activity.NewActivity)
		want   []string
	}{
		{"kind required", func(c *activity.NewActivity) { c.Kind = activity.KindUnspecified }, []string{"kind"}},
		{"unknown kind", func(c *activity.NewActivity) { c.Kind = 9 }, []string{"kind"}},
		{"no records", func(c *activity.NewActivity) { c.Records = nil }, []string{"records"}},
		{"eleven records", func(c *activity.NewActivity) { c.Records = many(11) }, []string{"records"}},
		{"ten records", func(c *activity.NewActivity) { c.Records = many(10) }, nil},
		{"record without type or good id", func(c *activity.NewActivity) {
			c.Records = []activity.RecordRef{{ID: "x"}, {Type: activity.RecordLead, ID: "a.b"}}
		}, []string{"records[0].type", "records[1].id"}},
		{"duplicate record", func(c *activity.NewActivity) { c.Records = append(c.Records, c.Records[0]) }, []string{"records[2]"}},
		{"subject required", func(c *activity.NewActivity) { c.Subject = "  " }, []string{"subject"}},
		{"subject 255", func(c *activity.NewActivity) { c.Subject = strings.Repeat("é", 255) }, nil},
		{"subject 256", func(c *activity.NewActivity) { c.Subject = strings.Repeat("é", 256) }, []string{"subject"}},
		{"subject newline", func(c *activity.NewActivity) { c.Subject = "a\nb" }, []string{"subject"}},
		{"body 32 KiB", func(c *activity.NewActivity) { c.Body = strings.Repeat("x", 32<<10) }, nil},
		{"body over 32 KiB", func(c *activity.NewActivity) { c.Body = strings.Repeat("x", 32<<10+1) }, []string{"body"}},
		{"outcome too long", func(c *activity.NewActivity) { c.Outcome = strings.Repeat("x", 256) }, []string{"outcome"}},
		{"51 participants", func(c *activity.NewActivity) { c.Participants = make([]string, 51) }, []string{"participants"}},
		{"empty participant", func(c *activity.NewActivity) { c.Participants = []string{"a", " "} }, []string{"participants[1]"}},
		{"negative duration", func(c *activity.NewActivity) { c.Duration = -time.Second }, []string{"duration"}},
		{"a day ahead", func(c *activity.NewActivity) { c.OccurredAt = now.Add(24 * time.Hour) }, nil},
		{"more than a day ahead", func(c *activity.NewActivity) { c.OccurredAt = now.Add(24*time.Hour + time.Second) }, []string{"occurred_at"}},
		{"meeting without direction", func(c *activity.NewActivity) { c.Kind, c.Direction = activity.KindMeeting, 0 }, nil},
		{"note with direction", func(c *activity.NewActivity) { c.Kind = activity.KindNote }, []string{"direction"}},
		{"email inbound", func(c *activity.NewActivity) { c.Kind, c.Direction = activity.KindEmail, activity.DirectionInbound }, nil},
		{"unknown direction", func(c *activity.NewActivity) { c.Direction = 7 }, []string{"direction"}},
		{"no logger", func(c *activity.NewActivity) { c.LoggedBy = "" }, []string{"logged_by"}},
		{"everything wrong at once", func(c *activity.NewActivity) {
			c.Kind, c.Records, c.Subject, c.Duration = 0, nil, "", -1
		}, []string{"kind", "records", "subject", "duration"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cmd := call()
			tc.change(&cmd)
			_, err := activity.Log(activity.Activity{}, cmd, now)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			assert.Equal(t, tc.want, fields(t, err))
		})
	}
}

func TestRecordTypes(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "lead", activity.RecordLead.AggregateType())
	assert.Equal(t, "opportunity", activity.RecordOpportunity.AggregateType())
	assert.True(t, activity.RecordAccount.Owned())
	assert.False(t, activity.RecordOpportunity.Owned())
	assert.False(t, activity.RecordType(9).Valid())
	assert.Equal(t, "", activity.RecordType(9).AggregateType())
}
