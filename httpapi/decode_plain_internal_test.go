package httpapi

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/inventory"
)

// The request types of the busy routes take the one-parse path when their
// body is plain. The shop and location settings, whose fields decode
// themselves (present), always take the full checks: no plainBody can vouch
// for what such a field accepts.
func TestPlainNamesCoverTheBusyRequests(t *testing.T) {
	t.Parallel()
	for _, v := range []any{
		&validateRequest{}, &createHoldRequest{},
		&inventory.AdjustRequest{}, &inventory.ReceiptRequest{}, &inventory.TransferRequest{},
		&inventory.StockSettings{}, &checkout.Request{},
	} {
		if _, ok := plainNames(reflect.TypeOf(v)); !ok {
			t.Errorf("%T: plainNames says no, so every body of it is parsed twice", v)
		}
	}
	if _, ok := plainNames(reflect.TypeOf(&createShopRequest{})); ok {
		t.Errorf("createShopRequest: plainNames vouches for fields that decode themselves")
	}
}

func TestPlainBody(t *testing.T) {
	t.Parallel()
	typ := reflect.TypeOf(&validateRequest{})
	for body, want := range map[string]bool{
		`{"shopId":"s","items":[{"sku":"A","variantKey":"","quantity":1}]}`: true,
		"{ \"shopId\" :\n\"s\", \"items\" : [] }":                           true,
		`{"shopId":"a\\u0000b"}`:                                            true, // a backslash, then u0000: no NUL
		`{"shopId":"a\"b:c\\"}`:                                             true,
		`{"shopId":"s","items":[{"sku":"A\u0000"}]}`:                        false,
		`{"SHOPID":"s"}`:                                                    false,
		`{"sh\u006fpId":"s"}`:                                               false,
		`{"shopId":"s","extra":1}`:                                          false,
		`{"shopId":"s","items":[{"SKU":"A"}]}`:                              false,
		`{"shopId":"s`:                                                      false,
	} {
		if got := plainBody([]byte(body), typ); got != want {
			t.Errorf("plainBody(%s) = %v, want %v", body, got, want)
		}
	}
}

// decode answers every body as the full checks do: the same status, the
// same error body, the same value.
func TestDecodeOneParseAgreesWithFullChecks(t *testing.T) {
	t.Parallel()
	bodies := []string{
		`{"shopId":"s","items":[{"sku":"A","variantKey":"","quantity":1}]}`,
		`{"shopId":"s","items":[{"sku":"A","quantity":1},{"sku":"B","quantity":2}]}`,
		`{"shopId":"s","items":[{"sku":"A","quantity":"1"}]}`,
		`{"shopId":"s","items":[{"sku":"A","quantity":1.5}]}`,
		`{"shopId":"s","items":[{"sku":"A","quantity":1e400}]}`,
		`{"shopId":"s","items":[{"sku":"A","quantity":1,"extra":true}]}`,
		`{"shopId":"s","items":[{"SKU":"A","quantity":1}]}`,
		`{"shopId":"s","Items":[]}`,
		`{"sh\u006fpId":"s"}`,
		`{"shopId":"s\u0000"}`,
		`{"shopId":"s\\u0000"}`,
		`{"shopId":"s","shopId":"t"}`,
		`{"shopId":"s"} {}`,
		`{"shopId":"s"}}`,
		`{"shopId":"s",}`,
		`{"shopId":"s"`,
		`[{"shopId":"s"}]`,
		`"s"`,
		`null`,
		`{"items":{"sku":"A"}}`,
		`{"items":[{"sku":"A","quantity":1},"B"]}`,
		`{"reference":5}`,
	}
	bodies = append(bodies, plainValidateBodies...)
	for _, body := range bodies {
		oneParse, oneStatus, oneBody := runDecode(t, body, decode)
		full, fullStatus, fullBody := runDecode(t, body, func(w http.ResponseWriter, r *http.Request, v any) bool {
			return decodeChecked(w, []byte(body), v)
		})
		if oneStatus != fullStatus || oneBody != fullBody || (oneStatus == 0 && !reflect.DeepEqual(oneParse, full)) {
			t.Errorf("%s:\n decode:        %d %s %+v\n full checks:   %d %s %+v", body, oneStatus, oneBody, oneParse, fullStatus, fullBody, full)
		}
	}
}

func runDecode(t *testing.T, body string, fn func(http.ResponseWriter, *http.Request, any) bool) (*validateRequest, int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	var v validateRequest
	if fn(rec, r, &v) {
		return &v, 0, ""
	}
	return nil, rec.Code, rec.Body.String()
}

// plainValidateBodies are validate bodies at the edges of what parsePlain
// takes by hand.
var plainValidateBodies = []string{
	`{}`,
	` { } `,
	"{\t\"shopId\"\r\n:\"s\" , \"items\" : [ { \"sku\" : \"A\" , \"quantity\" : 2 } ] }\n",
	`{"shopId":"s","items":[]}`,
	`{"items":[],"shopId":"s"}`,
	`{"shopId":"s","items":null}`,
	`{"shopId":null}`,
	`{"shopId":"s","items":[{}]}`,
	`{"shopId":"s","items":[{"sku":null,"quantity":1}]}`,
	`{"shopId":"s","items":[{"sku":"A","sku":"B","quantity":1}]}`,
	`{"shopId":"s","items":[{"sku":"A","quantity":1,"quantity":2}]}`,
	`{"shopId":"s","items":[{"sku":"A","variantKey":"v","variantKey":"w"}]}`,
	`{"shopId":"s","items":[],"items":[{"sku":"A"}]}`,
	`{"shopId":"s","items":[{"sku":"A","quantity":-1}]}`,
	`{"shopId":"s","items":[{"sku":"A","quantity":-0}]}`,
	`{"shopId":"s","items":[{"sku":"A","quantity":0}]}`,
	`{"shopId":"s","items":[{"sku":"A","quantity":01}]}`,
	`{"shopId":"s","items":[{"sku":"A","quantity":+1}]}`,
	`{"shopId":"s","items":[{"sku":"A","quantity":-}]}`,
	`{"shopId":"s","items":[{"sku":"A","quantity":1.0}]}`,
	`{"shopId":"s","items":[{"sku":"A","quantity":1E2}]}`,
	`{"shopId":"s","items":[{"sku":"A","quantity":999999999999999999}]}`,
	`{"shopId":"s","items":[{"sku":"A","quantity":9223372036854775807}]}`,
	`{"shopId":"s","items":[{"sku":"A","quantity":9223372036854775808}]}`,
	`{"shopId":"s","items":[{"sku":"A","quantity":-9223372036854775808}]}`,
	`{"shopId":"s","items":[{"sku":"A","quantity":1x}]}`,
	`{"shopId":"s","items":[{"sku":"A","quantity":true}]}`,
	`{"shopId":"s","items":[{"sku":"A\"B","quantity":1}]}`,
	`{"shopId":"s","items":[{"sku":"A\/B","quantity":1}]}`,
	`{"shopId":"s","items":[{"sku":"A\u00e9","quantity":1}]}`,
	`{"shopId":"s","items":[{"sku":"Aé☃","variantKey":"size:M","quantity":1}]}`,
	"{\"shopId\":\"s\",\"items\":[{\"sku\":\"A\tB\",\"quantity\":1}]}",
	"{\"shopId\":\"s\x7f\"}",
	`{"shopId":"s","items":[{"sku":"A","quantity":1},]}`,
	`{"shopId":"s","items":[,{"sku":"A","quantity":1}]}`,
	`{"shopId":"s","items":[{"sku":"A","quantity":1}`,
	`{"shopId":"s","items":[{"sku":"A","quantity":1}]`,
	`{"shopId":"s","items":[{"sku":"A","quantity":1}]}]`,
	`{"shopId":"s","items":[{"sku":"A","quantity":1}]} x`,
	`{"shopId":"s" "items":[]}`,
	`{"shopId" "s"}`,
	`{"shopId":'s'}`,
	`{shopId:"s"}`,
	`{"shopId":"s","items":[["A"]]}`,
}

// Whatever body parsePlain takes, encoding/json takes too, into the same
// value; and what it leaves, it leaves untouched.
func FuzzValidateParsePlain(f *testing.F) {
	for _, body := range plainValidateBodies {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !utf8.Valid(body) || len(bytes.TrimSpace(body)) == 0 {
			return // decode answers these before parsePlain sees them
		}
		untouched := validateRequest{ShopID: "untouched"}
		got := untouched
		if !got.parsePlain(body) {
			if !reflect.DeepEqual(got, untouched) {
				t.Fatalf("parsePlain(%q) said false but changed the request to %+v", body, got)
			}
			return
		}
		var want validateRequest
		rec := httptest.NewRecorder()
		if !decodeChecked(rec, body, &want) {
			t.Fatalf("parsePlain(%q) took a body the full checks refuse: %d %s", body, rec.Code, rec.Body)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("parsePlain(%q) = %+v, the full checks %+v", body, got, want)
		}
	})
}

// validate's written answer to a cart it could hold is what writeJSON
// writes for it.
func TestValidBodyIsTheEncodedResult(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	writeJSON(rec, http.StatusOK, &inventory.ValidateResult{OK: true})
	if got := rec.Body.String(); got != string(validBody) {
		t.Errorf("writeJSON wrote %q, validBody is %q", got, validBody)
	}
}

// BenchmarkDecodeValidate parses an edge worker's usual validate body by
// hand (plain), and as decode did before parsePlain: one encoding/json
// parse after plainBody's scan (json).
func BenchmarkDecodeValidate(b *testing.B) {
	body := []byte(`{"shopId":"acme","items":[{"sku":"TEE","variantKey":"size:M","quantity":1},{"sku":"MUG","variantKey":"","quantity":2}]}`)
	b.Run("plain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var req validateRequest
			if !req.parsePlain(body) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		typ := reflect.TypeOf(&validateRequest{})
		for b.Loop() {
			var req validateRequest
			if !plainBody(body, typ) || decodeInto(body, &req) != nil {
				b.Fatal("refused")
			}
		}
	})
}

// discardWriter is a ResponseWriter that keeps nothing, for benchmarks.
type discardWriter struct{ h http.Header }

func (w discardWriter) Header() http.Header         { return w.h }
func (w discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w discardWriter) WriteHeader(int)             {}

// A checkout body with the shop's metadata, whose keys are the shop's own,
// decodes as the full checks decode it, whichever path it takes.
func TestDecodeCheckoutMetadataAgreesWithFullChecks(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"shopId":"s","metadata":{"order_id":"1"}}`,
		`{"shopId":"s","metadata":{"shopId":"x","sku":"y"}}`,
		`{"shopId":"s","metadata":{"ORDER":"1","Order":"2"}}`,
		`{"shopId":"s","metadata":{"order_id":1}}`,
		`{"shopId":"s","metadata":{"a":"\u0000"}}`,
		`{"shopId":"s","metadata":{"a\u0000":"b"}}`,
		`{"shopId":"s","metadata":["a"]}`,
		`{"shopId":"s","Metadata":{"a":"b"}}`,
		`{"shopId":"s","items":[{"sku":"A","quantity":1,"adjustableQuantity":{"enabled":true,"maximum":3}}]}`,
		`{"shopId":"s","items":[{"sku":"A","quantity":1,"adjustableQuantity":{"enabled":true,"Maximum":3}}]}`,
	} {
		one, oneStatus, oneBody := decodeCheckout(t, body, decode)
		full, fullStatus, fullBody := decodeCheckout(t, body, func(w http.ResponseWriter, r *http.Request, v any) bool {
			return decodeChecked(w, []byte(body), v)
		})
		if oneStatus != fullStatus || oneBody != fullBody || (oneStatus == 0 && !reflect.DeepEqual(one, full)) {
			t.Errorf("%s:\n decode:        %d %s %+v\n full checks:   %d %s %+v", body, oneStatus, oneBody, one, fullStatus, fullBody, full)
		}
	}
}

func decodeCheckout(t *testing.T, body string, fn func(http.ResponseWriter, *http.Request, any) bool) (*checkout.Request, int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	var v checkout.Request
	if fn(rec, r, &v) {
		return &v, 0, ""
	}
	return nil, rec.Code, rec.Body.String()
}

func TestLoneSurrogate(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]bool{
		`{"a":"x"}`:            false,
		`{"a":"\ud83d\ude00"}`: false, // a pair: one character
		`{"a":"\u00e9\n\"\\"}`: false,
		`{"a":"\\ud800"}`:      false, // a backslash, then text
		`{"a":"\ud800"}`:       true,
		`{"a":"\udc00"}`:       true,
		`{"a":"\ud800\u0041"}`: true,
		`{"a":"\ud800x"}`:      true,
		`{"a":"\uD800\uDFFF"}`: false,
		`{"a":"x\\\ud800"}`:    true,
		`{"a":"\ud800`:         true,
		`{"a":"\u12"}`:         false, // not JSON; json says so
	} {
		if got := loneSurrogate([]byte(body)); got != want {
			t.Errorf("loneSurrogate(%s) = %v, want %v", body, got, want)
		}
	}
}
