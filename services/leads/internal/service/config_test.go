package service_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

func TestTerritoriesCustomFieldsScoringAndMerge(t *testing.T) {
	t.Parallel()
	h := start(t, testkit.StartNATS(t), t.TempDir())
	ctx := as(t, "acme", "admin-1")

	// Custom fields: undefined ones are rejected, defined ones typed.
	_, err := h.client.DefineCustomField(ctx, &leadsv1.DefineCustomFieldRequest{Field: &leadsv1.CustomFieldDefinition{
		Name: "plan", Type: leadsv1.CustomFieldType_CUSTOM_FIELD_TYPE_STRING, Label: "Plan"}})
	require.NoError(t, err)
	fields, err := h.client.ListCustomFields(ctx, &leadsv1.ListCustomFieldsRequest{})
	require.NoError(t, err)
	require.Len(t, fields.GetFields(), 1)
	withPlan := newLead("plan@example.com")
	withPlan.CustomFields = map[string]*leadsv1.CustomValue{"plan": {Value: &leadsv1.CustomValue_NumberValue{NumberValue: 3}}}
	_, err = h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: withPlan})
	assert.Equal(t, codes.InvalidArgument, status.Code(err), "a number in a string field")
	withPlan.CustomFields["plan"] = &leadsv1.CustomValue{Value: &leadsv1.CustomValue_StringValue{StringValue: "gold"}}
	_, err = h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: withPlan})
	require.NoError(t, err)

	// A round-robin territory rotates its reps; a lead outside it gets none.
	_, err = h.client.UpsertTerritory(ctx, &leadsv1.UpsertTerritoryRequest{Territory: &leadsv1.Territory{
		Id: "dach", Name: "DACH", Priority: 1, Countries: []string{"DE", "AT", "CH"},
		AssignmentMode: leadsv1.AssignmentMode_ASSIGNMENT_MODE_ROUND_ROBIN, RepIds: []string{"rep-a", "rep-b", "rep-c"}}})
	require.NoError(t, err)
	var owners []string
	for i, email := range []string{"d1@example.de", "d2@example.de", "d3@example.de", "d4@example.de"} {
		l := newLead(email)
		l.Country = []string{"DE", "AT", "CH", "DE"}[i]
		res, err := h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: l})
		require.NoError(t, err)
		assert.Equal(t, "dach", res.GetLead().GetTerritoryId())
		owners = append(owners, res.GetLead().GetOwnerId())
	}
	assert.Equal(t, []string{"rep-a", "rep-b", "rep-c", "rep-a"}, owners)

	// Moving a lead out of the territory changes its territory.
	moved, err := h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: func() *leadsv1.Lead { l := newLead("mover@example.de"); l.Country = "DE"; return l }()})
	require.NoError(t, err)
	upd, err := h.client.UpdateLead(ctx, &leadsv1.UpdateLeadRequest{LeadId: moved.GetLead().GetId(), Lead: &leadsv1.Lead{Country: "FR"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"country"}}})
	require.NoError(t, err)
	assert.Empty(t, upd.GetLead().GetTerritoryId())

	// The scoring model is versioned.
	model, err := h.client.GetScoringModel(ctx, &leadsv1.GetScoringModelRequest{})
	require.NoError(t, err)
	m := model.GetModel()
	m.MqlThreshold = m.GetMqlThreshold() + 10
	updated, err := h.client.UpdateScoringModel(ctx, &leadsv1.UpdateScoringModelRequest{Model: m})
	require.NoError(t, err)
	assert.Equal(t, model.GetModel().GetVersion()+1, updated.GetModel().GetVersion())
	bad := updated.GetModel()
	bad.FitRules = append(bad.FitRules, &leadsv1.FitRule{Field: "shoe_size", Operator: leadsv1.FitOperator_FIT_OPERATOR_EQUALS, Values: []string{"44"}, Points: 5})
	_, err = h.client.UpdateScoringModel(ctx, &leadsv1.UpdateScoringModelRequest{Model: bad})
	assert.NotEmpty(t, violations(t, err))

	// Merge: the duplicate ends disqualified with a link; the survivor gains what it lacked.
	a, err := h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: newLead("first@example.com")})
	require.NoError(t, err)
	dup := newLead("second@example.com")
	dup.Phone = "+49 30 1234567"
	b, err := h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: dup})
	require.NoError(t, err)
	merged, err := h.client.MergeLeads(ctx, &leadsv1.MergeLeadsRequest{SurvivorId: a.GetLead().GetId(), MergedId: b.GetLead().GetId()})
	require.NoError(t, err)
	assert.Equal(t, "+49 30 1234567", merged.GetSurvivor().GetPhone(), "the survivor gains the phone it lacked, as entered")
	assert.Contains(t, merged.GetSurvivor().GetMergedFromIds(), b.GetLead().GetId())
	gone, err := h.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: b.GetLead().GetId(), Read: &commonv1.ReadOptions{MinSequence: merged.GetResult().GetSequence()}})
	require.NoError(t, err)
	assert.Equal(t, leadsv1.LeadStatus_LEAD_STATUS_DISQUALIFIED, gone.GetLead().GetStatus())
	assert.Equal(t, leadsv1.DisqualifyReason_DISQUALIFY_REASON_DUPLICATE, gone.GetLead().GetDisqualifyReason())
	assert.Equal(t, a.GetLead().GetId(), gone.GetLead().GetMergedIntoId())
	_, err = h.client.MergeLeads(ctx, &leadsv1.MergeLeadsRequest{SurvivorId: a.GetLead().GetId(), MergedId: a.GetLead().GetId()})
	assert.Equal(t, codes.InvalidArgument, status.Code(err))

	// The merged lead's email stays taken, and a duplicate of it is reported against the survivor.
	_, err = h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: newLead("Second@Example.com")})
	require.Equal(t, codes.AlreadyExists, status.Code(err), "%v", err)
	assert.Equal(t, a.GetLead().GetId(), errorInfo(err).GetMetadata()["existing_id"])
}
