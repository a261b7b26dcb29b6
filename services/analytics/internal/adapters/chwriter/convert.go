package chwriter

import (
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
)

// epoch is what the tables store for "no time": DateTime and Date cannot hold Go's zero time,
// and the schema contract says 1970 means "not set".
var epoch = time.Unix(0, 0).UTC()

// enumName is the schema's spelling of an enum value: the proto name without the type prefix,
// lower case (LEAD_STATUS_MARKETING_QUALIFIED → "marketing_qualified"); the zero value
// (…_UNSPECIFIED) is "".
func enumName(e protoreflect.Enum) string {
	if e.Number() == 0 {
		return ""
	}
	vals := e.Descriptor().Values()
	v := vals.ByNumber(e.Number())
	if v == nil {
		return ""
	}
	name := string(v.Name())
	// The prefix is whatever precedes UNSPECIFIED in the zero value's name (buf STANDARD
	// requires every enum to have one), so no table of prefixes has to be kept.
	if z := vals.ByNumber(0); z != nil {
		name = strings.TrimPrefix(name, strings.TrimSuffix(string(z.Name()), "UNSPECIFIED"))
	}
	return strings.ToLower(name)
}

// micros is a Money amount × 10^6, rounded half away from zero.
func micros(m *commonv1.Money) int64 {
	if m == nil {
		return 0
	}
	n := int64(m.GetNanos())
	q, r := n/1000, n%1000
	switch {
	case r >= 500:
		q++
	case r <= -500:
		q--
	}
	return m.GetUnits()*1_000_000 + q
}

// ts converts a protobuf timestamp, nil or unset to the epoch.
func ts(t *timestamppb.Timestamp) time.Time {
	if t == nil || (t.GetSeconds() == 0 && t.GetNanos() == 0) {
		return epoch
	}
	return clamp(t.AsTime())
}

// clamp keeps a time inside DateTime's range (1970 to 2105), so one odd timestamp cannot make
// a whole batch fail to insert.
func clamp(t time.Time) time.Time {
	if t.Before(epoch) {
		return epoch
	}
	if limit := time.Date(2105, 12, 31, 0, 0, 0, 0, time.UTC); t.After(limit) {
		return limit
	}
	return t.UTC().Truncate(time.Second)
}

// date parses a YYYY-MM-DD business date; empty or malformed is the epoch.
func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return epoch
	}
	return clamp(t)
}

// seconds is a duration in whole seconds.
func seconds(d *durationpb.Duration) int64 {
	if d == nil {
		return 0
	}
	return d.GetSeconds()
}

// b2u is a bool as the UInt8 the tables store.
func b2u(v bool) uint8 {
	if v {
		return 1
	}
	return 0
}

// orTime returns t, or fallback when t is the epoch.
func orTime(t, fallback time.Time) time.Time {
	if t.Equal(epoch) {
		return fallback
	}
	return t
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
