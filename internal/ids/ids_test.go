package ids

import (
	"regexp"
	"testing"
)

func TestNew(t *testing.T) {
	seen := map[string]bool{}
	pattern := regexp.MustCompile(`^hold_[a-z2-7]{26}$`)
	for range 1000 {
		id := New("hold_")
		if !pattern.MatchString(id) || seen[id] {
			t.Fatalf("New = %q: want a fresh hold_ and 26 base32 characters", id)
		}
		seen[id] = true
	}
}
