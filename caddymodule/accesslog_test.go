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
	tester := startSites(t, dedupeSecret, fmt.Sprintf(`log handler {
		output file %s
		include http.handlers.zego_callback
		level INFO
	}`, handlerLog), site{
		options:  "app_id 1234567890",
		upstream: up.URL,
		extra:    fmt.Sprintf("log {\n\t\toutput file %s\n\t}", accessLog),
	})
	task := newTaskID()
	wantAnswer(t, send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body()), 200, "upstream answered 200", "")
	wantAnswer(t, send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body()), 200, "", "1")
	wantAnswer(t, send(t, tester, httpPort, signed{secret: "forged", taskID: task}.body()), 401, "bad_signature", "")

	want := []map[string]any{
		{"zego_outcome": "forwarded", "zego_event": "compose", "zego_app_id": 1234567890.0, "zego_task_id": task, "status": 200.0, "zego_secret": fingerprint(dedupeSecret)},
		{"zego_outcome": "duplicate", "zego_event": "compose", "zego_app_id": 1234567890.0, "zego_task_id": task, "status": 200.0, "zego_secret": fingerprint(dedupeSecret)},
		// No secret verified a forgery: no fingerprint.
		{"zego_outcome": "bad_signature", "zego_event": "compose", "zego_app_id": 1234567890.0, "zego_task_id": task, "status": 401.0, "zego_secret": nil},
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
