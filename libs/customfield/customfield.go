// Package customfield defines tenant-declared custom fields and their typed values, shared by the
// services' domains (leads, contacts, accounts, opportunities). A record may only carry values of
// fields its tenant declared for it, of the declared type.
package customfield

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/evcrm/evcrm/libs/apperr"
)

// Type is the type of a custom field's values.
type Type int

// Types of custom fields. The zero value is not a valid type.
const (
	TypeUnspecified Type = iota
	TypeString
	TypeNumber
	TypeBool
	TypeDate
)

var typeNames = [...]string{"unspecified", "string", "number", "bool", "date"}

// String returns the lower-case name of t.
func (t Type) String() string {
	if t >= 0 && int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// Valid reports whether t is a defined type other than TypeUnspecified.
func (t Type) Valid() bool { return t > TypeUnspecified && t <= TypeDate }

// Limits of definitions and values.
const (
	MaxLabelLen  = 200
	MaxStringLen = 1000
	// DateLayout is the form of date values: a calendar date without time zone.
	DateLayout = "2006-01-02"
)

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// ValidName reports whether name is a valid custom field name: [a-z][a-z0-9_]{0,62}. Names are
// field-mask path segments ("custom_fields.<name>"), hence the restriction.
func ValidName(name string) bool { return nameRE.MatchString(name) }

// Definition declares a custom field of a tenant.
type Definition struct {
	// Name is the key of the field in a lead's custom fields: [a-z][a-z0-9_]{0,62}.
	Name string
	// Type of the field's values; it cannot change once defined, because stored values would
	// stop matching it.
	Type Type
	// Label is shown in user interfaces.
	Label string
	// Required fields must have a value on create and cannot be cleared.
	Required bool
}

// Validate adds a violation per bad field of d, with paths under prefix (e.g. "field.").
func (d Definition) Validate(prefix string, v *apperr.Violations) {
	if !ValidName(d.Name) {
		v.Add(prefix+"name", "must match [a-z][a-z0-9_]{0,62}")
	}
	if !d.Type.Valid() {
		v.Add(prefix+"type", "must be string, number, bool or date")
	}
	if utf8.RuneCountInString(d.Label) > MaxLabelLen {
		v.Add(prefix+"label", "must be at most %d characters", MaxLabelLen)
	}
}

// Value is a typed custom field value: Type says which of the other fields holds it. Values are
// comparable with ==.
type Value struct {
	Type Type
	// String holds a TypeString value.
	String string
	// Number holds a TypeNumber value; never NaN or infinite.
	Number float64
	// Bool holds a TypeBool value.
	Bool bool
	// Date holds a TypeDate value as YYYY-MM-DD (DateLayout).
	Date string
}

// StringValue returns a string value.
func StringValue(s string) Value { return Value{Type: TypeString, String: s} }

// NumberValue returns a number value.
func NumberValue(f float64) Value { return Value{Type: TypeNumber, Number: f} }

// BoolValue returns a bool value.
func BoolValue(b bool) Value { return Value{Type: TypeBool, Bool: b} }

// DateValue returns a date value from a YYYY-MM-DD string.
func DateValue(s string) Value { return Value{Type: TypeDate, Date: s} }

// Text renders v for humans and logs.
func (v Value) Text() string {
	switch v.Type {
	case TypeString:
		return v.String
	case TypeNumber:
		return strconv.FormatFloat(v.Number, 'g', -1, 64)
	case TypeBool:
		return strconv.FormatBool(v.Bool)
	case TypeDate:
		return v.Date
	}
	return ""
}

// check returns what is wrong with v as a value of type t, or "".
func (v Value) check(t Type) string {
	if v.Type != t {
		return fmt.Sprintf("must be a %s value, got %s", t, v.Type)
	}
	switch t {
	case TypeString:
		if utf8.RuneCountInString(v.String) > MaxStringLen {
			return fmt.Sprintf("must be at most %d characters", MaxStringLen)
		}
	case TypeNumber:
		if math.IsNaN(v.Number) || math.IsInf(v.Number, 0) {
			return "must be a finite number"
		}
	case TypeDate:
		if _, err := time.Parse(DateLayout, v.Date); err != nil {
			return "must be a date as YYYY-MM-DD"
		}
	}
	return ""
}

// ValidateValues adds a violation per bad entry of values: a name with no definition, or a
// value of the wrong type or out of range. Paths are prefix + name, e.g.
// "custom_fields.plan". Names are visited in sorted order so violations are deterministic.
func ValidateValues(defs map[string]Definition, values map[string]Value, prefix string, v *apperr.Violations) {
	for _, name := range SortedNames(values) {
		def, ok := defs[name]
		if !ok {
			v.Add(prefix+name, "is not a custom field defined for this tenant")
			continue
		}
		if msg := values[name].check(def.Type); msg != "" {
			v.Add(prefix+name, "%s", msg)
		}
	}
}

// SortedNames returns the keys of m in order.
func SortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
