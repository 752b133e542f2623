package httpserver

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"
)

// methodNotAllowed answers a request whose path a route serves, but not with
// its method: 405 method_not_allowed with an Allow header (RFC 9110 15.5.6)
// naming the methods the router would serve on that path.
//
// The methods are worked out per request rather than listed when routes are
// mounted, because packages mount their routes on Router after New and the
// answer must cover them too. It costs a walk over the routes, on this
// failure path only.
func methodNotAllowed(router *mux.Router) http.Handler {
	body := jsonError(http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed on this route")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allow := allowedMethods(router, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
		}
		body.ServeHTTP(w, r)
	})
}

// allowedMethods returns, sorted, every method some route declares that the
// router would serve at r's URL. Each candidate is tried through the router
// itself, so the answer follows all of mux's rules (path variables' patterns,
// route order, encoded paths) and never names a method that would not be
// served: a GET route does not serve HEAD under mux, so HEAD is named only
// where a route declares it.
func allowedMethods(router *mux.Router, r *http.Request) []string {
	var candidates []string
	_ = router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		// A route without a method matcher has none to offer: had it
		// matched the path, the request would not have been refused.
		methods, err := route.GetMethods()
		if err != nil {
			return nil
		}
		for _, m := range methods {
			if !slices.Contains(candidates, m) {
				candidates = append(candidates, m)
			}
		}
		return nil
	})
	var allowed []string
	for _, m := range candidates {
		probe := *r
		probe.Method = m
		var match mux.RouteMatch
		if router.Match(&probe, &match) && match.MatchErr == nil {
			allowed = append(allowed, m)
		}
	}
	slices.Sort(allowed)
	return allowed
}
