package caddymodule_test

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zegoedge/caddy-zego-callback/verify"
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

// callbackFor is a compose callback for appID at time ts, signed with secret.
func callbackFor(secret string, appID uint32, taskID, noncePrefix string, ts time.Time) string {
	unix := strconv.FormatInt(ts.Unix(), 10)
	nonce := uniqueNonce(noncePrefix)
	return fmt.Sprintf(`{"appid":"%d","event":"compose","replay_url":"https://example.com/a.mp4","task_id":"%s","code":"0","timestamp":"%s","nonce":"%s","signature":"%s"}`,
		appID, taskID, unix, nonce, verify.Sign(secret, unix, nonce))
}

func TestMetrics(t *testing.T) {
	up := newUpstream(t)
	tester := startDedupeCaddy(t, up, "", "app_id 1234567890")
	now := time.Now()
	first := signedCallback(newTaskID(), "1", "https://example.com/a.mp4")
	wantStatus := func(body string, status int) {
		t.Helper()
		if got := send(t, tester, httpPort, body); got.status != status {
			t.Fatalf("status %d (%q), want %d", got.status, got.body, status)
		}
	}
	wantStatus(first, 200)
	wantStatus(signedCallback(newTaskID(), "2", "https://example.com/a.mp4"), 200)
	wantStatus(first, 200) // duplicate
	wantStatus(callbackFor("wrong-secret", 1234567890, newTaskID(), "3", now), 401)
	wantStatus(callbackFor(dedupeSecret, 1234567890, newTaskID(), "4", now.Add(-time.Hour)), 401)
	wantStatus(callbackFor(dedupeSecret, 42, newTaskID(), "5", now), 403)
	wantStatus("not a callback", 400)
	up.setStatus(http.StatusServiceUnavailable)
	wantStatus(signedCallback(newTaskID(), "6", "https://example.com/a.mp4"), 503)
	up.setStatus(http.StatusOK)

	wantSeries(t, scrapeMetrics(t), map[string]float64{
		`caddy_zego_callback_requests_total{app_id="1234567890",event="compose",outcome="forwarded"}`:       2,
		`caddy_zego_callback_requests_total{app_id="1234567890",event="compose",outcome="upstream_failed"}`: 1,
		`caddy_zego_callback_requests_total{app_id="1234567890",event="compose",outcome="duplicate"}`:       1,
		`caddy_zego_callback_requests_total{app_id="1234567890",event="compose",outcome="bad_signature"}`:   1,
		`caddy_zego_callback_requests_total{app_id="1234567890",event="compose",outcome="stale_timestamp"}`: 1,
		`caddy_zego_callback_requests_total{app_id="other",event="compose",outcome="app_not_allowed"}`:      1,
		`caddy_zego_callback_requests_total{app_id="other",event="unknown",outcome="malformed_body"}`:       1,
		`caddy_zego_callback_upstream_responses_total{code_class="2xx",event="compose"}`:                    2,
		`caddy_zego_callback_upstream_responses_total{code_class="5xx",event="compose"}`:                    1,
		`caddy_zego_callback_verify_duration_seconds_count`:                                                 8,
	})

	// A reload brings a fresh registry: the handler must register on it.
	tester = startDedupeCaddy(t, up, "", "app_id 1234567890\nmax_age 4m")
	wantStatus(signedCallback(newTaskID(), "7", "https://example.com/a.mp4"), 200)
	wantSeries(t, scrapeMetrics(t), map[string]float64{
		`caddy_zego_callback_requests_total{app_id="1234567890",event="compose",outcome="forwarded"}`: 1,
		`caddy_zego_callback_upstream_responses_total{code_class="2xx",event="compose"}`:              1,
	})
}

// TestPerAppSecretsAndRotation: two apps with their own secrets, one of
// them mid-rotation, and the top-level secret for a third app.
func TestPerAppSecretsAndRotation(t *testing.T) {
	up := newUpstream(t)
	tester := startDedupeCaddy(t, up, "", `app_id 1 2 3
			app 1 {
				secret app1-old
				secret app1-new
			}
			app 2 {
				secret app2
			}`)
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
			got := send(t, tester, httpPort, callbackFor(tc.secret, tc.appID, newTaskID(), "9", now))
			if got.status != tc.status {
				t.Fatalf("status %d (%q), want %d", got.status, got.body, tc.status)
			}
		})
	}
}
