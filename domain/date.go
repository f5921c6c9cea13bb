package domain

import (
	"fmt"
	"time"
)

// Date is a civil date (no time, no zone), as in an event's occurred_on.
// The zero Date is "no date". Dates compare with == (and so serve as map
// keys); order them with Before, After and DaysUntil, since a struct has no <.
type Date struct {
	// n is days since 1970-01-01, plus one, so that the zero value is unset.
	n int32
}

// DateOf returns the civil date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return NewDate(y, m, d)
}

// NewDate returns the date y-m-d, normalising out-of-range days as time.Date does.
func NewDate(y int, m time.Month, d int) Date {
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return Date{n: int32(t.Unix()/86400) + 1}
}

// ParseDate parses YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || len(s) != len(time.DateOnly) {
		return Date{}, fmt.Errorf("%q is not a date in the form YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// MustDate parses s or panics; for tests and fixed tables only.
func MustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// IsZero reports whether d is unset.
func (d Date) IsZero() bool { return d.n == 0 }

// Time returns midnight UTC at the start of d.
func (d Date) Time() time.Time { return time.Unix(int64(d.n-1)*86400, 0).UTC() }

// String renders d as YYYY-MM-DD, or "" when unset.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Time().Format(time.DateOnly)
}

// AddDays returns d moved by n days.
func (d Date) AddDays(n int) Date { return Date{n: d.n + int32(n)} }

// AddYears returns the same day n years later; 29 February becomes 28
// February in a year that has none, so an anniversary never skips a month.
func (d Date) AddYears(n int) Date {
	y, m, day := d.Time().Date()
	if m == time.February && day == 29 && !isLeap(y+n) {
		day = 28
	}
	return NewDate(y+n, m, day)
}

// DaysUntil returns the number of days from d to e (negative if e is earlier).
func (d Date) DaysUntil(e Date) int { return int(e.n - d.n) }

// Before reports whether d is earlier than e.
func (d Date) Before(e Date) bool { return d.n < e.n }

// After reports whether d is later than e.
func (d Date) After(e Date) bool { return d.n > e.n }

// MarshalText renders d as YYYY-MM-DD.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses YYYY-MM-DD.
func (d *Date) UnmarshalText(b []byte) error {
	p, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }
