package caddymodule_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fingerprint is a secret's fingerprint as the docs define it: the first 8
// hex digits of SHA-256 over "zego_callback dedupe scope", NUL, the secret.
func fingerprint(secret string) string {
	sum := sha256.Sum256([]byte("zego_callback dedupe scope\x00" + secret))
	return hex.EncodeToString(sum[:4])
}

// refusal is a backend's reason, longer than the 200 bytes the edge keeps.
var refusal = "room unknown: " + strings.Repeat("x", 300)

// refusingBackend answers 422 with the Zego-Refused header while refuse is
// set, and a 422 without it otherwise: a refusal on purpose, and a plain
// client error.
type refusingBackend struct {
	*httptest.Server
	refuse   atomic.Bool
	received atomic.Int32
}

func newRefusingBackend() *refusingBackend {
	b := new(refusingBackend)
	b.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.received.Add(1)
		if b.refuse.Load() {
			w.Header().Set("Zego-Refused", refusal)
		}
		w.Header().Set("X-Backend", "seen")
		w.WriteHeader(http.StatusUnprocessableEntity)
		fmt.Fprint(w, "not this one")
	}))
	return b
}

// postCallback posts a callback and returns ZEGO's answer, headers and all.
func postCallback(t *testing.T, client *http.Client, body string) *http.Response {
	t.Helper()
	resp, _ := doRetrying(t, client, func() (*http.Request, error) {
		return http.NewRequest(http.MethodPost, fmt.Sprintf("http://localhost:%d/zego/compose", httpPort), strings.NewReader(body))
	})
	return resp
}

// TestBackendRefusesOnPurpose: a 4xx with Zego-Refused is the backend's
// "received, not wanted": ZEGO gets 200 (no retry), the callback is
// recorded as delivered (ZEGO's retry never reaches the backend again),
// nothing is spooled, and the access log and metrics say refused. A 4xx
// without the header is a failure like any other: spooled.
func TestBackendRefusesOnPurpose(t *testing.T) {
	folder := storageFolder(t)
	down := newDownUpstream(t)
	backend := newRefusingBackend()
	backend.refuse.Store(true)
	down.serve(backend.Server)
	accessLog := filepath.Join(t.TempDir(), "access.log")
	s := spoolSiteWith(down.addr, "retry 1h\nmax_age 2h")
	s.extra = fmt.Sprintf("log {\n\t\toutput file %s\n\t}", accessLog)
	tester := startSites(t, dedupeSecret, "storage file_system "+folder, s)

	task := newTaskID()
	body := signed{secret: dedupeSecret, taskID: task}.body()
	resp := postCallback(t, tester.Client, body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Zego-Refused") != "1" || resp.Header.Get("X-Backend") != "" {
		t.Fatalf("refused callback answered %d, headers %v; want 200 with X-Zego-Refused and none of the backend's", resp.StatusCode, resp.Header)
	}
	resp = postCallback(t, tester.Client, body) // ZEGO's retry
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Zego-Duplicate") != "1" {
		t.Fatalf("ZEGO's retry of a refused callback answered %d, headers %v; want a 200 duplicate", resp.StatusCode, resp.Header)
	}
	if n := backend.received.Load(); n != 1 {
		t.Fatalf("the backend got the refused callback %d times, want once", n)
	}
	if files := spoolFiles(t, folder); len(files) != 0 {
		t.Fatalf("a refused callback was spooled: %v", files)
	}

	backend.refuse.Store(false)
	if resp := postCallback(t, tester.Client, signed{secret: dedupeSecret, taskID: newTaskID()}.body()); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("a 422 without Zego-Refused answered %d, want 202 (spooled)", resp.StatusCode)
	}
	wantSeries(t, scrapeMetrics(t), map[string]float64{
		`caddy_zego_callback_requests_total{app_id="1234567890",event="compose",outcome="refused",product="rtc"}`:   1,
		`caddy_zego_callback_requests_total{app_id="1234567890",event="compose",outcome="duplicate",product="rtc"}`: 1,
		`caddy_zego_callback_requests_total{app_id="1234567890",event="compose",outcome="spooled",product="rtc"}`:   1,
	})

	var lines []map[string]any
	for deadline := time.Now().Add(5 * time.Second); len(lines) < 3 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		lines = readLogLines(t, accessLog)
	}
	if len(lines) != 3 {
		t.Fatalf("%d access-log lines, want 3: %v", len(lines), lines)
	}
	if lines[0]["zego_outcome"] != "refused" || lines[0]["zego_refused"] != refusal[:200] || lines[0]["zego_secret"] != fingerprint(dedupeSecret) {
		t.Errorf("the refusal's access-log line: %v", lines[0])
	}
}

// TestSpoolRedeliveryRefused: a spooled callback the backend refuses on
// purpose when it is redelivered leaves the spool, and is neither retried
// nor a dead letter.
func TestSpoolRedeliveryRefused(t *testing.T) {
	folder := storageFolder(t)
	down := newDownUpstream(t)
	tester := startSpoolCaddy(t, folder, down.addr, "retry 200ms\nmax_age 1h")
	if resp := postCallback(t, tester.Client, signed{secret: dedupeSecret, taskID: newTaskID()}.body()); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d, want 202 (spooled)", resp.StatusCode)
	}
	backend := newRefusingBackend()
	backend.refuse.Store(true)
	down.serve(backend.Server)
	waitFor(t, 10*time.Second, "the refused item leaves the spool", func() bool { return len(spoolFiles(t, folder)) == 0 })
	time.Sleep(time.Second) // a pass or two: it must not come back
	if n := backend.received.Load(); n != 1 {
		t.Fatalf("the backend got the refused redelivery %d times, want once", n)
	}
	metrics := scrapeMetrics(t)
	wantSeries(t, metrics, map[string]float64{
		`caddy_zego_callback_spool_redeliveries_total{result="refused"}`:                                              1,
		`caddy_zego_callback_spool_dead`:                                                                              0,
		`caddy_zego_callback_spool_waiting`:                                                                           0,
		`caddy_zego_callback_deliver_duration_seconds_count{source="zego"}`:                                           1,
		`caddy_zego_callback_deliver_duration_seconds_count{source="spool"}`:                                          1,
		`caddy_zego_callback_upstream_responses_total{code_class="4xx",event="compose",product="rtc",source="spool"}`: 1,
	})
	// The worker's heartbeat: a pass finishes at least every second.
	if age := float64(time.Now().Unix()) - metrics["caddy_zego_callback_spool_last_pass_timestamp_seconds"]; age < -1 || age > 3 {
		t.Errorf("the spool's last pass was %.0fs ago, want within 3s", age)
	}
}

// TestLastErrorSaysWhy: a spooled item's last_error tells an operator why
// the backend did not take it, in a plain sentence or with the backend's
// own status and words, never Go's internal error text.
func TestLastErrorSaysWhy(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	maintenance := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "  down for maintenance\n\tback at 10:00\n")
	}))
	t.Cleanup(maintenance.Close)

	for _, tc := range []struct {
		name, backend, want string
	}{
		{"nothing listens", closedAddr, "connection refused by the backend at " + closedAddr},
		{"hangs up", newDownUpstream(t).addr, "the backend closed the connection without an answer"},
		{"answers 503", maintenance.URL, "status 503: down for maintenance..back at 10:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			folder := storageFolder(t)
			tester := startSpoolCaddy(t, folder, tc.backend, "retry 1h\nmax_age 2h")
			if resp := postCallback(t, tester.Client, signed{secret: dedupeSecret, taskID: newTaskID()}.body()); resp.StatusCode != http.StatusAccepted {
				t.Fatalf("status %d, want 202 (spooled)", resp.StatusCode)
			}
			files := spoolFiles(t, folder)
			if len(files) != 1 {
				t.Fatalf("%d items in the spool, want 1", len(files))
			}
			raw, err := os.ReadFile(files[0])
			if err != nil {
				t.Fatal(err)
			}
			var item struct {
				LastError string `json:"last_error"`
			}
			if err := json.Unmarshal(raw, &item); err != nil {
				t.Fatal(err)
			}
			if item.LastError != tc.want {
				t.Errorf("last_error %q, want %q", item.LastError, tc.want)
			}
		})
	}
}
