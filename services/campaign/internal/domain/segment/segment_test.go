package segment

import (
	"strings"
	"testing"

	"github.com/evcrm/evcrm/libs/apperr"
)

func fields(err error) map[string]string {
	out := map[string]string{}
	if e, ok := apperr.As(err); ok {
		for _, f := range e.Fields {
			out[f.Field] = f.Description
		}
	}
	return out
}

func TestCreateValidates(t *testing.T) {
	t.Parallel()
	ok := Segment{ID: "s1", Name: " VIPs ", Object: ObjectLead, Criteria: `tag has "vip"`}
	evs, err := Create(State{}, ok, now)
	if err != nil || len(evs) != 1 {
		t.Fatalf("Create = %v, %v", evs, err)
	}
	if got := evs[0].(SegmentSaved).Segment; got.Name != "VIPs" || !got.CreatedAt.Equal(now) {
		t.Fatalf("saved %+v", got)
	}
	for _, tt := range []struct {
		name  string
		g     Segment
		field string
		want  string
	}{
		{"no name", Segment{Object: ObjectLead, Criteria: "score > 1"}, "name", "required"},
		{"long name", Segment{Name: strings.Repeat("x", 256), Object: ObjectLead, Criteria: "score > 1"}, "name", "required"},
		{"no object", Segment{Name: "a", Criteria: "score > 1"}, "object", "required"},
		{"no criteria", Segment{Name: "a", Object: ObjectLead}, "criteria", "required"},
		{"bad criteria", Segment{Name: "a", Object: ObjectLead, Criteria: "score >"}, "criteria", "expected a whole number at 1:8, found end of criteria"},
		{"lead term on contacts", Segment{Name: "a", Object: ObjectContact, Criteria: "score > 1"}, "criteria", "score applies to leads only"},
	} {
		_, err := Create(State{}, tt.g, now)
		if apperr.KindOf(err) != apperr.Invalid || !strings.Contains(fields(err)[tt.field], tt.want) {
			t.Errorf("%s: %v (fields %v)", tt.name, err, fields(err))
		}
	}
	s := Apply(State{}, evs[0])
	if _, err := Create(s, ok, now); apperr.KindOf(err) != apperr.AlreadyExists {
		t.Errorf("create twice: %v", err)
	}
}

func TestUpdateAndDelete(t *testing.T) {
	t.Parallel()
	evs, _ := Create(State{}, Segment{ID: "s1", Name: "A", Object: ObjectLead, Criteria: "score > 1"}, now)
	s := Apply(State{}, evs[0])
	if evs, err := Update(s, Segment{Name: "A", Criteria: "score > 1"}, []string{"name", "criteria"}, now); err != nil || len(evs) != 0 {
		t.Fatalf("no-op update = %v, %v", evs, err)
	}
	_, err := Update(s, Segment{Criteria: "score >"}, []string{"criteria", "object"}, now)
	if f := fields(err); f["criteria"] == "" || f["update_mask.paths[1]"] == "" {
		t.Fatalf("bad update: %v", err)
	}
	evs, err = Update(s, Segment{Criteria: "score > 2"}, []string{"criteria"}, now)
	if err != nil || len(evs) != 1 {
		t.Fatal(err)
	}
	s = Apply(s, evs[0])
	if s.Segment.Criteria != "score > 2" || s.Version != 2 || s.Segment.Version != 2 {
		t.Fatalf("state %+v", s)
	}
	evs, err = Delete(s, now)
	if err != nil {
		t.Fatal(err)
	}
	s = Apply(s, evs[0])
	if s.Exists() {
		t.Fatal("deleted segment exists")
	}
	if _, err := Delete(s, now); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("delete twice: %v", err)
	}
	if _, err := Update(s, Segment{Name: "B"}, []string{"name"}, now); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("update deleted: %v", err)
	}
}

func TestEnrollmentResumesAndRestarts(t *testing.T) {
	t.Parallel()
	id := EnrollmentID("c1", "s1", 3)
	if id != EnrollmentID("c1", "s1", 3) || id == EnrollmentID("c1", "s1", 4) || !ValidID(id) {
		t.Fatalf("id %q not stable, distinct and valid", id)
	}
	var s EnrollmentState
	for _, e := range Begin(s, Enrollment{ID: id, CampaignID: "c1", SegmentID: "s1", SegmentVersion: 3}, now) {
		s = ApplyEnrollment(s, e)
	}
	if s.Enrollment.Status != EnrollmentRunning || !s.Enrollment.StartedAt.Equal(now) {
		t.Fatalf("begin: %+v", s)
	}
	evs, _ := Progress(s, PageOutcome{Examined: 10, Added: 7, Suppressed: 1}, "tok1", now)
	s = ApplyEnrollment(s, evs[0])
	if got := Begin(s, Enrollment{ID: id}, now.Add(1)); got != nil {
		t.Fatalf("a running enrollment resumes without an event, got %v", got)
	}
	f := Fail(s, "leads service", now)
	s = ApplyEnrollment(s, f[0])
	if s.Cursor != "tok1" || s.Enrollment.Status != EnrollmentFailed {
		t.Fatalf("fail keeps the cursor: %+v", s)
	}
	if got := Begin(s, Enrollment{ID: id}, now.Add(1)); got != nil {
		t.Fatalf("a failed enrollment resumes without an event, got %v", got)
	}
	evs, _ = Progress(s, PageOutcome{Examined: 5, Added: 2, AlreadyMembers: 1}, "", now)
	s = ApplyEnrollment(s, evs[0])
	e := s.Enrollment
	if e.Status != EnrollmentDone || e.Examined != 15 || e.Added != 9 || e.AlreadyMembers != 1 || e.Suppressed != 1 || e.Error != "" {
		t.Fatalf("done: %+v", e)
	}
	if _, err := Progress(s, PageOutcome{}, "", now); err == nil {
		t.Fatal("progress on a done enrollment")
	}
	again := Begin(s, Enrollment{ID: id, CampaignID: "c1", SegmentID: "s1", SegmentVersion: 3}, now.Add(48*3600e9))
	if len(again) != 1 || again[0].Cursor != "" || again[0].Enrollment.Added != 0 || again[0].Enrollment.Status != EnrollmentRunning {
		t.Fatalf("a done enrollment restarts from the first page: %+v", again)
	}
}
