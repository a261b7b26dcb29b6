package protomap

import (
	"encoding/json"
	"strings"
	"sync"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	_ "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1" // registers the pipeline events
	"github.com/evcrm/evcrm/services/campaign/internal/domain/member"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/rule"
)

// ruleEventPackages are the packages whose events rules may trigger on: the three CRM streams.
var ruleEventPackages = []protoreflect.FullName{"crm.leads.v1", "crm.pipeline.v1", "crm.campaign.v1"}

// notTriggers are events of the streams that rules may not trigger on: the rules' own
// bookkeeping, which would let a rule react to rules running.
var notTriggers = map[string]bool{"RuleSaved": true, "RuleEnabledChanged": true, "RuleDeleted": true,
	"RuleRunRecorded": true, "EmailRequested": true, "NotificationRequested": true}

// leadEvents are the events of the lead aggregate (the others of crm.leads.v1's events.proto
// belong to the tenant's lead configuration and have no record).
var leadEvents = map[string]bool{"LeadCreated": true, "LeadDetailsUpdated": true, "LeadStatusChanged": true,
	"BantUpdated": true, "LeadAssigned": true, "LeadTerritoryChanged": true, "LeadTagsAdded": true,
	"LeadTagsRemoved": true, "EngagementRecorded": true, "LeadScored": true, "LeadMerged": true,
	"LeadMergedInto": true, "LeadConverted": true, "LeadOpportunityWon": true}

// contactEvents are the events of the contact aggregate.
var contactEvents = map[string]bool{"ContactCreated": true, "ContactUpdated": true}

// memberEvents are the campaign events about a lead or a contact.
var memberEvents = map[string]bool{"CampaignMemberAdded": true, "CampaignMemberResponded": true}

var (
	catalogOnce sync.Once
	catalog     rule.Catalog
)

// RuleCatalog is every event type of the CRM streams a rule may trigger on, with the fields of
// its payload and record, built once from the generated protobuf registry: an event added to
// a proto file is a trigger as soon as the service is rebuilt.
func RuleCatalog() rule.Catalog {
	catalogOnce.Do(func() { catalog = buildCatalog() })
	return catalog
}

func buildCatalog() rule.Catalog {
	lead := schemaOf((&leadsv1.Lead{}).ProtoReflect().Descriptor(), 0)
	contact := schemaOf((&leadsv1.Contact{}).ProtoReflect().Descriptor(), 0)
	person := union(lead, contact)
	cat := rule.Catalog{}
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if !isRulePackage(fd.Package()) || !strings.HasSuffix(fd.Path(), "events.proto") {
			return true
		}
		msgs := fd.Messages()
		parts := map[protoreflect.FullName]bool{}
		for i := range msgs.Len() {
			fs := msgs.Get(i).Fields()
			for j := range fs.Len() {
				if m := fs.Get(j).Message(); m != nil {
					parts[m.FullName()] = true
				}
			}
		}
		for i := range msgs.Len() {
			md := msgs.Get(i)
			name := string(md.Name())
			// A message of an events file that other events carry (pipeline's Deal) is part of
			// an event, not an event.
			if parts[md.FullName()] || notTriggers[name] {
				continue
			}
			es := rule.EventSchema{Payload: schemaOf(md, 0)}
			switch {
			case fd.Package() == "crm.leads.v1" && leadEvents[name]:
				es.Record, es.RecordType = lead, rule.RecordLead
			case fd.Package() == "crm.leads.v1" && contactEvents[name]:
				es.Record, es.RecordType = contact, rule.RecordContact
			case fd.Package() == "crm.campaign.v1" && memberEvents[name]:
				es.Record, es.RecordType = person, rule.RecordPerson
			}
			cat[name] = es
		}
		return true
	})
	return cat
}

func isRulePackage(p protoreflect.FullName) bool {
	for _, q := range ruleEventPackages {
		if p == q {
			return true
		}
	}
	return false
}

// scalarOf names the field a condition compares when it names a whole message of this type.
var scalarOf = map[protoreflect.FullName]string{"crm.leads.v1.Score": "total"}

// maxSchemaDepth stops recursive message types.
const maxSchemaDepth = 8

// schemaOf describes a message's fields by their proto names, as protojson writes them with
// UseProtoNames.
func schemaOf(md protoreflect.MessageDescriptor, depth int) *rule.Field {
	switch md.FullName() {
	case "google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask":
		return &rule.Field{Kind: rule.KindString}
	case "google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.Any", "google.protobuf.ListValue":
		return &rule.Field{Kind: rule.KindAny}
	}
	if strings.HasPrefix(string(md.FullName()), "google.protobuf.") && strings.HasSuffix(string(md.Name()), "Value") {
		return &rule.Field{Kind: rule.KindAny} // wrappers: protojson writes the bare value
	}
	if depth > maxSchemaDepth {
		return &rule.Field{Kind: rule.KindAny}
	}
	f := &rule.Field{Kind: rule.KindMessage, Fields: map[string]*rule.Field{}, Scalar: scalarOf[md.FullName()]}
	fs := md.Fields()
	for i := range fs.Len() {
		fd := fs.Get(i)
		var c *rule.Field
		switch {
		case fd.IsMap():
			c = &rule.Field{Kind: rule.KindMap}
		case fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind:
			c = schemaOf(fd.Message(), depth+1)
		default:
			c = &rule.Field{Kind: scalarKind(fd.Kind())}
		}
		if fd.IsList() {
			cc := *c
			cc.Repeated = true
			c = &cc
		}
		f.Fields[string(fd.Name())] = c
	}
	return f
}

func scalarKind(k protoreflect.Kind) rule.Kind {
	switch k {
	case protoreflect.BoolKind:
		return rule.KindBool
	case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.EnumKind:
		return rule.KindString
	}
	return rule.KindNumber
}

// union is a message schema with the fields of both (a member's record is a lead or a
// contact); a field both have keeps a's description.
func union(a, b *rule.Field) *rule.Field {
	f := &rule.Field{Kind: rule.KindMessage, Fields: map[string]*rule.Field{}}
	for k, v := range b.Fields {
		f.Fields[k] = v
	}
	for k, v := range a.Fields {
		f.Fields[k] = v
	}
	return f
}

var valuesJSON = protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}

// RuleValues is m as the condition language reads it: the protojson form with proto field
// names, every field present (unset ones at their zero value).
func RuleValues(m proto.Message) (map[string]any, error) {
	if m == nil {
		return nil, nil
	}
	b, err := valuesJSON.Marshal(m)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	shortEnums(m.ProtoReflect().Descriptor(), out, 0)
	return out, nil
}

// shortEnums rewrites enum values without their type's prefix ("LEAD_STATUS_MARKETING_QUALIFIED"
// → "MARKETING_QUALIFIED"), the way people write them in conditions.
func shortEnums(md protoreflect.MessageDescriptor, m map[string]any, depth int) {
	if depth > maxSchemaDepth || m == nil {
		return
	}
	fs := md.Fields()
	for i := range fs.Len() {
		fd := fs.Get(i)
		name := string(fd.Name())
		v, ok := m[name]
		if !ok || v == nil {
			continue
		}
		switch {
		case fd.IsMap():
			if vd := fd.MapValue(); vd.Kind() == protoreflect.MessageKind {
				if mm, ok := v.(map[string]any); ok {
					for _, x := range mm {
						sub, _ := x.(map[string]any)
						shortEnums(vd.Message(), sub, depth+1)
					}
				}
			}
		case fd.Kind() == protoreflect.EnumKind:
			prefix := enumPrefix(fd.Enum())
			if list, ok := v.([]any); ok {
				for j, x := range list {
					if s, ok := x.(string); ok {
						list[j] = strings.TrimPrefix(s, prefix)
					}
				}
			} else if s, ok := v.(string); ok {
				m[name] = strings.TrimPrefix(s, prefix)
			}
		case fd.Kind() == protoreflect.MessageKind:
			if list, ok := v.([]any); ok {
				for _, x := range list {
					sub, _ := x.(map[string]any)
					shortEnums(fd.Message(), sub, depth+1)
				}
			} else if sub, ok := v.(map[string]any); ok {
				shortEnums(fd.Message(), sub, depth+1)
			}
		}
	}
}

// enumPrefix is what the buf STANDARD naming puts before every value of an enum: its zero
// value's name without "UNSPECIFIED" (LEAD_STATUS_UNSPECIFIED → LEAD_STATUS_).
func enumPrefix(ed protoreflect.EnumDescriptor) string {
	if ed.Values().Len() == 0 {
		return ""
	}
	zero := string(ed.Values().Get(0).Name())
	if p, ok := strings.CutSuffix(zero, "UNSPECIFIED"); ok {
		return p
	}
	return ""
}

// MemberPerson returns the person a member event is about.
func MemberPerson(m proto.Message) (campaignv1.MemberType, string, bool) {
	switch e := m.(type) {
	case *campaignv1.CampaignMemberResponded:
		return e.GetMemberType(), e.GetPersonId(), true
	case *campaignv1.CampaignMemberAdded:
		return e.GetMember().GetType(), e.GetMember().GetPersonId(), true
	}
	return 0, "", false
}

// RuleMemberType maps a member type for the rule engine (the numbers agree).
func RuleMemberType(t campaignv1.MemberType) member.Type { return member.Type(t) }
