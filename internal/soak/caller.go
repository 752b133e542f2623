package soak

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// caller sends the soak's requests to checkoutd and records each result.
type caller struct {
	base      string
	token     string
	client    *http.Client
	transport *http.Transport
	rec       *Recorder
}

func newCaller(base, token string, rec *Recorder, timeout time.Duration) *caller {
	t := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		MaxIdleConns:        64,
		MaxIdleConnsPerHost: 64,
		// Well inside the server's idle timeout, so the server never closes
		// a connection just as a request is sent on it.
		IdleConnTimeout: 30 * time.Second,
	}
	return &caller{base: base, token: token, rec: rec, transport: t, client: &http.Client{Transport: t, Timeout: timeout}}
}

// answer is a response: its status and body.
type answer struct {
	Status int
	Body   []byte
}

// ok reports whether the answer is a 2xx.
func (a answer) ok() bool { return a.Status >= 200 && a.Status < 300 }

// errSoakOver is returned for a request cut short because the soak ended:
// nothing about the service is recorded.
var errSoakOver = errors.New("soak over")

// call sends a JSON request (body nil for none) with the bearer token and
// records its result under kind. An error means no answer: the connection
// failed, the request timed out, or the soak ended (errSoakOver).
func (c *caller) call(ctx context.Context, kind, method, path string, body any) (answer, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return answer{}, fmt.Errorf("encode %s request: %w", kind, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return answer{}, fmt.Errorf("build %s request: %w", kind, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.send(ctx, kind, req)
}

// send sends req and records its result under kind.
func (c *caller) send(ctx context.Context, kind string, req *http.Request) (answer, error) {
	start := time.Now()
	resp, err := c.client.Do(req)
	var a answer
	if err == nil {
		a.Status = resp.StatusCode
		a.Body, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
	}
	r := request{Kind: kind, Start: start, End: time.Now(), Status: a.Status}
	if err != nil {
		if ctx.Err() != nil {
			return answer{}, errSoakOver
		}
		r.Status, r.Failure = 0, connError
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			r.Failure = timeout
		}
		c.rec.request(r)
		return answer{}, fmt.Errorf("%s: %w", kind, err)
	}
	c.rec.request(r)
	return a, nil
}

// decode reads a JSON answer body into v.
func (a answer) decode(v any) error {
	if err := json.Unmarshal(a.Body, v); err != nil {
		return fmt.Errorf("decode answer (status %d): %w", a.Status, err)
	}
	return nil
}
