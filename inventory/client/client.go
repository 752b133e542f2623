package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// DefaultTimeout bounds each request when Config.Timeout is zero: the
// integration guide's default INVENTORY_AUTHORITY_TIMEOUT of 5000 ms.
const DefaultTimeout = 5 * time.Second

// MaxEnvTimeout is the largest INVENTORY_AUTHORITY_TIMEOUT ConfigFromEnv
// accepts: one hour, 3600000 ms. Anything longer is taken for a unit
// mistake rather than a request budget.
const MaxEnvTimeout = time.Hour

// The environment variables ConfigFromEnv reads.
const (
	EnvURL     = "INVENTORY_AUTHORITY_URL"
	EnvToken   = "INVENTORY_AUTHORITY_TOKEN"
	EnvTimeout = "INVENTORY_AUTHORITY_TIMEOUT"
)

// apiPrefix is where the server mounts the inventory API.
const apiPrefix = "/api/inventory"

// userAgent identifies the client in the server's request logs.
const userAgent = "checkoutd-inventory-client/1"

// Response body limits. A success body is at most a page of 500 stock lines
// or movements; an error body is a code, a message and a few fields.
const (
	maxResponseBytes = 16 << 20
	maxErrorBytes    = 64 << 10
)

// Config configures a Client.
type Config struct {
	// BaseURL is the authority's http or https URL: the server's root
	// ("https://cms.example.com"), possibly under a path prefix, with or
	// without the trailing "/api/inventory" the integration guide's examples
	// carry. It must have no query, fragment or user info. Required.
	BaseURL string
	// Token is the bearer token sent on every request but HealthCheck: the
	// service token (which may act on every shop) or a shop API key (which
	// may act only on its own shop). Required.
	Token string
	// Timeout bounds each call, from sending the request to reading the
	// whole response. Zero means DefaultTimeout; negative is an error. A
	// context deadline that comes first applies instead.
	Timeout time.Duration
	// HTTPClient sends the requests. Nil means a client on
	// http.DefaultTransport that does not follow redirects: the API never
	// redirects, and following one could turn a POST into a GET or send the
	// token elsewhere. A client given here is used as it is, redirect policy
	// and Timeout included.
	HTTPClient *http.Client
}

// Client calls the inventory API of one checkoutd server. It is safe for
// concurrent use; make one per process and share it.
type Client struct {
	// base is scheme://host plus any path prefix, without /api/inventory
	// and without a trailing slash.
	base    string
	token   string
	timeout time.Duration
	http    *http.Client
}

// New returns a client for cfg, or an error naming the first field that is
// missing or malformed. It makes no request.
func New(cfg Config) (*Client, error) {
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("inventory client: BaseURL: %w", err)
	}
	if err := checkToken(cfg.Token); err != nil {
		return nil, fmt.Errorf("inventory client: Token: %w", err)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("inventory client: Timeout is %s: must not be negative", cfg.Timeout)
	}
	c := &Client{base: base, token: cfg.Token, timeout: cfg.Timeout, http: cfg.HTTPClient}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.http == nil {
		c.http = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	return c, nil
}

// ConfigFromEnv reads a Config from INVENTORY_AUTHORITY_URL,
// INVENTORY_AUTHORITY_TOKEN and INVENTORY_AUTHORITY_TIMEOUT (whole
// milliseconds from 1 to 3600000; default 5000). Surrounding whitespace is
// ignored. The error names every variable that is missing or malformed; the
// token's value is never part of it. HTTPClient is left nil.
func ConfigFromEnv() (Config, error) {
	return configFromLookup(os.LookupEnv)
}

// configFromLookup is ConfigFromEnv reading through lookup, so tests need
// not change the process environment.
func configFromLookup(lookup func(string) (string, bool)) (Config, error) {
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	var cfg Config
	var errs []error

	cfg.BaseURL = get(EnvURL)
	if cfg.BaseURL == "" {
		errs = append(errs, fmt.Errorf("%s is not set", EnvURL))
	} else if _, err := parseBaseURL(cfg.BaseURL); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", EnvURL, err))
	}

	cfg.Token = get(EnvToken)
	if cfg.Token == "" {
		errs = append(errs, fmt.Errorf("%s is not set", EnvToken))
	} else if err := checkToken(cfg.Token); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", EnvToken, err))
	}

	cfg.Timeout = DefaultTimeout
	if v := get(EnvTimeout); v != "" {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ms < 1 || ms > MaxEnvTimeout.Milliseconds() {
			errs = append(errs, fmt.Errorf("%s=%q: must be a whole number of milliseconds from 1 to %d",
				EnvTimeout, v, MaxEnvTimeout.Milliseconds()))
		} else {
			cfg.Timeout = time.Duration(ms) * time.Millisecond
		}
	}

	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("inventory client config: %w", err)
	}
	return cfg, nil
}

// parseBaseURL checks raw and returns it as scheme://host[/prefix], with any
// trailing slash and /api/inventory suffix removed.
func parseBaseURL(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the URL, which is what we would add.
		return "", fmt.Errorf("is not a URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("%q: scheme must be http or https", raw)
	case u.Host == "":
		return "", fmt.Errorf("%q: has no host", raw)
	case u.User != nil:
		return "", fmt.Errorf("%s: must not carry user info; credentials go in the token", u.Redacted())
	case u.RawQuery != "" || u.ForceQuery:
		return "", fmt.Errorf("%q: must not have a query", raw)
	case u.Fragment != "":
		return "", fmt.Errorf("%q: must not have a fragment", raw)
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	path = strings.TrimSuffix(path, apiPrefix)
	path = strings.TrimRight(path, "/")
	return u.Scheme + "://" + u.Host + path, nil
}

// checkToken rejects tokens that cannot be sent in a header as they are.
func checkToken(token string) error {
	if token == "" {
		return errors.New("is empty")
	}
	for _, r := range token {
		if r <= ' ' || r == 0x7f {
			return errors.New("contains whitespace or control characters")
		}
	}
	return nil
}

// errOwnTimeout is the cause of a call's context expiring at Config.Timeout,
// as opposed to a deadline of the caller's context.
var errOwnTimeout = errors.New("client timeout")

// call sends one API request and decodes a 2xx response's body into out
// (which may be nil). path is relative to /api/inventory and already
// escaped; in, when not nil, is sent as JSON. op describes the call for error
// messages.
func (c *Client) call(ctx context.Context, op, method, path string, query url.Values, in, out any) error {
	return c.callRoot(ctx, op, method, apiPrefix+path, query, in, out)
}

// callRoot is call for a path relative to the server's root, for the routes
// outside the inventory API (/api/checkout/sessions).
func (c *Client) callRoot(ctx context.Context, op, method, path string, query url.Values, in, out any) error {
	if err := c.do(ctx, method, path, query, in, out); err != nil {
		return fmt.Errorf("inventory client: %s: %w", op, err)
	}
	return nil
}

func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	ctx, cancel := context.WithTimeoutCause(ctx, c.timeout, errOwnTimeout)
	defer cancel()

	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	target := c.base + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return c.transportError(ctx, err)
	}
	defer resp.Body.Close()

	switch status := resp.StatusCode; {
	case status >= 200 && status < 300:
		data, err := readBody(resp.Body, maxResponseBytes)
		if err != nil {
			return c.transportError(ctx, fmt.Errorf("read HTTP %d response: %w", status, err))
		}
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%w: HTTP %d response is not the API's JSON: %w", ErrUnavailable, status, err)
		}
		return nil
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		// The status says it all; a body that cannot be read adds nothing.
		eb, _ := readErrorBody(resp.Body)
		return fmt.Errorf("%w: HTTP %d%s", ErrAuthentication, status, eb.describe())
	case status >= 500:
		eb, _ := readErrorBody(resp.Body)
		return fmt.Errorf("%w: HTTP %d%s", ErrUnavailable, status, eb.describe())
	default:
		eb, err := readErrorBody(resp.Body)
		if err != nil {
			return c.transportError(ctx, fmt.Errorf("read HTTP %d response: %w", status, err))
		}
		return eb.apiError(resp)
	}
}

// transportError classifies an error that left the request without a
// complete answer: a timeout, the caller cancelling, or the authority being
// out of reach.
func (c *Client) transportError(ctx context.Context, err error) error {
	var netErr net.Error
	switch {
	case errors.Is(context.Cause(ctx), errOwnTimeout):
		return fmt.Errorf("%w: no answer within %s: %w", ErrTimeout, c.timeout, err)
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: context deadline passed: %w", ErrTimeout, err)
	case ctx.Err() != nil:
		// The caller gave up; nothing is known about the authority.
		return err
	case errors.As(err, &netErr) && netErr.Timeout():
		// A dial, TLS handshake or http.Client.Timeout of the caller's own
		// HTTPClient.
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// readBody reads all of r, failing beyond limit bytes.
func readBody(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("response body exceeds %d bytes", limit)
	}
	return data, nil
}

// HealthCheck reports whether the authority is ready to serve: true only if
// GET /api/inventory/health answers 200 within the timeout. It sends no
// token and never fails; anything but 200 (a refused connection, a timeout,
// 503 while the database is down) is false. Use it for dashboards and
// warnings, not as a gate: a checkout must still fail closed on the error of
// the call it depends on.
func (c *Client) HealthCheck(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+apiPrefix+"/health", nil)
	if err != nil {
		return false
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	// Drained so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBytes))
	return resp.StatusCode == http.StatusOK
}

// pathSegment escapes s as one path segment. "." and ".." are valid SKUs
// but would be taken as dot segments and cleaned away by the server's router,
// so their dots are percent-encoded too; the server decodes them back.
func pathSegment(s string) string {
	if s == "." || s == ".." {
		return strings.ReplaceAll(s, ".", "%2E")
	}
	return url.PathEscape(s)
}

// shopPath returns "/shops/{shopID}", escaped, relative to /api/inventory.
func shopPath(shopID string) (string, error) {
	seg, err := segment("shop id", shopID)
	if err != nil {
		return "", err
	}
	return "/shops/" + seg, nil
}

// segment escapes v, a caller-supplied identifier named what, as one path
// segment. An empty one would change the route, so it is an error.
func segment(what, v string) (string, error) {
	if v == "" {
		return "", fmt.Errorf("%s is empty", what)
	}
	return pathSegment(v), nil
}
