package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// checkPortFree fails with advice when something already listens on addr,
// before checkoutd dev starts anything, so that a second make dev says so
// at once rather than after its banner.
func checkPortFree(addr, runDir string) error {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln.Close()
	}
	_, port, _ := net.SplitHostPort(addr)
	if !errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("checkoutd dev: cannot listen on HTTP_ADDR=%s: %w", addr, err)
	}
	who := "another program"
	if pid, ok := livePID(filepath.Join(runDir, "checkoutd.pid")); ok {
		who = fmt.Sprintf("checkoutd dev (pid %d, started by make dev)", pid)
	}
	return fmt.Errorf("checkoutd dev: port %s (HTTP_ADDR=%s) is already in use, probably by %s.\n"+
		"  Stop an earlier make dev with:  make stop\n"+
		"  See what listens there with:    ss -ltnp 'sport = :%s'\n"+
		"  Or use another port:            HTTP_ADDR=:%s make dev",
		port, addr, who, port, otherPort(port))
}

// otherPort suggests a port next to port.
func otherPort(port string) string {
	n, err := strconv.Atoi(port)
	if err != nil || n >= 65535 {
		return "8081"
	}
	return strconv.Itoa(n + 1)
}

// livePID reads a pid file and reports whether that process still runs.
func livePID(path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	// Signal 0 checks that the process exists without touching it.
	return pid, syscall.Kill(pid, 0) == nil
}

// orphanPoll is how often checkoutd dev checks that its parent still runs.
const orphanPoll = time.Second

// stopWhenOrphaned cancels the run when the process that started checkoutd
// dev exits, as when make dev is killed: its children are then adopted by
// another process, so the parent pid changes. Without this a killed make
// dev would leave the server running, holding its port.
func stopWhenOrphaned(ctx context.Context, cancel context.CancelFunc, logger *slog.Logger) {
	parent := os.Getppid()
	t := time.NewTicker(orphanPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if os.Getppid() != parent {
				logger.InfoContext(ctx, "the process that started checkoutd dev exited; stopping", "parent_pid", parent)
				cancel()
				return
			}
		}
	}
}

// devRun is checkoutd dev's run directory: a pid file per process it runs
// and the env file its banner's commands read. close removes what it wrote.
type devRun struct {
	dir     string
	written []string
}

// newDevRun creates dir if needed and records this process in it.
func newDevRun(dir string) (*devRun, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create run directory: %w", err)
	}
	r := &devRun{dir: dir}
	if err := r.writePID("checkoutd", os.Getpid()); err != nil {
		return nil, err
	}
	return r, nil
}

// writePID records that process name runs as pid.
func (r *devRun) writePID(name string, pid int) error {
	return r.write(name+".pid", strconv.Itoa(pid)+"\n", 0o644)
}

// writeEnv writes the env file; it may hold a database password, hence
// its mode.
func (r *devRun) writeEnv(vars map[string]string) error {
	var b strings.Builder
	b.WriteString("# Written by checkoutd dev for the commands its banner shows\n# (checkoutd --env-file " + filepath.Join(r.dir, "env") + " ...); removed when it stops.\n")
	for _, name := range []string{"DATABASE_URL", "STRIPE_WEBHOOK_SECRET"} {
		fmt.Fprintf(&b, "%s=%s\n", name, envQuote(vars[name]))
	}
	return r.write("env", b.String(), 0o600)
}

func (r *devRun) write(name, content string, mode os.FileMode) error {
	path := filepath.Join(r.dir, name)
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	r.written = append(r.written, path)
	return nil
}

func (r *devRun) close() {
	for _, p := range r.written {
		_ = os.Remove(p)
	}
}

// envQuote writes v so that config.ParseEnvFile reads it back unchanged.
func envQuote(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\n\"'#\\$") {
		return v
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`, "\n", `\n`, "\t", `\t`)
	return `"` + r.Replace(v) + `"`
}
