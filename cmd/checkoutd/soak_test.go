package main

import (
	"context"
	"strings"
	"testing"
)

// The soak itself runs only under make soak; here its command line alone.
func TestSoakCommandLine(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string // substring
	}{
		{name: "help", args: []string{"soak", "-h"}, wantCode: 0, wantStderr: "-duration"},
		{name: "hold TTL below the service's least", args: []string{"soak", "--hold-ttl", "30s"}, wantCode: 2, wantStderr: "the hold TTL must be whole seconds from 60s to 1h"},
		{name: "no clients", args: []string{"soak", "--clients", "0"}, wantCode: 2, wantStderr: "--clients must be from 1 to 256"},
		// Under go test the binary is the test binary, which the soak refuses
		// to run: it would run the tests instead of checkoutd.
		{name: "test binary", args: []string{"soak", "--duration", "1s"}, wantCode: 2, wantStderr: "is a test binary, not checkoutd"},
		{name: "test binary named", args: []string{"soak", "--binary", "/tmp/checkoutd.test", "--duration", "1s"}, wantCode: 2, wantStderr: "/tmp/checkoutd.test is a test binary, not checkoutd"},
		{name: "extra argument", args: []string{"soak", "now"}, wantCode: 2, wantStderr: `checkoutd soak: unexpected argument "now"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, nil)
			code, stdout, stderr := runCommand(context.Background(), tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantStderr) || stdout != "" {
				t.Errorf("checkoutd %s = %d\nstdout: %s\nstderr: %s\nwant %d, no stdout, stderr containing %q",
					strings.Join(tt.args, " "), code, stdout, stderr, tt.wantCode, tt.wantStderr)
			}
		})
	}
}
