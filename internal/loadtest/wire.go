package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// wire is one client's keep-alive HTTP/1.1 connection to the server, and
// the whole of the client a worker uses: it writes each request in one
// call from a reused buffer and reads the answer on the same goroutine.
// net/http's Transport hands every request to two goroutines of its own
// per connection and allocates for each; on a machine the server shares
// with PostgreSQL, that client cost most of what a read costs the server,
// so the run measured the client as much as the server. wire never follows
// a redirect, never uses a proxy and talks only to the base URL's host.
type wire struct {
	// ctx is the run's: once it ends, the request in flight is cut off.
	ctx     context.Context
	addr    string // host:port to dial
	host    string // the Host header
	tls     *tls.Config
	timeout time.Duration

	conn net.Conn
	br   *bufio.Reader
	// unwatch stops conn's watch on ctx.
	unwatch func() bool
	req     []byte
	body    bytes.Buffer
}

// newWire returns a wire to base's host that dials on first use. Each
// request must finish within timeout.
func newWire(ctx context.Context, base *url.URL, timeout time.Duration) *wire {
	w := &wire{ctx: ctx, host: base.Host, addr: base.Host, timeout: timeout}
	port := base.Port()
	if base.Scheme == "https" {
		w.tls = &tls.Config{ServerName: base.Hostname()}
		if port == "" {
			port = "443"
		}
	} else if port == "" {
		port = "80"
	}
	w.addr = net.JoinHostPort(base.Hostname(), port)
	return w
}

// errBodyTooLarge is an answer whose body passes maxBody.
var errBodyTooLarge = fmt.Errorf("response body exceeds %d bytes", maxBody)

// do sends one request, with header lines (each ending in \r\n) and body
// as JSON unless body is nil, and returns the status and the body, which
// is valid until the next call. Any error closes the connection; the next
// request dials a new one.
func (w *wire) do(method, target string, header []byte, body []byte) (int, []byte, error) {
	if err := w.dial(); err != nil {
		return 0, nil, err
	}
	req := append(w.req[:0], method...)
	req = append(req, ' ')
	req = append(req, target...)
	req = append(req, " HTTP/1.1\r\nHost: "...)
	req = append(req, w.host...)
	req = append(req, "\r\n"...)
	req = append(req, header...)
	if body != nil {
		req = append(req, "Content-Type: application/json\r\nContent-Length: "...)
		req = strconv.AppendInt(req, int64(len(body)), 10)
		req = append(req, "\r\n"...)
	}
	req = append(req, "\r\n"...)
	req = append(req, body...)
	w.req = req

	if err := w.conn.SetDeadline(time.Now().Add(w.timeout)); err != nil {
		return 0, nil, w.fail(err)
	}
	if _, err := w.conn.Write(req); err != nil {
		return 0, nil, w.fail(err)
	}
	resp, err := http.ReadResponse(w.br, nil)
	if err != nil {
		return 0, nil, w.fail(err)
	}
	w.body.Reset()
	_, err = w.body.ReadFrom(io.LimitReader(resp.Body, maxBody+1))
	resp.Body.Close()
	switch {
	case err != nil:
		return 0, nil, w.fail(fmt.Errorf("read response: %w", err))
	case w.body.Len() > maxBody:
		return 0, nil, w.fail(errBodyTooLarge)
	case resp.Close:
		w.close()
	}
	return resp.StatusCode, w.body.Bytes(), nil
}

// dial connects unless the wire is connected already.
func (w *wire) dial() error {
	if w.conn != nil {
		return nil
	}
	d := net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	conn, err := d.DialContext(w.ctx, "tcp", w.addr)
	if err != nil {
		return err
	}
	if w.tls != nil {
		tc := tls.Client(conn, w.tls)
		if err := tc.HandshakeContext(w.ctx); err != nil {
			conn.Close()
			return err
		}
		conn = tc
	}
	w.conn = conn
	w.br = bufio.NewReaderSize(conn, 16<<10)
	// One watch per connection, not per request: the run ending cuts
	// off whatever the connection is waiting for.
	w.unwatch = context.AfterFunc(w.ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	return nil
}

// fail closes the connection and returns err, as the context's error
// if the run ended.
func (w *wire) fail(err error) error {
	w.close()
	if ctxErr := w.ctx.Err(); ctxErr != nil {
		return errors.Join(ctxErr, err)
	}
	return err
}

// close closes the connection, if any.
func (w *wire) close() {
	if w.conn == nil {
		return
	}
	w.unwatch()
	w.conn.Close()
	w.conn, w.br = nil, nil
}
