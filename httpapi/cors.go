package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// corsPreflightMaxAge is how long a browser may reuse a preflight's answer.
// Chromium caps it at two hours, Firefox at a day.
const corsPreflightMaxAge = 2 * time.Hour

// Headers of the public routes' CORS answers.
const (
	corsAllowMethods = "GET, HEAD, OPTIONS"
	// EventSource sends Last-Event-ID on a reconnect; fetch-based clients
	// may send If-None-Match and Cache-Control.
	corsAllowHeaders = "Last-Event-ID, If-None-Match, Cache-Control"
	// ETag lets a page revalidate itself; Retry-After says when to come back
	// after a 429. (Cache-Control and Content-Type are exposed anyway.)
	corsExposeHeaders = "ETag, Retry-After, X-Request-Id"
)

// corsPolicy is which origins may read the public routes' answers
// (PUBLIC_CORS_ORIGINS): any, with "*", or those listed. No credentials are
// ever allowed: the public routes know no cookies or tokens.
type corsPolicy struct {
	anyOrigin bool
	origins   map[string]bool
}

// newCORSPolicy returns the policy for origins: "*" among them allows any,
// and none allows none (same-origin pages only).
func newCORSPolicy(origins []string) corsPolicy {
	p := corsPolicy{origins: map[string]bool{}}
	for _, o := range origins {
		switch o = strings.TrimSpace(o); o {
		case "":
		case "*":
			p.anyOrigin = true
		default:
			// Browsers send the origin lowercased but for the path-less
			// form; configured ones may be written in any case.
			p.origins[strings.ToLower(strings.TrimSuffix(o, "/"))] = true
		}
	}
	return p
}

// apply sets the CORS headers of an answer to a request from origin ("" for
// none). With a list, the answer depends on the Origin header, so it says
// Vary: Origin whatever the origin, or a shared cache could hand one
// origin's answer to another.
func (p corsPolicy) apply(h http.Header, origin string) {
	switch {
	case p.anyOrigin:
		h.Set("Access-Control-Allow-Origin", "*")
	case len(p.origins) > 0:
		h.Add("Vary", "Origin")
		if origin == "" || !p.origins[strings.ToLower(origin)] {
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
	default:
		return
	}
	h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
}

// cors sets the CORS headers on every answer of a public route, errors
// included, so a page can read why it was refused.
func (a *API) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.corsPolicy.apply(w.Header(), r.Header.Get("Origin"))
		next.ServeHTTP(w, r)
	})
}

// preflight answers a CORS preflight (OPTIONS) on a public route: 204,
// with the methods and headers the route takes. An origin the policy does
// not allow gets the same 204 without Access-Control-Allow-Origin (set by
// cors), which is how a browser learns it may not.
func (a *API) preflight(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Allow", corsAllowMethods)
	if h.Get("Access-Control-Allow-Origin") != "" {
		h.Set("Access-Control-Allow-Methods", corsAllowMethods)
		h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
		h.Set("Access-Control-Max-Age", strconv.Itoa(int(corsPreflightMaxAge.Seconds())))
	}
	w.WriteHeader(http.StatusNoContent)
}
