// Package stripemock runs the real stripe-mock (github.com/stripe/stripe-mock)
// for tests: a server that validates requests against Stripe's OpenAPI
// schema and answers with fixtures, so tests prove that what checkoutd sends
// is a request Stripe's API accepts.
//
// The binary is looked up in $STRIPE_MOCK_BIN, then on PATH, then in
// $(go env GOPATH)/bin, where `make test` installs it. Without it, tests
// that need it are skipped, except on CI (CI set), where a skipped suite
// would go unnoticed, so they fail.
package stripemock

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// EnvBinary names the environment variable that points at the binary.
const EnvBinary = "STRIPE_MOCK_BIN"

// startTimeout bounds how long stripe-mock may take to start answering.
const startTimeout = 30 * time.Second

// Start starts stripe-mock on free loopback ports and returns its HTTP base
// URL (for stripe.BackendConfig.URL, e.g. "http://127.0.0.1:41234"). It
// returns once stripe-mock answers, and stops it when tb's test finishes.
func Start(tb testing.TB) (baseURL string) {
	tb.Helper()
	bin, err := find(os.Getenv, exec.LookPath, goPath)
	if err != nil {
		missing(tb, os.Getenv, err)
		return ""
	}
	// Port 0 everywhere: stripe-mock otherwise also listens on its default
	// HTTPS port (12112), which another run may hold.
	cmd := exec.Command(bin, "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0")
	// A pipe of our own rather than StdoutPipe, which Wait would close
	// while we may still be reading.
	out, w, err := os.Pipe()
	if err != nil {
		tb.Fatalf("stripemock: %v", err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	err = cmd.Start()
	w.Close()
	if err != nil {
		out.Close()
		tb.Fatalf("stripemock: start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	var log tail
	addr := make(chan string, 1)
	go func() {
		scanForAddress(out, &log, addr)
		// Keep draining so stripe-mock never blocks on a full pipe; this
		// ends when it exits.
		_, _ = io.Copy(io.Discard, out)
		out.Close()
	}()
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	select {
	case a := <-addr:
		baseURL = "http://" + a
	case <-exited:
		tb.Fatalf("stripemock: %s exited before listening:\n%s", bin, log.String())
	case <-ctx.Done():
		tb.Fatalf("stripemock: %s did not say where it listens within %s:\n%s", bin, startTimeout, log.String())
	}
	if err := waitAnswering(ctx, baseURL, exited); err != nil {
		tb.Fatalf("stripemock: %s at %s: %v\n%s", bin, baseURL, err, log.String())
	}
	return baseURL
}

// listening matches stripe-mock's "Listening for HTTP at address: 127.0.0.1:41234".
var listening = regexp.MustCompile(`Listening for HTTP at address: (\S+)`)

// scanForAddress reads stripe-mock's output into log until it announces
// its HTTP address, which it sends on addr.
func scanForAddress(r io.Reader, log *tail, addr chan<- string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		log.add(line)
		if m := listening.FindStringSubmatch(line); m != nil {
			addr <- m[1]
			return
		}
	}
}

// waitAnswering polls stripe-mock until it answers an authenticated request.
func waitAnswering(ctx context.Context, baseURL string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: 2 * time.Second}
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/v1/checkout/sessions/cs_test_ping", nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer sk_test_123")
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		last = err
		select {
		case <-exited:
			return errors.New("exited before answering")
		case <-ctx.Done():
			return fmt.Errorf("not answering within %s: %w", startTimeout, last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// find returns the path of the stripe-mock binary: $STRIPE_MOCK_BIN, else
// stripe-mock on PATH, else in a GOPATH's bin directory.
func find(getenv func(string) string, lookPath func(string) (string, error), gopath func() []string) (string, error) {
	if p := getenv(EnvBinary); p != "" {
		if !isExecutable(p) {
			return "", fmt.Errorf("%s=%s is not an executable file", EnvBinary, p)
		}
		return p, nil
	}
	if p, err := lookPath("stripe-mock"); err == nil {
		return p, nil
	}
	looked := []string{"PATH"}
	for _, dir := range gopath() {
		p := filepath.Join(dir, "bin", "stripe-mock")
		if isExecutable(p) {
			return p, nil
		}
		looked = append(looked, p)
	}
	return "", fmt.Errorf("stripe-mock not found (looked on %s; %s is not set)", strings.Join(looked, ", "), EnvBinary)
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// goPath lists the GOPATH entries as the go command sees them.
func goPath() []string {
	var v string
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		v = strings.TrimSpace(string(out))
	}
	if v == "" {
		v = os.Getenv("GOPATH")
	}
	if v == "" {
		if home, err := os.UserHomeDir(); err == nil {
			v = filepath.Join(home, "go")
		}
	}
	return filepath.SplitList(v)
}

// missing skips tb for want of the binary, or fails it on CI.
func missing(tb testing.TB, getenv func(string) string, err error) {
	tb.Helper()
	msg := fmt.Sprintf("stripemock: %v. `make test` installs it (or go install github.com/stripe/stripe-mock@<version>; or set %s)", err, EnvBinary)
	if onCI(getenv) {
		tb.Fatal(msg + "; CI is set, so this fails rather than skipping the Stripe schema tests")
	}
	tb.Skip(msg)
}

// onCI reports whether the CI environment variable is set to anything but
// a false value.
func onCI(getenv func(string) string) bool {
	v := getenv("CI")
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	return err != nil || b
}

// tail keeps the last lines of stripe-mock's output for error messages.
type tail struct {
	mu    sync.Mutex
	lines []string
}

func (t *tail) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == 20 {
		t.lines = t.lines[1:]
	}
	t.lines = append(t.lines, line)
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return "\t" + strings.Join(t.lines, "\n\t")
}
