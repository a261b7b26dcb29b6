package pii

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
)

// IsPersonal reports whether a field carries the (crm.events.v1.pii) option.
func IsPersonal(fd protoreflect.FieldDescriptor) bool {
	opts := fd.Options()
	if opts == nil {
		return false
	}
	v, _ := proto.GetExtension(opts, eventsv1.E_Pii).(bool)
	return v
}

// Strip clears m's personal fields (reachable through singular message fields) and reports
// whether it cleared any. The analytics projector uses it to scrub events stored in clear
// before sealing existed.
func Strip(m proto.Message) bool {
	return strip(m.ProtoReflect())
}

func strip(m protoreflect.Message) bool {
	changed := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case IsPersonal(fd):
			m.Clear(fd)
			changed = true
		case fd.Kind() == protoreflect.MessageKind && fd.Cardinality() != protoreflect.Repeated:
			if strip(v.Message()) {
				changed = true
			}
		}
		return true
	})
	return changed
}

// keepOnly clears everything of m but its personal fields (and the singular message fields
// leading to them) and reports whether anything is left.
func keepOnly(m protoreflect.Message) bool {
	m.SetUnknown(nil)
	left := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case IsPersonal(fd):
			left = true
		case fd.Kind() == protoreflect.MessageKind && fd.Cardinality() != protoreflect.Repeated && keepOnly(v.Message()):
			left = true
		default:
			m.Clear(fd)
		}
		return true
	})
	return left
}

// UnreachableFields lists personal fields of md that Seal would not find: those below a
// repeated or map field (whose elements cannot be merged back field by field). A test over
// every event type keeps the list empty.
func UnreachableFields(md protoreflect.MessageDescriptor) []protoreflect.FullName {
	var out []protoreflect.FullName
	seen := map[protoreflect.FullName]bool{}
	var walk func(md protoreflect.MessageDescriptor, underList bool)
	walk = func(md protoreflect.MessageDescriptor, underList bool) {
		key := md.FullName()
		if underList {
			key += "[]"
		}
		if seen[key] {
			return
		}
		seen[key] = true
		fs := md.Fields()
		for i := range fs.Len() {
			fd := fs.Get(i)
			if IsPersonal(fd) && underList {
				out = append(out, fd.FullName())
			}
			if fd.Message() != nil {
				walk(fd.Message(), underList || fd.Cardinality() == protoreflect.Repeated)
			}
		}
	}
	walk(md, false)
	return out
}
