package caddymodule_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// readLogLines parses a JSON log file, one object per line.
func readLogLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []map[string]any
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		var line map[string]any
		if err := json.Unmarshal(scanner.Bytes(), &line); err != nil {
			t.Fatalf("log line %q: %v", scanner.Text(), err)
		}
		lines = append(lines, line)
	}
	return lines
}

// TestAccessLogCarriesTheOutcome: with Caddy's access log on, each callback
// gets exactly one line carrying its zego_* fields, whatever became of it,
// and the handler itself writes nothing at INFO for a normal callback.
func TestAccessLogCarriesTheOutcome(t *testing.T) {
	up := newUpstream(t)
	dir := t.TempDir()
	accessLog, handlerLog := filepath.Join(dir, "access.log"), filepath.Join(dir, "handler.log")
	tester := loadCaddy(t, dedupeSecret, fmt.Sprintf(`log handler {
		output file %s
		include http.handlers.zego_callback
		level INFO
	}`, handlerLog), fmt.Sprintf(`
http://localhost:%d {
	log {
		output file %s
	}
	route /zego/compose {
		zego_callback {env.ZEGO_TEST_SECRET} {
			app_id 1234567890
		}
		reverse_proxy %s
	}
	handle_errors {
		respond "{http.zego.error}"
	}
}
`, httpPort, accessLog, up.Listener.Addr()))
	task := newTaskID()
	wantAnswer(t, send(t, tester, httpPort, signedCallback(task, "1", "https://example.com/a.mp4")), 200, "upstream answered 200", "")
	wantAnswer(t, send(t, tester, httpPort, signedCallback(task, "2", "https://example.com/a.mp4")), 200, "", "1")
	wantAnswer(t, send(t, tester, httpPort, callbackFor("forged", 1234567890, task, "3", time.Now())), 401, "bad_signature", "")

	want := []map[string]any{
		{"zego_outcome": "forwarded", "zego_event": "compose", "zego_app_id": 1234567890.0, "zego_task_id": task, "status": 200.0},
		{"zego_outcome": "duplicate", "zego_event": "compose", "zego_app_id": 1234567890.0, "zego_task_id": task, "status": 200.0},
		{"zego_outcome": "bad_signature", "zego_event": "compose", "zego_app_id": 1234567890.0, "zego_task_id": task, "status": 401.0},
	}
	var lines []map[string]any
	for deadline := time.Now().Add(5 * time.Second); len(lines) < len(want) && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		lines = readLogLines(t, accessLog)
	}
	if len(lines) != len(want) {
		t.Fatalf("%d access-log lines for %d callbacks: %v", len(lines), len(want), lines)
	}
	for i, fields := range want {
		for key, value := range fields {
			if lines[i][key] != value {
				t.Errorf("line %d: %s = %v, want %v", i+1, key, lines[i][key], value)
			}
		}
	}
	for _, line := range readLogLines(t, handlerLog) {
		t.Errorf("the handler logged at %v for a normal callback: %v", line["level"], line)
	}
}
