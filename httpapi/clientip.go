package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIPs tells the address of the client behind a request, which the
// public routes' budgets are kept by.
//
// By default it is the connection's peer (RemoteAddr): X-Forwarded-For is
// whatever the client wrote, so trusting it would let anyone pick a fresh
// budget per request, or spend another client's. Only when the peer is one
// of the configured proxies (TRUSTED_PROXIES: a CDN, the load balancer) is
// the header read, right to left, past every trusted proxy: the first
// address no proxy of ours would have written is the client. Addresses a
// client put further left are never reached.
type clientIPs struct {
	trusted []netip.Prefix
}

// of returns the client address of r, IPv4-mapped addresses unmapped. An
// unparsable RemoteAddr (a test's or a unix socket's) is the zero Addr.
func (c clientIPs) of(r *http.Request) netip.Addr {
	peer := parseAddr(r.RemoteAddr)
	if !c.trusts(peer) {
		return peer
	}
	client := peer
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			hop := parseAddr(strings.TrimSpace(parts[j]))
			if !hop.IsValid() {
				// A garbled entry was written by the hop before it, which
				// is not ours to believe: stop at the last one we can.
				return client
			}
			client = hop
			if !c.trusts(hop) {
				return hop
			}
		}
	}
	return client
}

// trusts reports whether a is one of the trusted proxies.
func (c clientIPs) trusts(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range c.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// budgetKey is the key a client's budgets are kept under: its IPv4
// address, or its IPv6 /64, since one subscriber line usually holds a whole
// /64 and could otherwise take a fresh budget per address.
func budgetKey(a netip.Addr) string {
	if !a.IsValid() {
		return "unknown"
	}
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return a.String()
	}
	return p.String()
}

// parseAddr parses "ip", "ip:port" or "[ipv6]:port", unmapping IPv4-mapped
// IPv6; anything else is the zero Addr.
func parseAddr(s string) netip.Addr {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap()
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}
