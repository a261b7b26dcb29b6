package render_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	analyticsv1 "github.com/evcrm/evcrm/libs/gen/crm/analytics/v1"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/tools/crmctl/internal/render"
)

func TestTableNestedRowsTakeColumnsFromEnclosingMessages(t *testing.T) {
	t.Parallel()
	jan := timestamppb.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	resp := &analyticsv1.GetFunnelResponse{Cohorts: []*analyticsv1.FunnelCohort{{PeriodStart: jan, Key: "WEB_FORM", Steps: []*analyticsv1.FunnelStep{
		{Step: "created", Count: 10, StepConversion: 1},
		{Step: "mql", Count: 4, StepConversion: 0.4, MedianTime: durationpb.New(36*time.Hour + 1500*time.Millisecond)},
	}}}}
	var out bytes.Buffer
	require.NoError(t, render.Table(&out, resp, render.View{Rows: []string{"cohorts", "steps"},
		Columns: []string{"period_start", "key", "step", "count", "step_conversion", "median_time"}}))
	assert.Equal(t, ""+
		"PERIOD_START          KEY       STEP     COUNT  STEP_CONVERSION  MEDIAN_TIME\n"+
		"2026-01-01T00:00:00Z  WEB_FORM  created  10     1                \n"+
		"2026-01-01T00:00:00Z  WEB_FORM  mql      4      0.4              36h0m2s\n", out.String())
}

func TestTableRecordFlattensPopulatedFields(t *testing.T) {
	t.Parallel()
	resp := &leadsv1.GetLeadResponse{Lead: &leadsv1.Lead{
		Id: "l1", Status: leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED, Tags: []string{"a", "b"},
		AnnualRevenue: &commonv1.Money{CurrencyCode: "EUR", Units: -3, Nanos: -50000000},
		Score:         &leadsv1.Score{Total: 42, Temperature: leadsv1.Temperature_TEMPERATURE_HOT},
		CustomFields:  map[string]*leadsv1.CustomValue{"region": {Value: &leadsv1.CustomValue_StringValue{StringValue: "emea"}}},
	}}
	var out bytes.Buffer
	require.NoError(t, render.Table(&out, resp, render.View{}))
	assert.Equal(t, ""+
		"lead.id                     l1\n"+
		"lead.annual_revenue         -3.05 EUR\n"+
		"lead.tags                   a,b\n"+
		"lead.custom_fields[region]  emea\n"+
		"lead.status                 SALES_QUALIFIED\n"+
		"lead.score.total            42\n"+
		"lead.score.temperature      HOT\n", out.String())
}

func TestFormatDecimal(t *testing.T) {
	t.Parallel()
	for want, in := range map[string][2]int64{"3": {3, 0}, "1250.5": {1250, 500000000}, "-0.25": {0, -250000000}, "0.000000001": {0, 1}} {
		assert.Equal(t, want, render.FormatDecimal(in[0], int32(in[1])))
	}
}
