package httpapi

import (
	"encoding/json"
	"testing"
	"time"
)

type timedLine struct {
	At   time.Time  `json:"at"`
	Seen *time.Time `json:"seen"`
}

type timedBase struct {
	CreatedAt time.Time `json:"createdAt"`
}

type timedDoc struct {
	timedBase
	ID      string               `json:"id"`
	Lines   []timedLine          `json:"lines"`
	ByName  map[string]timedLine `json:"byName"`
	Any     any                  `json:"any"`
	Fixed   [1]time.Time         `json:"fixed"`
	Nothing *timedLine           `json:"nothing"`
	hidden  time.Time
}

// withAPITimes renders every time encoding/json would write in UTC and whole
// seconds, wherever it sits, and leaves the value it was given alone.
func TestWithAPITimes(t *testing.T) {
	t.Parallel()
	berlin := time.FixedZone("CET", 3600)
	at := time.Date(2026, 11, 25, 13, 4, 5, 678901000, berlin)
	doc := &timedDoc{
		timedBase: timedBase{CreatedAt: at},
		ID:        "x",
		Lines:     []timedLine{{At: at, Seen: &at}},
		ByName:    map[string]timedLine{"a": {At: at}},
		Any:       map[string]any{"t": at, "list": []any{at}},
		Fixed:     [1]time.Time{at},
		hidden:    at,
	}
	before, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}

	got, err := json.Marshal(withAPITimes(doc))
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"createdAt":"2026-11-25T12:04:05Z","id":"x",` +
		`"lines":[{"at":"2026-11-25T12:04:05Z","seen":"2026-11-25T12:04:05Z"}],` +
		`"byName":{"a":{"at":"2026-11-25T12:04:05Z","seen":null}},` +
		`"any":{"list":["2026-11-25T12:04:05Z"],"t":"2026-11-25T12:04:05Z"},` +
		`"fixed":["2026-11-25T12:04:05Z"],"nothing":null}`
	if string(got) != want {
		t.Errorf("rendered\n\t%s\nwant\n\t%s", got, want)
	}
	if after, _ := json.Marshal(doc); string(after) != string(before) || !doc.hidden.Equal(at) {
		t.Errorf("the value given changed:\n\t%s\nwas\n\t%s", after, before)
	}

	plain := struct{ N int }{3}
	if withAPITimes(plain) != any(plain) {
		t.Error("a value without times was copied")
	}
}
