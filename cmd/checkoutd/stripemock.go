package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"time"
)

// startStripeMock runs stripe-mock on a free loopback port for as long as ctx
// lasts and returns its base URL, its process id, and a channel closed once
// it has exited and been waited for, so that checkoutd dev leaves no zombie. The binary is STRIPE_MOCK_BIN or
// stripe-mock on PATH; make dev installs it at the pinned version.
func startStripeMock(ctx context.Context) (string, int, <-chan struct{}, error) {
	bin := os.Getenv("STRIPE_MOCK_BIN")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("stripe-mock"); err != nil {
			return "", 0, nil, errors.New("stripe-mock is not installed: run 'make stripe-mock', or set STRIPE_SECRET_KEY to use Stripe's test mode")
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", 0, nil, fmt.Errorf("find a port for stripe-mock: %w", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	// Its HTTPS listener gets a free port too, so it never fights over the
	// default one.
	cmd := exec.CommandContext(ctx, bin, "-http-addr", addr, "-https-addr", "127.0.0.1:0")
	if err := cmd.Start(); err != nil {
		return "", 0, nil, fmt.Errorf("start stripe-mock: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			_ = conn.Close()
			return "http://" + addr, cmd.Process.Pid, exited, nil
		}
	}
	return "", 0, nil, fmt.Errorf("stripe-mock did not answer on %s", addr)
}
