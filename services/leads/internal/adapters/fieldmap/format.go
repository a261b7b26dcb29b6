package fieldmap

import (
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Format writes the value at path as Row reads it back, "" for an unset or zero value: strings
// as they are, enums by their short lower-case name ("web_form"), amounts as "12345.67 EUR",
// times in RFC 3339, lists joined by ";", custom values as text.
func Format(msg protoreflect.Message, path string) string {
	if name, ok := strings.CutPrefix(path, CustomPrefix); ok {
		fd := msg.Descriptor().Fields().ByName("custom_fields")
		if fd == nil || !msg.Has(fd) {
			return ""
		}
		v := msg.Get(fd).Map().Get(protoreflect.ValueOfString(name).MapKey())
		if !v.IsValid() {
			return ""
		}
		return customText(v.Message().Interface().(*leadsv1.CustomValue))
	}
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		fd := msg.Descriptor().Fields().ByName(protoreflect.Name(p))
		if fd == nil || !msg.Has(fd) {
			return ""
		}
		msg = msg.Get(fd).Message()
	}
	fd := msg.Descriptor().Fields().ByName(protoreflect.Name(parts[len(parts)-1]))
	if fd == nil || !msg.Has(fd) {
		return ""
	}
	v := msg.Get(fd)
	if fd.IsList() {
		items := make([]string, 0, v.List().Len())
		for i := range v.List().Len() {
			items = append(items, formatScalar(fd, v.List().Get(i)))
		}
		return strings.Join(items, ";")
	}
	return formatScalar(fd, v)
}

func formatScalar(fd protoreflect.FieldDescriptor, v protoreflect.Value) string {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return v.String()
	case protoreflect.BoolKind:
		return strconv.FormatBool(v.Bool())
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind,
		protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return strconv.FormatInt(v.Int(), 10)
	case protoreflect.EnumKind:
		ev := fd.Enum().Values().ByNumber(v.Enum())
		if ev == nil {
			return strconv.Itoa(int(v.Enum()))
		}
		return strings.ToLower(strings.TrimPrefix(string(ev.Name()), enumPrefix(fd.Enum())))
	case protoreflect.MessageKind:
		switch m := v.Message().Interface().(type) {
		case *commonv1.Money:
			return FormatMoney(m)
		case *timestamppb.Timestamp:
			return m.AsTime().UTC().Format(time.RFC3339Nano)
		}
	}
	return ""
}

func customText(cv *leadsv1.CustomValue) string {
	switch x := cv.GetValue().(type) {
	case *leadsv1.CustomValue_StringValue:
		return x.StringValue
	case *leadsv1.CustomValue_NumberValue:
		return strconv.FormatFloat(x.NumberValue, 'f', -1, 64)
	case *leadsv1.CustomValue_BoolValue:
		return strconv.FormatBool(x.BoolValue)
	case *leadsv1.CustomValue_DateValue:
		return x.DateValue
	}
	return ""
}
