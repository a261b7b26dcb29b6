// Package protoconv maps Go times and durations to the protobuf well-known types the way every
// evcrm API does: a zero value (unknown, not set) is an unset field, and back.
package protoconv

import (
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Timestamp maps a time to a Timestamp; the zero time (unknown) is an unset field.
func Timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// Time is the inverse of Timestamp: an unset field is the zero time, anything else is UTC.
func Time(p *timestamppb.Timestamp) time.Time {
	if p == nil {
		return time.Time{}
	}
	return p.AsTime()
}

// Duration maps a duration; zero is an unset field.
func Duration(d time.Duration) *durationpb.Duration {
	if d == 0 {
		return nil
	}
	return durationpb.New(d)
}

// FromDuration is the inverse of Duration (an unset field is zero).
func FromDuration(p *durationpb.Duration) time.Duration {
	if p == nil {
		return 0
	}
	return p.AsDuration()
}
