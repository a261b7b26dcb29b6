package config

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// fieldValue reads and writes one struct field in flag syntax.
type fieldValue struct {
	v reflect.Value
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	stringsType  = reflect.TypeFor[[]string]()
)

func newFieldValue(v reflect.Value) (*fieldValue, error) {
	if reflect.PointerTo(v.Type()).Implements(textUnmarshalerType) {
		return &fieldValue{v: v}, nil
	}
	switch v.Type() {
	case durationType, stringsType:
		return &fieldValue{v: v}, nil
	}
	switch v.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Uint, reflect.Uint64, reflect.Float64:
		return &fieldValue{v: v}, nil
	}
	return nil, fmt.Errorf("unsupported type %s", v.Type())
}

func (f *fieldValue) set(s string) error {
	v := f.v
	if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		return u.UnmarshalText([]byte(s))
	}
	switch v.Type() {
	case durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("not a duration (e.g. 15s, 2m): %w", err)
		}
		v.SetInt(int64(d))
		return nil
	case stringsType:
		var out []string
		for p := range strings.SplitSeq(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		v.Set(reflect.ValueOf(out))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("not a boolean (true/false)")
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s, 0, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("not an integer")
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint64:
		n, err := strconv.ParseUint(s, 0, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("not a non-negative integer")
		}
		v.SetUint(n)
	case reflect.Float64:
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("not a number")
		}
		v.SetFloat(n)
	default:
		return fmt.Errorf("unsupported type %s", v.Type())
	}
	return nil
}

func (f *fieldValue) String() string {
	if f == nil || !f.v.IsValid() {
		return ""
	}
	v := f.v
	if m, ok := v.Interface().(encoding.TextMarshaler); ok {
		b, err := m.MarshalText()
		if err != nil {
			return ""
		}
		return string(b)
	}
	switch v.Type() {
	case durationType:
		return time.Duration(v.Int()).String()
	case stringsType:
		return strings.Join(v.Interface().([]string), ",")
	}
	return fmt.Sprint(v.Interface())
}

// typeName is the placeholder shown after the flag in usage; "" for booleans, which take none.
func (f *fieldValue) typeName() string {
	v := f.v
	if reflect.PointerTo(v.Type()).Implements(textUnmarshalerType) {
		return "value"
	}
	switch v.Type() {
	case durationType:
		return "duration"
	case stringsType:
		return "list"
	}
	switch v.Kind() {
	case reflect.Bool:
		return ""
	case reflect.Int, reflect.Int64:
		return "int"
	case reflect.Uint, reflect.Uint64:
		return "uint"
	case reflect.Float64:
		return "float"
	}
	return "string"
}
