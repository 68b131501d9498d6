package web

import (
	"fmt"
	"time"

	"github.com/mileusna/useragent"
)

// deviceName names a session's device for people ("Chrome on Linux") from
// its User-Agent, parsed by github.com/mileusna/useragent (see
// docs/DESIGN.md); the raw string stays on the page for whoever wants it.
func deviceName(ua string) string {
	if ua == "" {
		return "Unknown device"
	}
	u := useragent.Parse(ua)
	name, os := u.Name, u.OS
	switch {
	case name != "" && os != "":
		return name + " on " + os
	case name != "":
		return name
	case os != "":
		return "A browser on " + os
	}
	return "Unknown device"
}

// when is a time as the page shows it: relative to now, with the exact
// time for a title attribute.
type when struct {
	Rel, Exact string
	Set        bool
}

func whenOf(t, now time.Time) when {
	if t.IsZero() {
		return when{}
	}
	return when{Rel: relative(t, now), Exact: t.UTC().Format("2006-01-02 15:04:05 UTC"), Set: true}
}

// relative says how long before or after now t is, in its largest unit.
func relative(t, now time.Time) string {
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		s = plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		s = plural(int(d/time.Hour), "hour")
	case d < 60*24*time.Hour:
		s = plural(int(d/(24*time.Hour)), "day")
	case d < 730*24*time.Hour:
		s = plural(int(d/(30*24*time.Hour)), "month")
	default:
		s = plural(int(d/(365*24*time.Hour)), "year")
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
