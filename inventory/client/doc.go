// Package client is the Go client of checkoutd's inventory HTTP API, the
// "inventory authority" that edge workers and shop backends call before and
// during checkout. It speaks the API of docs/http-api.md (v1) and nothing else:
// every method is one HTTP request, made with the service token or a shop
// API key, bounded by Config.Timeout.
//
// # Configuration
//
// ConfigFromEnv reads the variables of the integration guide:
//
//	INVENTORY_AUTHORITY_URL      required; https://host or https://host/api/inventory
//	INVENTORY_AUTHORITY_TOKEN    required; the service token or a shop API key
//	INVENTORY_AUTHORITY_TIMEOUT  optional; per-request timeout in milliseconds (default 5000)
//
// The URL may name the server's root or, as the integration guide's examples
// do, its inventory API ("https://cms.example.com/api/inventory"); the two are
// the same to this package, which adds /api/inventory itself when it is
// missing. A server mounted under a path prefix works as well:
// "https://example.com/checkoutd" and "https://example.com/checkoutd/api/inventory"
// both reach https://example.com/checkoutd/api/inventory/validate.
//
// # Errors: failing closed
//
// An error from a method means the answer is unknown or negative; an edge
// worker must then refuse the checkout, never let it through. Errors fall
// into four groups, which callers tell apart with errors.Is and errors.As.
// The first three are the integration guide's "Worker Validation Errors",
// and their Error texts are the guide's messages, lowercased as Go error
// strings are ("inventory authority unavailable"):
//
//   - ErrUnavailable: the authority could not be reached (connection refused
//     or reset, DNS failure, TLS failure), answered with a 5xx status (503
//     inventory_unavailable when its database is down, a proxy's 502), or
//     answered with a body that is not the contract's. The edge answers 503
//     {"error": "inventory_unavailable"}.
//   - ErrTimeout: no complete answer within Config.Timeout or before the
//     context's deadline, whichever came first. The request may still have
//     taken effect on the server. The edge answers 504
//     {"error": "inventory_timeout"}.
//   - ErrAuthentication: the authority answered 401 or 403: the token is
//     missing, wrong or revoked. Retrying will not help; the operator must
//     fix INVENTORY_AUTHORITY_TOKEN. The edge logs it and answers 500
//     {"error": "internal_error"}.
//   - *APIError: the authority understood the request and refused it with
//     another status (4xx): insufficient_stock with the short Items,
//     hold_not_active with the hold's HoldStatus, inventory_busy and
//     rate_limited with RetryAfter, invalid_request with Details, not_found,
//     idempotency_conflict, stock_conflict. Its Code is the contract's error
//     code; the Code constants name them.
//
// Anything else is a caller's mistake caught before sending (an empty shop
// id, a TTL that is not whole seconds) or the caller's context being
// cancelled (errors.Is(err, context.Canceled)). Every error is wrapped with
// the operation and what it was about, for instance
// `inventory client: validate shop "s1": inventory authority timeout: ...`.
//
// An edge handler maps them like this:
//
//	res, err := inv.Validate(ctx, shopID, items)
//	var apiErr *client.APIError
//	switch {
//	case errors.Is(err, client.ErrUnavailable):
//		writeJSON(w, 503, map[string]any{"error": "inventory_unavailable"})
//	case errors.Is(err, client.ErrTimeout):
//		writeJSON(w, 504, map[string]any{"error": "inventory_timeout"})
//	case errors.Is(err, client.ErrAuthentication):
//		log.Error("inventory auth failed: check INVENTORY_AUTHORITY_TOKEN", "error", err)
//		writeJSON(w, 500, map[string]any{"error": "internal_error"})
//	case errors.As(err, &apiErr) && apiErr.Code == client.CodeInvalidRequest:
//		writeJSON(w, 400, map[string]any{"error": "invalid_request", "details": apiErr.Details})
//	case err != nil:
//		log.Error("inventory validation failed", "error", err)
//		writeJSON(w, 500, map[string]any{"error": "internal_error"})
//	case !res.OK:
//		writeJSON(w, 409, map[string]any{"error": "insufficient_stock", "items": res.Insufficient})
//	default:
//		// In stock: proceed with the checkout.
//	}
//
// Example (the package example) runs this handler against a real server.
//
// The client does not retry. Validate and the reads are safe to repeat;
// CreateHold is when it carries an IdempotencyKey, and CommitHold and
// ReleaseHold are idempotent on the server. What a retry is worth within an
// edge request's budget is the caller's call.
//
// # Types
//
// The request and response types here are the client's own, not those of
// package inventory, although they mirror them field for field (a test keeps
// their JSON names in step). Package inventory is the server's domain: it
// links the PostgreSQL driver and Prometheus, which have no place in an edge
// binary, and its types are shaped for the ledger (a ReserveRequest carries a
// TTL the wire does not), so the contract, not the server's Go code, is what
// the client should depend on. The client types differ where Go reads better:
// null strings (a hold's checkoutSessionId, a page's nextCursor) are plain
// strings, empty when null, and TTLs are time.Duration. Responses are decoded
// leniently, ignoring fields this version does not know, so the server can
// add fields without breaking deployed clients.
package client
