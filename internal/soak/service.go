package soak

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// service is the checkoutd process under test, run from the binary as a
// child and restarted after every kill. Its log goes to one file across
// restarts.
type service struct {
	bin  string
	env  []string
	log  *os.File
	base string

	mu      sync.Mutex
	cmd     *exec.Cmd
	started time.Time
	// exited is closed when the current process has exited.
	exited chan struct{}
	// expectExit is set while the soak itself ends the process.
	expectExit bool
	// onCrash is told when the process exits without the soak ending it.
	onCrash func()
}

// runOnce runs the binary with args to the end (checkoutd migrate), its
// output going to the service log.
func (s *service) runOnce(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Env = s.env
	cmd.Stdout, cmd.Stderr = s.log, s.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("checkoutd %v: %w (see %s)", args, err, s.log.Name())
	}
	return nil
}

// start starts `checkoutd serve` and waits until it is ready.
func (s *service) start(ctx context.Context) error {
	cmd := exec.Command(s.bin, "serve")
	cmd.Env = s.env
	cmd.Stdout, cmd.Stderr = s.log, s.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start checkoutd serve: %w", err)
	}
	exited := make(chan struct{})
	s.mu.Lock()
	s.cmd, s.started, s.exited, s.expectExit = cmd, time.Now(), exited, false
	s.mu.Unlock()
	go func() {
		_ = cmd.Wait()
		close(exited)
		s.mu.Lock()
		crashed := !s.expectExit && s.cmd == cmd
		onCrash := s.onCrash
		s.mu.Unlock()
		if crashed && onCrash != nil {
			onCrash()
		}
	}()
	return s.waitReady(ctx, exited)
}

// waitReady waits for /readyz to answer 200.
func (s *service) waitReady(ctx context.Context, exited chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("checkoutd was not ready within a minute (see %s)", s.log.Name())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			return fmt.Errorf("checkoutd exited while starting (see %s)", s.log.Name())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// current returns the running process, the time it started and the
// channel closed when it exits.
func (s *service) current() (*exec.Cmd, time.Time, chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd, s.started, s.exited
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *service) kill() error {
	return s.end(syscall.SIGKILL, 5*time.Second)
}

// stop ends the process gracefully (SIGTERM), as a deploy would.
func (s *service) stop() error {
	return s.end(syscall.SIGTERM, 40*time.Second)
}

func (s *service) end(sig syscall.Signal, within time.Duration) error {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.expectExit = true
	s.mu.Unlock()
	if cmd == nil {
		return nil
	}
	// A stopped process must run again to act on SIGTERM.
	_ = cmd.Process.Signal(syscall.SIGCONT)
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal checkoutd: %w", err)
	}
	select {
	case <-exited:
		return nil
	case <-time.After(within):
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("checkoutd did not exit within %v of %v; killed", within, sig)
	}
}

// signal sends sig (SIGSTOP, SIGCONT) to the running process.
func (s *service) signal(sig syscall.Signal) error {
	cmd, _, _ := s.current()
	if cmd == nil {
		return errors.New("checkoutd is not running")
	}
	if err := cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("send %v to checkoutd: %w", sig, err)
	}
	return nil
}
