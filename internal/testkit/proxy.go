package testkit

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd/internal/testdb"
)

// Proxy forwards TCP connections to a target until killed, standing in for
// the network path to the database: killing it is the database going away
// mid-request.
type Proxy struct {
	ln      net.Listener
	network string
	target  string
	mu      sync.Mutex
	conns   []net.Conn
	killed  bool
}

// StartProxy listens on a free local port and forwards to target over
// network ("tcp" or "unix") until the test ends or Kill is called.
func StartProxy(tb testing.TB, network, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("proxy listen: %v", err)
	}
	p := &Proxy{ln: ln, network: network, target: target}
	go p.serve()
	tb.Cleanup(p.Kill)
	return p
}

// Addr is where the proxy listens.
func (p *Proxy) Addr() *net.TCPAddr { return p.ln.Addr().(*net.TCPAddr) }

func (p *Proxy) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial(p.network, p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		if p.killed {
			p.mu.Unlock()
			in.Close()
			out.Close()
			return
		}
		p.conns = append(p.conns, in, out)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(out, in); out.Close() }()
		go func() { _, _ = io.Copy(in, out); in.Close() }()
	}
}

// Kill closes the listener and every connection: the database is gone.
// Killing twice is harmless.
func (p *Proxy) Kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.killed {
		return
	}
	p.killed = true
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
}

// ProxiedURL returns the URL of the package's test database (testdb.URL)
// reached through a proxy the test can kill.
func ProxiedURL(tb testing.TB) (string, *Proxy) {
	tb.Helper()
	dbURL := testdb.URL(tb)
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		tb.Fatalf("parse database URL: %v", err)
	}
	network, target := "tcp", net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port))
	if strings.HasPrefix(cfg.Host, "/") {
		network, target = "unix", fmt.Sprintf("%s/.s.PGSQL.%d", cfg.Host, cfg.Port)
	}
	proxy := StartProxy(tb, network, target)
	addr := proxy.Addr()
	if u, err := url.Parse(dbURL); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		if u.User == nil {
			u.User = url.User(cfg.User)
		}
		u.Host = addr.String()
		q := u.Query()
		q.Del("host")
		q.Del("port")
		u.RawQuery = q.Encode()
		return u.String(), proxy
	}
	// Keyword/value: a later keyword overrides an earlier one.
	return fmt.Sprintf("%s host=%s port=%d", dbURL, addr.IP, addr.Port), proxy
}
