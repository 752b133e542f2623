package soak

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// postgres is a private PostgreSQL server the soak starts, crash-restarts
// and finally stops: nobody else's data is ever at risk.
type postgres struct {
	bindir  string
	datadir string
	port    int
	// cred runs the server as another user when the soak runs as root,
	// which initdb and postgres refuse.
	cred *syscall.Credential
}

// findPGBindir returns the directory of PostgreSQL's server binaries: from
// pg_config --bindir, or else the newest /usr/lib/postgresql/*/bin, as
// scripts/with-postgres looks for them.
func findPGBindir() (string, error) {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dir := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) < pgMajor(dirs[j]) })
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "pg_ctl")); err == nil {
			return dirs[i], nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries found (pg_config --bindir, /usr/lib/postgresql/*/bin): install postgresql")
}

func pgMajor(bindir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(bindir)))
	return n
}

// startPostgres creates a cluster in dir (which must not exist yet) and
// starts it on a free loopback port, with durability on: a crash restart
// must find every committed transaction.
func startPostgres(ctx context.Context, dir string) (*postgres, error) {
	bindir, err := findPGBindir()
	if err != nil {
		return nil, err
	}
	pg := &postgres{bindir: bindir, datadir: dir}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root, PostgreSQL needs another user to run as, and there is no user postgres: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		pg.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create PostgreSQL data directory: %w", err)
	}
	if pg.cred != nil {
		if err := os.Chown(dir, int(pg.cred.Uid), int(pg.cred.Gid)); err != nil {
			return nil, fmt.Errorf("hand the data directory to user postgres: %w", err)
		}
	}
	if err := pg.run(ctx, "initdb", "-D", dir, "--username=postgres", "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"); err != nil {
		return nil, err
	}
	if pg.port, err = freePort(); err != nil {
		return nil, err
	}
	conf := fmt.Sprintf("\n# Added by the checkoutd soak.\nlisten_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\nmax_connections = 100\n", pg.port, dir)
	if err := pg.appendConf(conf); err != nil {
		return nil, err
	}
	if err := pg.start(ctx); err != nil {
		return nil, err
	}
	return pg, nil
}

// url is the connection string of the server's postgres database.
func (pg *postgres) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", pg.port)
}

// start starts the server and waits until it accepts connections.
func (pg *postgres) start(ctx context.Context) error {
	return pg.run(ctx, "pg_ctl", "-D", pg.datadir, "-l", filepath.Join(pg.datadir, "server.log"), "-w", "-t", "60", "start")
}

// crash stops the server the way a crash would: no checkpoint, every
// connection cut; the next start recovers from the WAL.
func (pg *postgres) crash(ctx context.Context) error {
	return pg.run(ctx, "pg_ctl", "-D", pg.datadir, "-m", "immediate", "-w", "stop")
}

// stop shuts the server down for good.
func (pg *postgres) stop(ctx context.Context) error {
	return pg.run(ctx, "pg_ctl", "-D", pg.datadir, "-m", "fast", "-w", "stop")
}

// run runs one of the server's binaries as the server's user.
func (pg *postgres) run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(pg.bindir, name), args...)
	// From / because the soak's directory may be closed to that user; in
	// a process group of its own so that a ^C reaches the soak alone, which
	// then stops the server.
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred, Setpgid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

func (pg *postgres) appendConf(text string) error {
	f, err := os.OpenFile(filepath.Join(pg.datadir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("configure PostgreSQL: %w", err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return fmt.Errorf("configure PostgreSQL: %w", err)
	}
	return f.Close()
}

// freePort returns a loopback TCP port nobody listens on right now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
