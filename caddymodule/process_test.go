package caddymodule_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// runAsCaddy makes the test binary run as Caddy (see TestMain), so tests
// can start, reload and kill -9 real Caddy processes without a build.
const runAsCaddy = "ZEGO_TEST_RUN_AS_CADDY"

// caddyProcess is a real Caddy process with this module.
type caddyProcess struct {
	cmd  *exec.Cmd
	port int
}

// startCaddyProcess runs a Caddy process serving spoolSiteWith on port, with
// its storage in folder, delivering to upstreamAddr; it stops with the
// test unless killed before.
func startCaddyProcess(t *testing.T, port int, folder, upstreamAddr string) *caddyProcess {
	t.Helper()
	dir := t.TempDir()
	config := filepath.Join(dir, "Caddyfile")
	spool := spoolSiteWith(upstreamAddr, "retry 200ms\nmax_age 1m")
	spool.port, spool.secret = port, dedupeSecret
	err := os.WriteFile(config, []byte(fmt.Sprintf(`{
	admin off
	persist_config off
	default_bind 127.0.0.1
	storage file_system %s
}
`, folder)+spool.caddyfile()), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(filepath.Join(dir, "caddy.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "run", "--config", config, "--adapter", "caddyfile")
	cmd.Env = []string{runAsCaddy + "=1", "HOME=" + dir, "XDG_CONFIG_HOME=" + dir, "XDG_DATA_HOME=" + dir, "PATH=" + os.Getenv("PATH")}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &caddyProcess{cmd: cmd, port: port}
	t.Cleanup(func() { p.kill(); log.Close() })
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			conn.Close()
			return p
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(log.Name())
			t.Fatalf("Caddy did not start:\n%s", out)
		}
	}
}

// kill stops the process with SIGKILL: no cleanup, no graceful shutdown.
func (p *caddyProcess) kill() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
}

// siteBody posts body to the spool site on port, with the site's Host.
func siteBody(t *testing.T, port int, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/zego/compose", port), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = fmt.Sprintf("localhost:%d", port)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitDelivered waits until the upstream has every task and the spool is
// empty, then a little longer, and checks each task arrived exactly once.
func waitDelivered(t *testing.T, up *upstream, folder string, tasks []string) {
	t.Helper()
	waitFor(t, 60*time.Second, "the spool was not drained", func() bool {
		return len(spoolFiles(t, folder)) == 0 && len(byKey(up.received())) >= len(tasks)
	})
	time.Sleep(time.Second) // a second delivery would show by now
	counts := byKey(up.received())
	for _, task := range tasks {
		if n := counts[idempotencyKey(1234567890, task)]; n != 1 {
			t.Errorf("task %s delivered %d times, want once", task, n)
		}
	}
	if n := len(up.received()); n != len(tasks) {
		t.Errorf("upstream got %d requests for %d callbacks", n, len(tasks))
	}
}

// TestSpoolSurvivesKill9: callbacks answered 202, then the process is
// killed with SIGKILL before it redelivers; after a restart each is
// delivered once.
func TestSpoolSurvivesKill9(t *testing.T) {
	folder := t.TempDir()
	down := newDownUpstream(t)
	ports, err := freePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	caddy := startCaddyProcess(t, ports[0], folder, down.addr)
	tasks := make([]string, 20)
	for i := range tasks {
		tasks[i] = newTaskID()
		if status := siteBody(t, caddy.port, signed{secret: dedupeSecret, taskID: tasks[i]}.body()); status != http.StatusAccepted {
			t.Fatalf("callback %d: %d, want 202", i, status)
		}
	}
	caddy.kill()
	up := down.start(t)
	startCaddyProcess(t, ports[0], folder, down.addr)
	waitDelivered(t, up, folder, tasks)
}

// TestSpoolSharedByTwoProcesses: two Caddy processes share one storage
// folder; 200 callbacks spooled through both while the upstream is down are
// each delivered exactly once when it returns.
func TestSpoolSharedByTwoProcesses(t *testing.T) {
	folder := t.TempDir()
	down := newDownUpstream(t)
	ports, err := freePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	first := startCaddyProcess(t, ports[0], folder, down.addr)
	second := startCaddyProcess(t, ports[1], folder, down.addr)
	tasks := make([]string, 200)
	var wg sync.WaitGroup
	for i := range tasks {
		tasks[i] = newTaskID()
	}
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(tasks); i += 4 {
				port := first.port
				if i%2 == 1 {
					port = second.port
				}
				if status := siteBody(t, port, signed{secret: dedupeSecret, taskID: tasks[i]}.body()); status != http.StatusAccepted {
					t.Errorf("callback %d: %d, want 202", i, status)
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	up := down.start(t)
	waitDelivered(t, up, folder, tasks)
}
