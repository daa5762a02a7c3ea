package caddymodule_test

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrapeMetrics reads the handler's series from Caddy's admin /metrics.
func scrapeMetrics(t *testing.T) map[string]float64 {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://localhost:%d/metrics", adminPort))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	series := map[string]float64{}
	scanner := bufio.NewScanner(resp.Body)
	for scanner.Scan() {
		line := scanner.Text()
		if !strings.HasPrefix(line, "caddy_zego_callback_") {
			continue
		}
		name, value, _ := strings.Cut(line, " ")
		if series[name], err = strconv.ParseFloat(value, 64); err != nil {
			t.Fatalf("bad metric line %q", line)
		}
	}
	return series
}

func wantSeries(t *testing.T, got map[string]float64, want map[string]float64) {
	t.Helper()
	for name, value := range want {
		if got[name] != value {
			t.Errorf("%s = %v, want %v", name, got[name], value)
		}
	}
}

// TestMetricsStartAtZero: the series the alerts rate exist before the
// first callback, so that rate() sees the first lost one.
func TestMetricsStartAtZero(t *testing.T) {
	up := newUpstream(t)
	startSites(t, dedupeSecret, "", site{options: "app_id 1234567890\nevents compose record", upstream: up.URL})
	got := scrapeMetrics(t)
	for _, name := range []string{
		`caddy_zego_callback_requests_total{app_id="1234567890",event="compose",outcome="upstream_failed",product="rtc"}`,
		`caddy_zego_callback_requests_total{app_id="other",event="record",outcome="bad_signature",product="rtc"}`,
		`caddy_zego_callback_spool_redeliveries_total{result="failed"}`,
	} {
		if value, ok := got[name]; !ok || value != 0 {
			t.Errorf("%s = %v (present %v) before any callback, want 0", name, value, ok)
		}
	}
}

func TestMetrics(t *testing.T) {
	up := newUpstream(t)
	tester := startSites(t, dedupeSecret, "", site{options: "app_id 1234567890", upstream: up.URL})
	now := time.Now()
	first := signed{secret: dedupeSecret, taskID: newTaskID()}.body()
	wantStatus := func(body string, status int) {
		t.Helper()
		if got := send(t, tester, httpPort, body); got.status != status {
			t.Fatalf("status %d (%q), want %d", got.status, got.body, status)
		}
	}
	wantStatus(first, 200)
	wantStatus(signed{secret: dedupeSecret, taskID: newTaskID()}.body(), 200)
	wantStatus(first, 200) // duplicate
	wantStatus(signed{secret: "wrong-secret", taskID: newTaskID(), timestamp: now}.body(), 401)
	wantStatus(signed{secret: dedupeSecret, taskID: newTaskID(), timestamp: now.Add(-time.Hour)}.body(), 401)
	wantStatus(signed{secret: dedupeSecret, appID: 42, taskID: newTaskID(), timestamp: now}.body(), 403)
	wantStatus("not a callback", 400)
	up.setStatus(http.StatusServiceUnavailable)
	wantStatus(signed{secret: dedupeSecret, taskID: newTaskID()}.body(), 503)
	up.setStatus(http.StatusOK)

	wantSeries(t, scrapeMetrics(t), map[string]float64{
		`caddy_zego_callback_requests_total{app_id="1234567890",event="compose",outcome="forwarded",product="rtc"}`:       2,
		`caddy_zego_callback_requests_total{app_id="1234567890",event="compose",outcome="upstream_failed",product="rtc"}`: 1,
		`caddy_zego_callback_requests_total{app_id="1234567890",event="compose",outcome="duplicate",product="rtc"}`:       1,
		`caddy_zego_callback_requests_total{app_id="1234567890",event="compose",outcome="bad_signature",product="rtc"}`:   1,
		`caddy_zego_callback_requests_total{app_id="1234567890",event="compose",outcome="stale_timestamp",product="rtc"}`: 1,
		`caddy_zego_callback_requests_total{app_id="other",event="compose",outcome="app_not_allowed",product="rtc"}`:      1,
		`caddy_zego_callback_requests_total{app_id="other",event="unknown",outcome="malformed_body",product="rtc"}`:       1,
		`caddy_zego_callback_upstream_responses_total{code_class="2xx",event="compose",product="rtc",source="zego"}`:      2,
		`caddy_zego_callback_upstream_responses_total{code_class="5xx",event="compose",product="rtc",source="zego"}`:      1,
		`caddy_zego_callback_verify_duration_seconds_count`:                                                               8,
	})

	// A reload brings a fresh registry: the handler must register on it.
	tester = startSites(t, dedupeSecret, "", site{options: "app_id 1234567890\nmax_age 4m", upstream: up.URL})
	wantStatus(signed{secret: dedupeSecret, taskID: newTaskID()}.body(), 200)
	wantSeries(t, scrapeMetrics(t), map[string]float64{
		`caddy_zego_callback_requests_total{app_id="1234567890",event="compose",outcome="forwarded",product="rtc"}`:  1,
		`caddy_zego_callback_upstream_responses_total{code_class="2xx",event="compose",product="rtc",source="zego"}`: 1,
	})
}

// TestPerAppSecretsAndRotation: two apps with their own secrets, one of
// them mid-rotation, and the top-level secret for a third app.
func TestPerAppSecretsAndRotation(t *testing.T) {
	up := newUpstream(t)
	tester := startSites(t, dedupeSecret, "", site{options: `app_id 1 2 3
			app 1 {
				secret app1-old
				secret app1-new
			}
			app 2 {
				secret app2
			}`, upstream: up.URL})
	now := time.Now()
	for _, tc := range []struct {
		name   string
		secret string
		appID  uint32
		status int
	}{
		{"app 1, old secret", "app1-old", 1, 200},
		{"app 1, new secret", "app1-new", 1, 200},
		{"app 1, app 2's secret", "app2", 1, 401},
		{"app 1, top-level secret", dedupeSecret, 1, 401},
		{"app 2, own secret", "app2", 2, 200},
		{"app 2, app 1's secret", "app1-new", 2, 401},
		{"app 3 has no block: top-level secret", dedupeSecret, 3, 200},
		{"app 3, app 1's secret", "app1-new", 3, 401},
		{"app 4 is not allowed", dedupeSecret, 4, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := send(t, tester, httpPort, signed{secret: tc.secret, appID: tc.appID, taskID: newTaskID(), timestamp: now}.body())
			if got.status != tc.status {
				t.Fatalf("status %d (%q), want %d", got.status, got.body, tc.status)
			}
		})
	}
}
