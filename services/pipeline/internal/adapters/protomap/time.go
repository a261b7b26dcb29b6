package protomap

import (
	"math"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/protoconv"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
)

// Calendar dates (close dates, validity, contract terms) travel as "YYYY-MM-DD" strings, the
// zero civil.Date as "". Instants are Timestamps and spans Durations; their zero values are
// unset fields.

// DateToProto maps a calendar date; the zero Date is "".
func DateToProto(d civil.Date) string { return d.String() }

// DateFromProto maps a date from a request: "" is the zero Date, anything else must be a
// calendar date as YYYY-MM-DD, else the error is Invalid with one violation for field.
func DateFromProto(s, field string) (civil.Date, error) {
	var v apperr.Violations
	d := requestDate(s, field, &v)
	return d, v.Err("invalid date")
}

func (d *decoder) date(s, what string) civil.Date {
	if s == "" {
		return civil.Date{}
	}
	c, err := civil.Parse(s)
	if err != nil {
		d.fail(what, err)
		return civil.Date{}
	}
	return c
}

// requestDate maps a request date, adding a violation for field when s is neither "" nor a
// calendar date.
func requestDate(s, field string, v *apperr.Violations) civil.Date {
	if s == "" {
		return civil.Date{}
	}
	c, err := civil.Parse(s)
	if err != nil {
		v.Add(field, "must be a calendar date as YYYY-MM-DD")
		return civil.Date{}
	}
	return c
}

// Short names for the libs/protoconv mappings the codecs use everywhere.
var (
	ts      = protoconv.Timestamp
	fromTS  = protoconv.Time
	dur     = protoconv.Duration
	fromDur = protoconv.FromDuration
)

// Percentages and counts are uint32 on the wire and int32 in the domain. Values the service
// wrote convert by a plain cast, which round-trips every int32. Request values saturate instead,
// so a huge number stays huge (and the domain's range check names it) rather than wrapping to
// a negative one.

func u32(n int32) uint32 { return uint32(n) }

func fromU32(n uint32) int32 { return int32(n) }

func requestI32(n uint32) int32 { return int32(min(n, math.MaxInt32)) }
