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

// Strip clears m's personal fields (reachable through singular message fields and the message
// values of map fields) and reports whether it cleared any. A map entry whose value held only
// personal fields stays, with an empty value: the key (a custom field's name) is not personal,
// and it tells a reader that a value was sealed. The analytics projector uses Strip to scrub
// events stored in clear before sealing existed.
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
		case isMessageMap(fd):
			v.Map().Range(func(_ protoreflect.MapKey, e protoreflect.Value) bool {
				if strip(e.Message()) {
					changed = true
				}
				return true
			})
		case fd.Kind() == protoreflect.MessageKind && fd.Cardinality() != protoreflect.Repeated:
			if strip(v.Message()) {
				changed = true
			}
		}
		return true
	})
	return changed
}

// keepOnly clears everything of m but its personal fields (and the singular message fields and
// map entries leading to them) and reports whether anything is left.
func keepOnly(m protoreflect.Message) bool {
	m.SetUnknown(nil)
	left := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case IsPersonal(fd):
			left = true
		case isMessageMap(fd):
			mp := v.Map()
			var drop []protoreflect.MapKey
			mp.Range(func(k protoreflect.MapKey, e protoreflect.Value) bool {
				if !keepOnly(e.Message()) {
					drop = append(drop, k)
				}
				return true
			})
			for _, k := range drop {
				mp.Clear(k)
			}
			if mp.Len() > 0 {
				left = true
			} else {
				m.Clear(fd)
			}
		case fd.Kind() == protoreflect.MessageKind && fd.Cardinality() != protoreflect.Repeated && keepOnly(v.Message()):
			left = true
		default:
			m.Clear(fd)
		}
		return true
	})
	return left
}

// merge sets the fields of src (the personal fields keepOnly left) into dst (the stripped
// payload), descending into singular message fields and into the message values of map
// fields entry by entry. proto.Merge would not do for maps: it replaces an entry's value
// whole, dropping the value's fields that stayed in clear.
func merge(dst, src protoreflect.Message) {
	src.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case IsPersonal(fd):
			dst.Set(fd, v)
		case isMessageMap(fd):
			dm := dst.Mutable(fd).Map()
			v.Map().Range(func(k protoreflect.MapKey, e protoreflect.Value) bool {
				if !dm.Has(k) {
					dm.Set(k, dm.NewValue())
				}
				merge(dm.Mutable(k).Message(), e.Message())
				return true
			})
		case fd.Kind() == protoreflect.MessageKind && fd.Cardinality() != protoreflect.Repeated:
			merge(dst.Mutable(fd).Message(), v.Message())
		}
		return true
	})
}

// isMessageMap reports whether fd is a map field whose values are messages.
func isMessageMap(fd protoreflect.FieldDescriptor) bool {
	return fd.IsMap() && fd.MapValue().Kind() == protoreflect.MessageKind
}

// UnreachableFields lists personal fields of md that Seal would not find: those below a
// repeated field (whose elements cannot be merged back field by field). Map fields are
// reachable: their message values are sealed and merged back entry by entry, by key. A test
// over every event type keeps the list empty.
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
			switch {
			case isMessageMap(fd):
				walk(fd.MapValue().Message(), underList)
			case fd.Message() != nil && !fd.IsMap():
				walk(fd.Message(), underList || fd.Cardinality() == protoreflect.Repeated)
			}
		}
	}
	walk(md, false)
	return out
}
