package web

import "time"

// SetStreamPing sets how often an idle revocation stream pings, until the
// returned function restores it.
func SetStreamPing(d time.Duration) (restore func()) {
	old := streamPing
	streamPing = d
	return func() { streamPing = old }
}
