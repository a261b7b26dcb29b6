package fieldmap

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/evcrm/evcrm/libs/customfield"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
)

// FieldError is one cell that could not be mapped.
type FieldError struct {
	// Field is the path, e.g. "annual_revenue".
	Field string
	// Column is the header the value came from.
	Column      string
	Description string
}

// CustomTypes tells the type of a tenant's custom field; ok is false for an undeclared one.
type CustomTypes func(name string) (t customfield.Type, ok bool)

// Row maps the values of one row onto msg (a fresh message of the object's type), column by
// column as cols says. Empty cells are left unset. It returns the paths it set, in column
// order, and one error per cell whose value does not parse; a cell that fails sets nothing.
func Row(msg protoreflect.Message, cols []Column, values []string, custom CustomTypes) (set []string, errs []FieldError) {
	for i, c := range cols {
		if c.Field == "" || c.Field == AccountNamePath || i >= len(values) {
			continue
		}
		v := strings.TrimSpace(values[i])
		if v == "" {
			continue
		}
		if err := SetPath(msg, c.Field, v, custom); err != nil {
			errs = append(errs, FieldError{Field: c.Field, Column: c.Header, Description: err.Error()})
			continue
		}
		set = append(set, c.Field)
	}
	return set, errs
}

// SetPath parses text as the value of the field at path and sets it on msg.
func SetPath(msg protoreflect.Message, path, text string, custom CustomTypes) error {
	if name, ok := strings.CutPrefix(path, CustomPrefix); ok {
		return setCustom(msg, name, text, custom)
	}
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		fd := msg.Descriptor().Fields().ByName(protoreflect.Name(p))
		if fd == nil || fd.Kind() != protoreflect.MessageKind || fd.IsList() || fd.IsMap() {
			return fmt.Errorf("unknown field %q", path)
		}
		msg = msg.Mutable(fd).Message()
	}
	fd := msg.Descriptor().Fields().ByName(protoreflect.Name(parts[len(parts)-1]))
	if fd == nil || fd.IsMap() {
		return fmt.Errorf("unknown field %q", path)
	}
	if fd.IsList() {
		list := msg.Mutable(fd).List()
		for _, item := range splitList(text) {
			v, err := scalar(fd, item)
			if err != nil {
				return err
			}
			list.Append(v)
		}
		return nil
	}
	v, err := scalar(fd, text)
	if err != nil {
		return err
	}
	msg.Set(fd, v)
	return nil
}

// splitList splits a list cell: on ";" when it holds one, else on ",". Empty items are dropped.
func splitList(s string) []string {
	sep := ","
	if strings.Contains(s, ";") {
		sep = ";"
	}
	var out []string
	for _, item := range strings.Split(s, sep) {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func scalar(fd protoreflect.FieldDescriptor, s string) (protoreflect.Value, error) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(s), nil
	case protoreflect.BoolKind:
		b, err := ParseBool(s)
		return protoreflect.ValueOfBool(b), err
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, err := parseInt(s)
		return protoreflect.ValueOfInt64(n), err
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n, err := parseInt(s)
		if err == nil && (n > math.MaxInt32 || n < math.MinInt32) {
			err = fmt.Errorf("%q is out of range", s)
		}
		return protoreflect.ValueOfInt32(int32(n)), err
	case protoreflect.EnumKind:
		n, err := ParseEnum(fd.Enum(), s)
		return protoreflect.ValueOfEnum(n), err
	case protoreflect.MessageKind:
		switch fd.Message().FullName() {
		case "crm.common.v1.Money":
			m, err := ParseMoney(s)
			if err != nil {
				return protoreflect.Value{}, err
			}
			return protoreflect.ValueOfMessage(m.ProtoReflect()), nil
		case "google.protobuf.Timestamp":
			t, err := ParseTime(s)
			if err != nil {
				return protoreflect.Value{}, err
			}
			return protoreflect.ValueOfMessage(timestamppb.New(t).ProtoReflect()), nil
		}
	}
	return protoreflect.Value{}, fmt.Errorf("cannot be imported from text")
}

func parseInt(s string) (int64, error) {
	clean := strings.NewReplacer(" ", "", "_", "", "\u00a0", "").Replace(s)
	n, err := strconv.ParseInt(clean, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number", s)
	}
	return n, nil
}

// ParseBool reads true/false, yes/no, y/n, 1/0, on/off in any case.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "y", "1", "on", "x":
		return true, nil
	case "false", "no", "n", "0", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a yes/no value (true/false, yes/no, 1/0)", s)
}

// ParseEnum finds an enum value by name, case-insensitively, with or without the enum's
// prefix, spaces and hyphens read as underscores: "web form", "WEB_FORM" and
// "LEAD_SOURCE_WEB_FORM" are LEAD_SOURCE_WEB_FORM. The _UNSPECIFIED value is not accepted.
func ParseEnum(ed protoreflect.EnumDescriptor, s string) (protoreflect.EnumNumber, error) {
	want := strings.ToUpper(strings.NewReplacer(" ", "_", "-", "_").Replace(strings.TrimSpace(s)))
	values := ed.Values()
	prefix := enumPrefix(ed)
	var names []string
	for i := range values.Len() {
		v := values.Get(i)
		name := string(v.Name())
		if strings.HasSuffix(name, "_UNSPECIFIED") {
			continue
		}
		short := strings.TrimPrefix(name, prefix)
		names = append(names, strings.ToLower(short))
		if want == name || want == short {
			return v.Number(), nil
		}
	}
	return 0, fmt.Errorf("%q is not one of %s", s, strings.Join(names, ", "))
}

// enumPrefix is the buf-style prefix of an enum's values: its name in upper snake case and "_".
func enumPrefix(ed protoreflect.EnumDescriptor) string {
	var b strings.Builder
	for i, r := range string(ed.Name()) {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String()) + "_"
}

// ParseMoney reads "12345.67 EUR", "EUR 12345.67" or "EUR12345.67" (a dot as the decimal
// separator, optional thousands commas or spaces, at most nine decimals). The currency is
// required.
func ParseMoney(s string) (*commonv1.Money, error) {
	t := strings.TrimSpace(s)
	cur, amount := "", t
	switch {
	case len(t) > 3 && isAlpha(t[:3]):
		cur, amount = t[:3], t[3:]
	case len(t) > 3 && isAlpha(t[len(t)-3:]):
		cur, amount = t[len(t)-3:], t[:len(t)-3]
	default:
		return nil, fmt.Errorf("%q: write an amount with its currency, e.g. \"12345.67 EUR\"", s)
	}
	amount = strings.NewReplacer(" ", "", ",", "", "\u00a0", "").Replace(amount)
	neg := strings.HasPrefix(amount, "-")
	amount = strings.TrimPrefix(amount, "-")
	whole, frac, _ := strings.Cut(amount, ".")
	if whole == "" || !isDigits(whole) || !isDigits(frac) || len(frac) > 9 {
		return nil, fmt.Errorf("%q is not an amount like \"12345.67 EUR\"", s)
	}
	units, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%q is out of range", s)
	}
	nanos := int64(0)
	if frac != "" {
		nanos, _ = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
	}
	if neg {
		units, nanos = -units, -nanos
	}
	return &commonv1.Money{CurrencyCode: strings.ToUpper(cur), Units: units, Nanos: int32(nanos)}, nil
}

// FormatMoney writes m as ParseMoney reads it ("12345.67 EUR"); "" for nil.
func FormatMoney(m *commonv1.Money) string {
	if m == nil || (m.GetUnits() == 0 && m.GetNanos() == 0 && m.GetCurrencyCode() == "") {
		return ""
	}
	units, nanos := m.GetUnits(), m.GetNanos()
	sign := ""
	if units < 0 || nanos < 0 {
		sign, units, nanos = "-", -units, -nanos
	}
	s := sign + strconv.FormatInt(units, 10)
	if nanos != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%09d", nanos), "0")
	}
	return s + " " + m.GetCurrencyCode()
}

func isAlpha(s string) bool {
	for i := range len(s) {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ParseTime reads RFC 3339 or a date (YYYY-MM-DD, midnight UTC).
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD) or RFC 3339 time", s)
}

// setCustom sets custom_fields[name], typed by the tenant's definition. An undeclared field is
// set as a string so the request mapping rejects it with the API's own message.
func setCustom(msg protoreflect.Message, name, text string, custom CustomTypes) error {
	if !customfield.ValidName(name) {
		return fmt.Errorf("a custom field name must match [a-z][a-z0-9_]{0,62}")
	}
	fd := msg.Descriptor().Fields().ByName("custom_fields")
	if fd == nil || !fd.IsMap() {
		return fmt.Errorf("this record has no custom fields")
	}
	typ := customfield.TypeString
	if custom != nil {
		if t, ok := custom(name); ok {
			typ = t
		}
	}
	cv := &leadsv1.CustomValue{}
	switch typ {
	case customfield.TypeNumber:
		f, err := strconv.ParseFloat(strings.ReplaceAll(text, ",", ""), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%q is not a number", text)
		}
		cv.Value = &leadsv1.CustomValue_NumberValue{NumberValue: f}
	case customfield.TypeBool:
		b, err := ParseBool(text)
		if err != nil {
			return err
		}
		cv.Value = &leadsv1.CustomValue_BoolValue{BoolValue: b}
	case customfield.TypeDate:
		t, err := ParseTime(text)
		if err != nil {
			return err
		}
		cv.Value = &leadsv1.CustomValue_DateValue{DateValue: t.Format(time.DateOnly)}
	default:
		cv.Value = &leadsv1.CustomValue_StringValue{StringValue: text}
	}
	msg.Mutable(fd).Map().Set(protoreflect.ValueOfString(name).MapKey(), protoreflect.ValueOfMessage(cv.ProtoReflect()))
	return nil
}
