// Package civil is the calendar date the pipeline domain uses for every date that is a day and
// not an instant: expected close dates, the day a deal closed, quote validity, contract terms.
//
// A Date has no time zone. "Today" is the calendar date of the decision's now in now's location
// (DateOf): the app passes now in UTC, so a day starts at 00:00 UTC for every tenant until
// tenants get a time zone setting. Dates are comparable with == and usable as map keys; the zero
// Date means "no date".
package civil

import (
	"fmt"
	"time"
)

// Layout is the text form of a Date (ISO 8601 calendar date).
const Layout = "2006-01-02"

// Date is a calendar date. The zero Date means "no date".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// New returns the date y-m-d as given (check Valid for user input).
func New(y int, m time.Month, d int) Date { return Date{Year: y, Month: m, Day: d} }

// Parse reads a date in Layout form ("2025-03-31").
func Parse(s string) (Date, error) {
	t, err := time.Parse(Layout, s)
	if err != nil {
		return Date{}, fmt.Errorf("parse date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// IsZero reports whether d is the zero Date ("no date").
func (d Date) IsZero() bool { return d == Date{} }

// Valid reports whether d is a real calendar date in the years 1…9999 (what Layout can write).
func (d Date) Valid() bool {
	if d.Year < 1 || d.Year > 9999 {
		return false
	}
	return DateOf(d.Time()) == d
}

// Time returns midnight UTC at the start of d. Arithmetic goes through UTC, which has no
// daylight saving, so a day is always 24 hours.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// String returns d in Layout form, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// AddDays returns the date n days after d (before, for negative n).
func (d Date) AddDays(n int) Date { return DateOf(d.Time().AddDate(0, 0, n)) }

// DaysSince returns the number of days from o to d: positive when d is later.
func (d Date) DaysSince(o Date) int { return int(d.Time().Sub(o.Time()) / (24 * time.Hour)) }

// Compare returns -1, 0 or +1 as d is before, equal to or after o.
func (d Date) Compare(o Date) int {
	switch {
	case d.Year != o.Year:
		return cmp(d.Year, o.Year)
	case d.Month != o.Month:
		return cmp(int(d.Month), int(o.Month))
	}
	return cmp(d.Day, o.Day)
}

// Before reports whether d is before o.
func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }

// After reports whether d is after o.
func (d Date) After(o Date) bool { return d.Compare(o) > 0 }

// StartOfMonth returns the first day of d's month.
func (d Date) StartOfMonth() Date { return Date{Year: d.Year, Month: d.Month, Day: 1} }

// StartOfQuarter returns the first day of d's calendar quarter (January, April, July, October).
func (d Date) StartOfQuarter() Date {
	return Date{Year: d.Year, Month: time.Month((int(d.Month)-1)/3*3 + 1), Day: 1}
}

func cmp(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
