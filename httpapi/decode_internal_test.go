package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/inventory"
)

// A value of the wrong JSON type is named with its full path, array indices
// included, in the syntax every other issue uses (items[3].quantity), not
// with encoding/json's index-less items.quantity.
func TestDecodeTypeErrorPath(t *testing.T) {
	t.Parallel()
	type nested struct {
		Lines []struct {
			Parts []struct {
				N int `json:"n"`
			} `json:"parts"`
		} `json:"lines"`
	}
	for _, tc := range []struct {
		name, body string
		into       func() any
		field      string
		issue      string
	}{
		{"fourth item", `{"items":[{"sku":"A","quantity":1},{"sku":"B","quantity":1},{"sku":"C","quantity":1},{"sku":"D","quantity":"2"}]}`,
			func() any { return &createHoldRequest{} }, "items[3].quantity", "must be an integer"},
		{"fraction", `{"items":[{"sku":"A","quantity":1.5}]}`,
			func() any { return &createHoldRequest{} }, "items[0].quantity", "must be an integer"},
		{"spaced out", "{ \"items\" : [ {\"sku\":\"A\"} ,\n\t{ \"quantity\" : true } ] }",
			func() any { return &createHoldRequest{} }, "items[1].quantity", "must be an integer"},
		{"second change", `{"changes":[{"sku":"A","op":"set","quantity":1},{"sku":"B","op":"set","quantity":[1]}]}`,
			func() any { return &inventory.AdjustRequest{} }, "changes[1].quantity", "must be an integer"},
		{"string field", `{"changes":[{"sku":7}]}`,
			func() any { return &inventory.AdjustRequest{} }, "changes[0].sku", "must be a string"},
		{"item not an object", `{"items":[{"sku":"A","quantity":1},"B"]}`,
			func() any { return &createHoldRequest{} }, "items[1]", "must be an object"},
		{"top-level field", `{"items":[],"ttlSeconds":"60"}`,
			func() any { return &createHoldRequest{} }, "ttlSeconds", "must be an integer"},
		{"top-level array expected", `{"items":{"sku":"A"}}`,
			func() any { return &createHoldRequest{} }, "items", "must be an array"},
		{"not an array field", `{"reference":5,"changes":[]}`,
			func() any { return &inventory.AdjustRequest{} }, "reference", "must be a string"},
		{"body not an object", `[1]`,
			func() any { return &createHoldRequest{} }, "body", "must be an object"},
		{"nested arrays", `{"lines":[{"parts":[]},{"parts":[{"n":1},{"n":2},{"n":"3"}]}]}`,
			func() any { return &nested{} }, "lines[1].parts[2].n", "must be an integer"},
		{"same number earlier", `{"lines":[{"parts":[{"n":1}]},{"parts":[{"n":1e400}]}]}`,
			func() any { return &nested{} }, "lines[1].parts[0].n", "must be an integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			r.Header.Set("Content-Type", "application/json")
			if decode(rec, r, tc.into()) {
				t.Fatalf("decode accepted %s", tc.body)
			}
			var got struct {
				Error   string                 `json:"error"`
				Details []checkoutd.FieldIssue `json:"details"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			want := []checkoutd.FieldIssue{{Field: tc.field, Issue: tc.issue}}
			if rec.Code != http.StatusBadRequest || got.Error != "invalid_request" || len(got.Details) != 1 || got.Details[0] != want[0] {
				t.Errorf("%d %s, want 400 invalid_request with %+v", rec.Code, rec.Body.Bytes(), want)
			}
		})
	}
}
