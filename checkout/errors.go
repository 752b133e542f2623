package checkout

import "errors"

// ErrPaymentProvider is wrapped into errors from Stripe. Any hold placed for
// the checkout has been released.
var ErrPaymentProvider = errors.New("payment provider error")

// ErrInProgress is returned for a request whose idempotency key belongs to a
// checkout another request is still creating.
var ErrInProgress = errors.New("a checkout with this idempotency key is being created")
