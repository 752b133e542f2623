package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// healthcheckTimeout bounds one probe: a container runtime runs it every
// interval and counts a hung probe as a failure anyway.
const healthcheckTimeout = 3 * time.Second

// runHealthcheck GETs /healthz of the server this configuration would run
// and exits 0 on 200, 1 otherwise. It exists for container images built
// FROM scratch, which have no curl or wget for a HEALTHCHECK to call.
func runHealthcheck(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("healthcheck", "[--url url]",
		"GET /healthz of the server on HTTP_ADDR (on this machine) and exit 0 if it\n"+
			"answers 200, else print why and exit 1: a container HEALTHCHECK.")
	target := fs.String("url", "", "the `url` to probe instead (default http://<HTTP_ADDR>/healthz, the\nhost 127.0.0.1 when HTTP_ADDR names none)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noMoreArgs(fs); err != nil {
		return err
	}
	u := *target
	if u == "" {
		u = "http://" + localAddr(a.cfg.HTTPAddr) + "/healthz"
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return usageFail(fs, "bad --url: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(a.stderr, "checkoutd healthcheck: %v\n", err)
		return errReported
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(a.stderr, "checkoutd healthcheck: GET %s answered %s\n", u, resp.Status)
		return errReported
	}
	return nil
}

// localAddr turns a listen address into one to dial on this machine: a
// missing or unspecified host (":8080", "0.0.0.0:8080", "[::]:8080") becomes
// the loopback address.
func localAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
