package inventory_test

import (
	"fmt"
	"testing"
)

// The race for the last units (raceForLastUnits), through groups, with one
// or two groups in flight: besides what that checks, nothing times out on
// locks (a deadlock would surface as an error or a busy operation) and the
// race forms groups. Not parallel, like the other race tests: the reaper
// acts on every shop.
func TestGroupRaceForLastUnits(t *testing.T) {
	for _, inFlight := range []int{1, 2} {
		t.Run(fmt.Sprintf("inFlight=%d", inFlight), func(t *testing.T) {
			g := newGroupFixtureInFlight(t, inFlight)
			out := raceForLastUnits(t, g.fixture)
			if out.busy.Load() > 0 {
				t.Errorf("%d operations timed out on locks", out.busy.Load())
			}
			g.requireGrouped(t)
		})
	}
}

// Multi-line holds over overlapping lines at several locations
// (raceAcrossLocations), through groups: whatever order a hold lists its
// lines in, a group locks the rows once in the fixed order, so groups
// neither deadlock nor oversell.
func TestGroupRaceAcrossLocationsWithMultiLineHolds(t *testing.T) {
	g := newGroupFixtureInFlight(t, 2)
	raceAcrossLocations(t, g.fixture)
	g.requireGrouped(t)
}

// requireGrouped fails the test unless some group g ran carried more than
// one hold, so that the race went through groups that work their holds
// out together (runPlaced).
func (g *groupFixture) requireGrouped(t *testing.T) {
	t.Helper()
	most := 0
	for _, r := range g.runs() {
		most = max(most, r.Holds)
	}
	if most < 2 {
		t.Errorf("the group with the most holds carried %d; the race should have formed groups of holds", most)
	}
}
