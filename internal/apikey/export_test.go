package apikey

import "time"

// SetClock makes s's cache of verified keys read the time from now.
func SetClock(s *Store, now func() time.Time) {
	s.verified.now = now
}
