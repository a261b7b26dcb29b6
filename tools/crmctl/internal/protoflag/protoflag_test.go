package protoflag_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/tools/crmctl/internal/protoflag"
)

func TestSet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		path, text  string
		want        proto.Message
		wantErrPart string
	}{
		{name: "string", path: "lead.email", text: "a@b.example",
			want: &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{Email: "a@b.example"}}},
		{name: "int", path: "lead.employee_count", text: "250",
			want: &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{EmployeeCount: 250}}},
		{name: "bool", path: "allow_duplicate", text: "true", want: &leadsv1.CreateLeadRequest{AllowDuplicate: true}},
		{name: "enum short name with dash", path: "lead.source", text: "web-form",
			want: &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{Source: leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM}}},
		{name: "enum full name", path: "lead.source", text: "LEAD_SOURCE_EVENT",
			want: &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{Source: leadsv1.LeadSource_LEAD_SOURCE_EVENT}}},
		{name: "enum number", path: "lead.source", text: "3",
			want: &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{Source: leadsv1.LeadSource_LEAD_SOURCE_REFERRAL}}},
		{name: "money amount then currency", path: "lead.annual_revenue", text: "1250.5 eur",
			want: &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{AnnualRevenue: &commonv1.Money{CurrencyCode: "EUR", Units: 1250, Nanos: 500000000}}}},
		{name: "money currency then negative amount", path: "lead.annual_revenue", text: "USD -0.25",
			want: &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{AnnualRevenue: &commonv1.Money{CurrencyCode: "USD", Units: 0, Nanos: -250000000}}}},
		{name: "repeated comma-separated", path: "lead.tags", text: "a, b,,c",
			want: &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{Tags: []string{"a", "b", "c"}}}},
		{name: "map of custom values", path: "lead.custom_fields", text: "region=string:emea,seats=number:12,vip=bool:true,plain=x",
			want: &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{CustomFields: map[string]*leadsv1.CustomValue{
				"region": {Value: &leadsv1.CustomValue_StringValue{StringValue: "emea"}},
				"seats":  {Value: &leadsv1.CustomValue_NumberValue{NumberValue: 12}},
				"vip":    {Value: &leadsv1.CustomValue_BoolValue{BoolValue: true}},
				"plain":  {Value: &leadsv1.CustomValue_StringValue{StringValue: "x"}},
			}}}},
		{name: "message as JSON", path: "lead.utm", text: `{"source": "newsletter"}`,
			want: &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{Utm: &leadsv1.Utm{Source: "newsletter"}}}},
		{name: "bad enum lists the values", path: "lead.source", text: "fax", wantErrPart: "is not one of WEB_FORM, EVENT"},
		{name: "bad money", path: "lead.annual_revenue", text: "lots", wantErrPart: "is not a decimal amount"},
		{name: "too precise money", path: "lead.annual_revenue", text: "1.0000000001 EUR", wantErrPart: "is not a decimal amount"},
		{name: "unknown field", path: "lead.nope", text: "x", wantErrPart: `has no field "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := &leadsv1.CreateLeadRequest{}
			err := protoflag.Set(got.ProtoReflect(), tt.path, tt.text)
			if tt.wantErrPart != "" {
				require.ErrorContains(t, err, tt.wantErrPart)
				return
			}
			require.NoError(t, err)
			assert.Empty(t, cmp.Diff(tt.want, got, protocmp.Transform()))
		})
	}
}

func TestSetWellKnownTypes(t *testing.T) {
	t.Parallel()
	req := &leadsv1.UpdateLeadRequest{}
	require.NoError(t, protoflag.Set(req.ProtoReflect(), "update_mask", "email,job_title"))
	assert.Equal(t, []string{"email", "job_title"}, req.GetUpdateMask().GetPaths())

	list := &leadsv1.ListLeadsRequest{}
	require.NoError(t, protoflag.Set(list.ProtoReflect(), "created_after", "2026-01-31"))
	require.NoError(t, protoflag.Set(list.ProtoReflect(), "created_before", "2026-02-01T09:30:00+01:00"))
	require.NoError(t, protoflag.Set(list.ProtoReflect(), "statuses", "new"))
	assert.True(t, proto.Equal(timestamppb.New(time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)), list.GetCreatedAfter()))
	assert.Equal(t, time.Date(2026, 2, 1, 8, 30, 0, 0, time.UTC), list.GetCreatedBefore().AsTime())
	assert.Equal(t, []leadsv1.LeadStatus{leadsv1.LeadStatus_LEAD_STATUS_NEW}, list.GetStatuses())
	require.NoError(t, protoflag.Set(list.ProtoReflect(), "min_score", "60"))
	assert.Equal(t, int64(60), list.GetMinScore(), "an optional field is set, presence included")
	assert.True(t, list.MinScore != nil)
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "90m": 90 * time.Minute, "1h30m": 90 * time.Minute} {
		got, err := protoflag.ParseDuration(text)
		require.NoError(t, err, text)
		assert.Equal(t, want, got, text)
	}
	_, err := protoflag.ParseDuration("soon")
	assert.Error(t, err)
}
