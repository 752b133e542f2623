package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/checkoutd/checkoutd"
)

// Whatever a handler puts in an error, the body stays under the contract's
// 64 KiB and keeps its code.
func TestWriteErrorBounded(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("é", MaxErrorBodyBytes)
	for name, write := range map[string]func(w http.ResponseWriter){
		"huge message": func(w http.ResponseWriter) { writeError(w, http.StatusConflict, "conflict", huge, nil) },
		"huge extra": func(w http.ResponseWriter) {
			writeError(w, http.StatusConflict, "stock_conflict", "conflict", map[string]any{"sku": huge})
		},
		"huge details": func(w http.ResponseWriter) {
			writeInvalid(w, []checkoutd.FieldIssue{{Field: huge, Issue: huge}, {Field: "a", Issue: "b"}})
		},
	} {
		t.Run(name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			write(rec)
			body := rec.Body.Bytes()
			if len(body) >= MaxErrorBodyBytes {
				t.Errorf("body is %d bytes", len(body))
			}
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil || m["error"] == "" || !utf8.Valid(body) {
				t.Errorf("body %.200s: %v", body, err)
			}
		})
	}
}

func TestWriteInvalidCapsDetails(t *testing.T) {
	t.Parallel()
	details := make([]checkoutd.FieldIssue, 1000)
	for i := range details {
		details[i] = checkoutd.FieldIssue{Field: "f", Issue: "is wrong"}
	}
	rec := httptest.NewRecorder()
	writeInvalid(rec, details)
	var body struct {
		Details []checkoutd.FieldIssue `json:"details"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Details) != maxDetails {
		t.Fatalf("%d details, want %d", len(body.Details), maxDetails)
	}
	if last := body.Details[maxDetails-1]; last.Issue != "has 981 more issues not listed" {
		t.Errorf("last detail %+v", last)
	}
}
