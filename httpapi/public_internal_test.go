package httpapi

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestETagMatches(t *testing.T) {
	t.Parallel()
	const etag = `"abc"`
	tests := []struct {
		lines []string
		want  bool
	}{
		{nil, false},
		{[]string{`"abc"`}, true},
		{[]string{`W/"abc"`}, true},
		{[]string{`*`}, true},
		{[]string{` "x" , "abc"`}, true},
		{[]string{`"x"`, `W/"abc"`}, true},
		{[]string{`"x","y"`}, false},
		{[]string{`abc`}, false},
		{[]string{`"abc`}, false},
		{[]string{`w/"abc"`}, false},
		{[]string{`"ab,c"`}, false},
		{[]string{`"x", junk, "abc"`}, false},
	}
	for _, tt := range tests {
		if got := etagMatches(tt.lines, etag); got != tt.want {
			t.Errorf("etagMatches(%q) = %v, want %v", tt.lines, got, tt.want)
		}
	}
	if !etagMatches([]string{`"abc"`}, `W/"abc"`) {
		t.Error("weak comparison: a strong tag matches a weak current one")
	}
}

func TestClientIPs(t *testing.T) {
	t.Parallel()
	trusted := clientIPs{trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	tests := []struct {
		ips        clientIPs
		remote     string
		xff        []string
		want       string
		wantBudget string
	}{
		// No proxy trusted: the peer, whatever the header says.
		{clientIPs{}, "192.0.2.1:5000", []string{"203.0.113.7"}, "192.0.2.1", "192.0.2.1"},
		// A peer that is not a trusted proxy is the client.
		{trusted, "192.0.2.1:5000", []string{"203.0.113.7"}, "192.0.2.1", "192.0.2.1"},
		// Through trusted proxies: the rightmost untrusted address.
		{trusted, "10.0.0.1:5000", []string{"198.51.100.1, 203.0.113.7, 10.0.0.2"}, "203.0.113.7", "203.0.113.7"},
		{trusted, "10.0.0.1:5000", []string{"198.51.100.1", "203.0.113.7"}, "203.0.113.7", "203.0.113.7"},
		// Every hop trusted: the leftmost.
		{trusted, "10.0.0.1:5000", []string{"10.0.0.3, 10.0.0.2"}, "10.0.0.3", "10.0.0.3"},
		// No header: the proxy itself.
		{trusted, "10.0.0.1:5000", nil, "10.0.0.1", "10.0.0.1"},
		// A garbled hop stops the walk at the last trusted one.
		{trusted, "10.0.0.1:5000", []string{"203.0.113.7, garbage"}, "10.0.0.1", "10.0.0.1"},
		// Ports and mapped addresses.
		{trusted, "[::1]:5000", []string{"[2001:db8:1:2:3::4]:443"}, "2001:db8:1:2:3::4", "2001:db8:1:2::/64"},
		{clientIPs{}, "[::ffff:192.0.2.9]:1", nil, "192.0.2.9", "192.0.2.9"},
		{clientIPs{}, "@", nil, "invalid IP", "unknown"},
	}
	for _, tt := range tests {
		r := &http.Request{RemoteAddr: tt.remote, Header: http.Header{"X-Forwarded-For": tt.xff}}
		got := tt.ips.of(r)
		if got.String() != tt.want || budgetKey(got) != tt.wantBudget {
			t.Errorf("of(%s, %q) = %s (budget %s), want %s (%s)", tt.remote, tt.xff, got, budgetKey(got), tt.want, tt.wantBudget)
		}
	}
}

func TestCORSPolicy(t *testing.T) {
	t.Parallel()
	list := newCORSPolicy([]string{"https://Shop.Example/", " http://localhost:3000"})
	h := http.Header{}
	list.apply(h, "https://shop.example")
	if h.Get("Access-Control-Allow-Origin") != "https://shop.example" || h.Get("Vary") != "Origin" {
		t.Errorf("listed origin: %v", h)
	}
	h = http.Header{}
	list.apply(h, "https://shop.example.evil")
	if h.Get("Access-Control-Allow-Origin") != "" || h.Get("Vary") != "Origin" || h.Get("Access-Control-Expose-Headers") != "" {
		t.Errorf("other origin: %v", h)
	}
	h = http.Header{}
	newCORSPolicy(nil).apply(h, "https://shop.example")
	if len(h) != 0 {
		t.Errorf("no origins allowed: %v", h)
	}
	h = http.Header{}
	newCORSPolicy([]string{"*"}).apply(h, "")
	if h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Vary") != "" {
		t.Errorf("any origin: %v", h)
	}
}
