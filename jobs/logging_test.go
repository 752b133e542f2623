package jobs_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/internal/testkit"
	"github.com/checkoutd/checkoutd/jobs"
)

// River's own lines below WARN (its start, its producers' job counts every
// 5 s) are dropped, while our workers keep logging at INFO through the same
// Config.Logger.
func TestRiverLogsFromWarn(t *testing.T) {
	f := newFixture(t)
	f.deleteJobsAtCleanup(t)
	sessions := newSessions()
	sessions.Add("cs_logging")
	logs := &testkit.SyncBuffer{}
	start := time.Now()
	client := startClient(t, f, jobs.Config{
		Workers: 2, ReaperInterval: time.Hour, Sessions: sessions, Refunds: &testkit.FakeRefunds{},
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}, nil)
	if _, err := client.Insert(context.Background(), jobs.ExpireSessionArgs{ShopID: f.shopID, HoldID: "hold_logging", SessionID: "cs_logging"}, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the session expiry's INFO line", func() bool {
		return logs.LineWith("stripe session expired; giving the hold's stock back") != ""
	})
	// River logs its producer's job counts at INFO every 5 s once jobs ran.
	time.Sleep(time.Until(start.Add(6 * time.Second)))

	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec struct {
			Level  string `json:"level"`
			Msg    string `json:"msg"`
			ShopID string `json:"shop_id"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		// Every line of ours below WARN is about a shop; River's are not.
		if (rec.Level == "INFO" || rec.Level == "DEBUG") && rec.ShopID == "" {
			t.Errorf("River logged below WARN: %s", line)
		}
	}
	if line := logs.LineWith("stripe session expired; giving the hold's stock back"); !strings.Contains(line, `"level":"INFO"`) {
		t.Errorf("our worker's line %q, want it at INFO", line)
	}
}
