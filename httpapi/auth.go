package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/checkoutd/checkoutd/internal/apikey"
)

// principal is who a request acts for: the service, or one shop.
type principal struct {
	service bool
	shopID  string
}

type principalKey struct{}

// mayActOn reports whether the caller may touch shopID. A shop key naming
// another shop is answered like an unknown shop, so keys cannot probe which
// shops exist.
func mayActOn(ctx context.Context, shopID string) bool {
	p, _ := ctx.Value(principalKey{}).(principal)
	return p.service || (p.shopID != "" && p.shopID == shopID)
}

// authenticate requires a valid bearer token: the service token or a shop API
// key.
func (a *API) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		token = strings.TrimSpace(token)
		if !ok || token == "" {
			writeError(w, http.StatusUnauthorized, "unauthorized", "missing bearer token", nil)
			return
		}
		var p principal
		if a.serviceToken.Matches(token) {
			p.service = true
		} else {
			shopID, err := a.keys.Verify(r.Context(), token)
			switch {
			case errors.Is(err, apikey.ErrInvalid):
				writeError(w, http.StatusUnauthorized, "unauthorized", "invalid bearer token", nil)
				return
			case err != nil:
				a.fail(w, r, err)
				return
			}
			p.shopID = shopID
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// authorizeShop answers 404 for a route naming a shop the caller may not
// act on.
func (a *API) authorizeShop(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !mayActOn(r.Context(), pathVar(r, "shopId")) {
			writeNotFound(w, "shop not found")
			return
		}
		next.ServeHTTP(w, r)
	})
}
