// Package protoflag sets fields of a protobuf request from command-line text, so that one flag
// declaration ("--email" → "lead.email") is all a command needs: the field's descriptor says
// how the text is parsed. It knows the well-known types and evcrm's Money and Decimal.
//
// Text forms by field type:
//
//	string, bytes            as written
//	integers, floats, bool   Go syntax (strconv)
//	enum                     the value's name, with or without the type's prefix, any case
//	                         ("new", "LEAD_STATUS_NEW", "marketing-qualified"), or its number
//	Timestamp                RFC 3339 ("2026-01-31T09:00:00Z") or a date ("2026-01-31", UTC)
//	Duration                 Go syntax ("90m", "36h") or days ("30d")
//	FieldMask                comma-separated paths
//	crm.common.v1.Money      "1250.50 EUR", "EUR 1250.50" or "1250.50" (no currency)
//	crm.common.v1.Decimal    the number ("12.5")
//	CustomValue              "string:x", "number:1.5", "bool:true", "date:2026-01-31", or text
//	other messages           protojson ('{"field": ...}')
//
// Repeated scalars take comma-separated values and accumulate over several Set calls; repeated
// messages take one protojson object per call; maps take comma-separated key=value pairs.
package protoflag

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Message names with a text form of their own.
const (
	timestampName = "google.protobuf.Timestamp"
	durationName  = "google.protobuf.Duration"
	fieldMaskName = "google.protobuf.FieldMask"
	moneyName     = "crm.common.v1.Money"
	decimalName   = "crm.common.v1.Decimal"
)

// Field returns the descriptor of the field at path (proto field names joined by dots) in md.
// Every segment but the last must be a singular message field.
func Field(md protoreflect.MessageDescriptor, path string) (protoreflect.FieldDescriptor, error) {
	segs := strings.Split(path, ".")
	for i, seg := range segs {
		fd := md.Fields().ByName(protoreflect.Name(seg))
		if fd == nil {
			return nil, fmt.Errorf("%s has no field %q", md.FullName(), seg)
		}
		if i == len(segs)-1 {
			return fd, nil
		}
		if fd.Kind() != protoreflect.MessageKind || fd.IsList() || fd.IsMap() {
			return nil, fmt.Errorf("%s.%s is not a message field", md.FullName(), seg)
		}
		md = fd.Message()
	}
	return nil, errors.New("empty field path")
}

// Set parses text for the field at path of m and stores it: a singular field is replaced, a
// repeated field or map gains the values.
func Set(m protoreflect.Message, path, text string) error {
	segs := strings.Split(path, ".")
	for _, seg := range segs[:len(segs)-1] {
		fd := m.Descriptor().Fields().ByName(protoreflect.Name(seg))
		if fd == nil || fd.Kind() != protoreflect.MessageKind || fd.IsList() || fd.IsMap() {
			return fmt.Errorf("%s has no message field %q", m.Descriptor().FullName(), seg)
		}
		m = m.Mutable(fd).Message()
	}
	fd := m.Descriptor().Fields().ByName(protoreflect.Name(segs[len(segs)-1]))
	if fd == nil {
		return fmt.Errorf("%s has no field %q", m.Descriptor().FullName(), segs[len(segs)-1])
	}
	switch {
	case fd.IsMap():
		return setMap(m, fd, text)
	case fd.IsList():
		return appendList(m, fd, text)
	default:
		v, err := parse(m, fd, text)
		if err != nil {
			return err
		}
		m.Set(fd, v)
		return nil
	}
}

func setMap(m protoreflect.Message, fd protoreflect.FieldDescriptor, text string) error {
	mp := m.Mutable(fd).Map()
	for _, pair := range splitList(text) {
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			return fmt.Errorf("%q is not key=value", pair)
		}
		key, err := parseScalar(fd.MapKey(), strings.TrimSpace(k))
		if err != nil {
			return err
		}
		val, err := parseValue(mp.NewValue, fd.MapValue(), v)
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		mp.Set(key.MapKey(), val)
	}
	return nil
}

func appendList(m protoreflect.Message, fd protoreflect.FieldDescriptor, text string) error {
	l := m.Mutable(fd).List()
	items := []string{text}
	if fd.Kind() != protoreflect.MessageKind {
		items = splitList(text)
	}
	for _, item := range items {
		v, err := parseValue(l.NewElement, fd, item)
		if err != nil {
			return err
		}
		l.Append(v)
	}
	return nil
}

func parse(m protoreflect.Message, fd protoreflect.FieldDescriptor, text string) (protoreflect.Value, error) {
	return parseValue(func() protoreflect.Value { return m.NewField(fd) }, fd, text)
}

// parseValue parses one value of fd's type; newMsg makes an empty message of that type.
func parseValue(newMsg func() protoreflect.Value, fd protoreflect.FieldDescriptor, text string) (protoreflect.Value, error) {
	if fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind {
		return parseScalar(fd, text)
	}
	v := newMsg()
	if err := parseMessage(v.Message(), text); err != nil {
		return protoreflect.Value{}, err
	}
	return v, nil
}

func parseMessage(m protoreflect.Message, text string) error {
	md := m.Descriptor()
	switch name := md.FullName(); {
	case name == timestampName:
		t, err := ParseTime(text)
		if err != nil {
			return err
		}
		return copyInto(m, timestamppb.New(t).ProtoReflect())
	case name == durationName:
		d, err := ParseDuration(text)
		if err != nil {
			return err
		}
		return copyInto(m, durationpb.New(d).ProtoReflect())
	case name == fieldMaskName:
		return copyInto(m, (&fieldmaskpb.FieldMask{Paths: splitList(text)}).ProtoReflect())
	case name == moneyName:
		return parseMoney(m, text)
	case name == decimalName:
		m.Set(md.Fields().ByName("value"), protoreflect.ValueOfString(strings.TrimSpace(text)))
		return nil
	case name.Name() == "CustomValue":
		return parseCustomValue(m, text)
	default:
		if err := (protojson.UnmarshalOptions{}).Unmarshal([]byte(text), m.Interface()); err != nil {
			return fmt.Errorf("%s as JSON: %w", name, err)
		}
		return nil
	}
}

// copyInto copies src's populated fields into dst, a message of the same type that may be of
// another Go implementation (dynamic or generated).
func copyInto(dst, src protoreflect.Message) error {
	var err error
	src.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		dfd := dst.Descriptor().Fields().ByNumber(fd.Number())
		if dfd == nil {
			err = fmt.Errorf("%s has no field %d", dst.Descriptor().FullName(), fd.Number())
			return false
		}
		dst.Set(dfd, v)
		return true
	})
	return err
}

func parseScalar(fd protoreflect.FieldDescriptor, text string) (protoreflect.Value, error) {
	t := strings.TrimSpace(text)
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(text), nil
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte(text)), nil
	case protoreflect.BoolKind:
		b, err := strconv.ParseBool(t)
		return protoreflect.ValueOfBool(b), err
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n, err := strconv.ParseInt(t, 10, 32)
		return protoreflect.ValueOfInt32(int32(n)), err
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, err := strconv.ParseInt(t, 10, 64)
		return protoreflect.ValueOfInt64(n), err
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n, err := strconv.ParseUint(t, 10, 32)
		return protoreflect.ValueOfUint32(uint32(n)), err
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		n, err := strconv.ParseUint(t, 10, 64)
		return protoreflect.ValueOfUint64(n), err
	case protoreflect.FloatKind:
		f, err := strconv.ParseFloat(t, 32)
		return protoreflect.ValueOfFloat32(float32(f)), err
	case protoreflect.DoubleKind:
		f, err := strconv.ParseFloat(t, 64)
		return protoreflect.ValueOfFloat64(f), err
	case protoreflect.EnumKind:
		n, err := ParseEnum(fd.Enum(), t)
		return protoreflect.ValueOfEnum(n), err
	default:
		return protoreflect.Value{}, fmt.Errorf("unsupported field kind %s", fd.Kind())
	}
}

// EnumPrefix is the prefix the values of ed share by buf's STANDARD rules: the zero value's
// name without "UNSPECIFIED" ("LEAD_STATUS_" for LEAD_STATUS_UNSPECIFIED).
func EnumPrefix(ed protoreflect.EnumDescriptor) string {
	if ed.Values().Len() == 0 {
		return ""
	}
	zero := string(ed.Values().Get(0).Name())
	return strings.TrimSuffix(zero, "UNSPECIFIED")
}

// ParseEnum finds the value of ed named by text: the full name, the name without the type's
// prefix (any case, '-' for '_'), or the number.
func ParseEnum(ed protoreflect.EnumDescriptor, text string) (protoreflect.EnumNumber, error) {
	name := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(text), "-", "_"))
	for _, cand := range []string{name, EnumPrefix(ed) + name} {
		if v := ed.Values().ByName(protoreflect.Name(cand)); v != nil {
			return v.Number(), nil
		}
	}
	if n, err := strconv.ParseInt(name, 10, 32); err == nil && ed.Values().ByNumber(protoreflect.EnumNumber(n)) != nil {
		return protoreflect.EnumNumber(n), nil
	}
	return 0, fmt.Errorf("%q is not one of %s", text, strings.Join(EnumNames(ed), ", "))
}

// EnumNames lists the values of ed without the type's prefix, leaving out the zero value.
func EnumNames(ed protoreflect.EnumDescriptor) []string {
	prefix := EnumPrefix(ed)
	var out []string
	for i := 1; i < ed.Values().Len(); i++ {
		out = append(out, strings.TrimPrefix(string(ed.Values().Get(i).Name()), prefix))
	}
	return out
}

// ParseTime reads RFC 3339 or a calendar date (midnight UTC).
func ParseTime(text string) (time.Time, error) {
	t := strings.TrimSpace(text)
	if ts, err := time.Parse(time.RFC3339Nano, t); err == nil {
		return ts, nil
	}
	if d, err := time.Parse(time.DateOnly, t); err == nil {
		return d, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC 3339 (2026-01-31T09:00:00Z) nor a date (2026-01-31)", text)
}

// ParseDuration reads Go's duration syntax or a whole number of days ("30d").
func ParseDuration(text string) (time.Duration, error) {
	t := strings.TrimSpace(text)
	if days, ok := strings.CutSuffix(t, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (90m, 36h, 30d)", text)
	}
	return d, nil
}

// parseMoney reads "1250.50 EUR", "EUR 1250.50" or "1250.50" exactly into units and nanos.
func parseMoney(m protoreflect.Message, text string) error {
	parts := strings.Fields(text)
	var amount, currency string
	switch len(parts) {
	case 1:
		amount = parts[0]
	case 2:
		amount, currency = parts[0], parts[1]
		if _, err := strconv.ParseFloat(amount, 64); err != nil {
			amount, currency = parts[1], parts[0]
		}
	default:
		return fmt.Errorf("%q is not an amount such as \"1250.50 EUR\"", text)
	}
	units, nanos, err := ParseDecimal(amount)
	if err != nil {
		return err
	}
	f := m.Descriptor().Fields()
	m.Set(f.ByName("currency_code"), protoreflect.ValueOfString(strings.ToUpper(currency)))
	m.Set(f.ByName("units"), protoreflect.ValueOfInt64(units))
	m.Set(f.ByName("nanos"), protoreflect.ValueOfInt32(nanos))
	return nil
}

// ParseDecimal splits a decimal number ("-12.345") into whole units and nano units of the same
// sign, without going through a float.
func ParseDecimal(text string) (units int64, nanos int32, err error) {
	s := strings.ReplaceAll(strings.TrimSpace(text), "_", "")
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	whole, frac, _ := strings.Cut(s, ".")
	bad := fmt.Errorf("%q is not a decimal amount", text)
	if whole == "" && frac == "" || len(frac) > 9 {
		return 0, 0, bad
	}
	if whole == "" {
		whole = "0"
	}
	u, err := strconv.ParseUint(whole, 10, 63)
	if err != nil || u > math.MaxInt64 {
		return 0, 0, bad
	}
	var n uint64
	if frac != "" {
		if n, err = strconv.ParseUint(frac+strings.Repeat("0", 9-len(frac)), 10, 32); err != nil {
			return 0, 0, bad
		}
	}
	units, nanos = int64(u), int32(n)
	if neg {
		units, nanos = -units, -nanos
	}
	return units, nanos, nil
}

// parseCustomValue reads "kind:value" into the oneof of a CustomValue (leads' or pipeline's).
func parseCustomValue(m protoreflect.Message, text string) error {
	kind, val, ok := strings.Cut(text, ":")
	fields := m.Descriptor().Fields()
	if ok {
		if fd := fields.ByName(protoreflect.Name(kind + "_value")); fd != nil {
			v, err := parseScalar(fd, val)
			if err != nil {
				return err
			}
			m.Set(fd, v)
			return nil
		}
	}
	m.Set(fields.ByName("string_value"), protoreflect.ValueOfString(text))
	return nil
}

// Hint is a short description of the text a field takes, for a flag's usage line; empty for
// a plain scalar, whose flag type says enough.
func Hint(fd protoreflect.FieldDescriptor) string {
	var h string
	switch {
	case fd.IsMap():
		return "key=value,..."
	case fd.Kind() == protoreflect.EnumKind:
		h = strings.ReplaceAll(strings.ToLower(strings.Join(EnumNames(fd.Enum()), "|")), "_", "-")
	case fd.Kind() == protoreflect.MessageKind:
		switch name := fd.Message().FullName(); {
		case name == timestampName:
			h = "RFC 3339 time or YYYY-MM-DD"
		case name == durationName:
			h = "duration, e.g. 36h or 30d"
		case name == fieldMaskName:
			return "field paths, comma-separated"
		case name == moneyName:
			h = "amount, e.g. \"1250.50 EUR\""
		case name == decimalName:
			h = "decimal number"
		case name.Name() == "CustomValue":
			h = "kind:value"
		default:
			h = "JSON " + string(name.Name())
		}
	case !fd.IsList():
		return "" // the flag's type says it all
	default:
		h = fd.Kind().String()
	}
	if fd.IsList() {
		if fd.Kind() == protoreflect.MessageKind {
			return h + ", repeatable"
		}
		return h + ", comma-separated or repeated"
	}
	return h
}

// splitList splits comma-separated values, trimming blanks and dropping empty ones.
func splitList(text string) []string {
	var out []string
	for _, p := range strings.Split(text, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
