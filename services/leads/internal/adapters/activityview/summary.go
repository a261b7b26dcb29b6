package activityview

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/domain/activity"
	"github.com/evcrm/evcrm/services/leads/internal/domain/task"
)

// Summaries are one line for people. They name fields, statuses and ids but never copy
// personal values (names, emails, phones) out of the event: the timeline must not become a
// second place personal data has to be erased from.

// recordSummary describes a lead, contact or account event. Events it does not know (added
// later, or written by a newer version) still get a line: "Created" for *Created, the changed
// fields for messages with changed_fields, else the event's name in words.
func recordSummary(msg proto.Message) string {
	switch m := msg.(type) {
	case *leadsv1.LeadStatusChanged:
		s := fmt.Sprintf("Status %s → %s", enumName(m.GetFrom()), enumName(m.GetTo()))
		if m.GetAutomatic() {
			s += " (automatic)"
		}
		return s
	case *leadsv1.LeadAssigned:
		if m.GetOwnerId() == "" {
			return "Unassigned"
		}
		return "Assigned to " + m.GetOwnerId()
	case *leadsv1.LeadTerritoryChanged:
		return fmt.Sprintf("Territory %s → %s", orNone(m.GetPreviousTerritoryId()), orNone(m.GetTerritoryId()))
	case *leadsv1.LeadTagsAdded:
		return "Tagged " + strings.Join(m.GetTags(), ", ")
	case *leadsv1.LeadTagsRemoved:
		return "Untagged " + strings.Join(m.GetTags(), ", ")
	case *leadsv1.BantUpdated:
		return "BANT updated"
	case *leadsv1.EngagementRecorded:
		return fmt.Sprintf("Engagement %s (%+d points)", enumName(m.GetSignal()), m.GetPoints())
	case *leadsv1.LeadScored:
		return fmt.Sprintf("Scored %d (fit %d, engagement %d, %s)", m.GetScore().GetTotal(), m.GetScore().GetFit(),
			m.GetScore().GetEngagement(), enumName(m.GetScore().GetTemperature()))
	case *leadsv1.LeadMerged:
		return "Merged lead " + m.GetMergedLeadId() + " into this one"
	case *leadsv1.LeadMergedInto:
		return "Merged into lead " + m.GetSurvivorLeadId()
	case *leadsv1.LeadConverted:
		s := "Converted into account " + m.GetAccountId() + " and contact " + m.GetContactId()
		if m.GetOpportunityId() != "" {
			s += ", opportunity " + m.GetOpportunityId()
		}
		return s
	case *leadsv1.LeadOpportunityWon:
		s := "Opportunity " + m.GetOpportunityId() + " won"
		if d := m.GetCloseDate(); d != "" {
			s += ", closed " + d
		}
		return s
	}
	name := string(msg.ProtoReflect().Descriptor().Name())
	if strings.HasSuffix(name, "Created") {
		return "Created"
	}
	if fd := msg.ProtoReflect().Descriptor().Fields().ByName("changed_fields"); fd != nil && fd.IsList() && fd.Kind() == protoreflect.StringKind {
		list := msg.ProtoReflect().Get(fd).List()
		fields := make([]string, list.Len())
		for i := range list.Len() {
			fields[i] = list.Get(i).String()
		}
		return "Changed " + strings.Join(fields, ", ")
	}
	return words(name)
}

// enumName is a proto enum value's name without its type prefix: LEAD_STATUS_NEW → NEW.
func enumName(e interface {
	String() string
	Descriptor() protoreflect.EnumDescriptor
}) string {
	prefix := strings.ToUpper(camelToSnake(string(e.Descriptor().Name()))) + "_"
	return strings.TrimPrefix(e.String(), prefix)
}

func camelToSnake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) && i > 0 {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// words turns an event name into a sentence: LeadTagsAdded → "Lead tags added".
func words(name string) string {
	w := strings.ToLower(strings.ReplaceAll(camelToSnake(name), "_", " "))
	if w == "" {
		return name
	}
	return strings.ToUpper(w[:1]) + w[1:]
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// activitySummary is e.g. "Call (outbound): Intro call — connected".
func activitySummary(a activity.Activity) string {
	kind := strings.ToLower(a.Kind.String())
	s := strings.ToUpper(kind[:1]) + kind[1:]
	if a.Direction != activity.DirectionUnspecified {
		s += " (" + strings.ToLower(a.Direction.String()) + ")"
	}
	s += ": " + a.Subject
	if a.Outcome != "" {
		s += " — " + a.Outcome
	}
	if a.Duration > 0 {
		s += fmt.Sprintf(" (%s)", a.Duration.Round(time.Second))
	}
	return s
}

// taskSummary describes a task event with the task as it was after it.
func taskSummary(e task.Event, t task.Task) string {
	switch e := e.(type) {
	case task.TaskCreated:
		s := fmt.Sprintf("Task created for %s: %s", t.AssigneeID, t.Subject)
		if !t.DueAt.IsZero() {
			s += ", due " + t.DueAt.Format("2006-01-02 15:04 MST")
		}
		return s
	case task.TaskUpdated:
		return fmt.Sprintf("Task changed (%s): %s", strings.Join(e.Changed, ", "), t.Subject)
	case task.TaskStatusChanged:
		verb := map[task.Status]string{task.StatusDone: "completed", task.StatusCancelled: "cancelled", task.StatusOpen: "reopened"}[e.To]
		return fmt.Sprintf("Task %s: %s", verb, t.Subject)
	}
	return "Task: " + t.Subject
}
