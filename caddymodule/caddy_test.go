package caddymodule_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"

	_ "github.com/zegoedge/caddy-zego-callback/caddymodule"
	"github.com/zegoedge/caddy-zego-callback/verify/verifytest"
)

// This package's own ports, so that `go test ./...` can run packages in
// parallel next to other caddytest suites.
const (
	adminPort = 2901
	httpPort  = 9181
)

func TestMain(m *testing.M) {
	// Caddy reads these when it starts: keep it out of $HOME.
	dir, err := os.MkdirTemp("", "zego-callback-caddytest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_CONFIG_HOME", dir+"/config")
	os.Setenv("XDG_DATA_HOME", dir+"/data")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// upstream is a real HTTP backend that records every request it gets.
type upstream struct {
	*httptest.Server
	mu       sync.Mutex
	requests []receivedRequest
	status   int
	delay    time.Duration
	// failFirst answers this many requests 503 before using status.
	failFirst int
}

type receivedRequest struct {
	header http.Header
	body   []byte
}

func newUpstream(t *testing.T) *upstream {
	u := newUnstartedUpstream(t)
	u.Start()
	return u
}

func newUnstartedUpstream(t *testing.T) *upstream {
	u := &upstream{status: http.StatusOK}
	u.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.requests = append(u.requests, receivedRequest{r.Header.Clone(), body})
		status, delay := u.status, u.delay
		if u.failFirst > 0 {
			u.failFirst--
			status = http.StatusServiceUnavailable
		}
		u.mu.Unlock()
		time.Sleep(delay)
		w.Header().Set("X-Upstream", "yes")
		w.WriteHeader(status)
		fmt.Fprintf(w, "upstream answered %d", status)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) received() []receivedRequest {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]receivedRequest(nil), u.requests...)
}

func (u *upstream) setDelay(delay time.Duration) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.delay = delay
}

func (u *upstream) setStatus(status int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.status = status
}

// loadCaddy loads the global options every test shares, then sites, into
// the in-process Caddy; {env.ZEGO_TEST_SECRET} holds secret.
func loadCaddy(t *testing.T, secret, extraGlobalOptions, sites string) *caddytest.Tester {
	t.Helper()
	t.Setenv("ZEGO_TEST_SECRET", secret)
	tester := caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{AdminPort: adminPort})
	tester.InitServer(fmt.Sprintf(`
{
	admin localhost:%d
	http_port %d
	default_bind 127.0.0.1
	persist_config off
	%s
}
`, adminPort, httpPort, extraGlobalOptions)+sites, "caddyfile")
	return tester
}

// startCaddy loads a Caddyfile whose route verifies callbacks and proxies
// them to up; handle_errors answers a rejection with its reason code.
// Dedupe is off: several vectors share a task ID, and each must be
// forwarded as a first delivery.
func startCaddy(t *testing.T, secret string, maxAge time.Duration, up *upstream) *caddytest.Tester {
	t.Helper()
	return loadCaddy(t, secret, "", fmt.Sprintf(`
http://localhost:%d {
	route /zego/compose {
		zego_callback {env.ZEGO_TEST_SECRET} {
			app_id 1234567890
			max_age %ds
			dedupe off
		}
		reverse_proxy %s
	}
	handle_errors {
		respond "{http.zego.error}"
	}
}
`, httpPort, int(maxAge/time.Second), up.Listener.Addr()))
}

func post(t *testing.T, tester *caddytest.Tester, tc *verifytest.Case) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(tc.Method, fmt.Sprintf("http://localhost:%d/zego/compose", httpPort), strings.NewReader(tc.Body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", tc.ContentType)
	if tc.Name == "gzip_encoding" {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := tester.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// TestCaddyPublicVectors sends every public vector through a real Caddy
// with reverse_proxy to a real upstream. The vectors are dated 2025 and
// Caddy runs on the real clock, so max_age is widened to cover the distance
// to now plus 200 s: stale_timestamp (301 s older than the vectors' "now")
// still falls outside it, while future_timestamp cannot be tested this way
// and is covered on the vectors' clock by TestServeHTTPPublicVectors.
func TestCaddyPublicVectors(t *testing.T) {
	v := verifytest.Load(t)
	up := newUpstream(t)
	maxAge := time.Since(v.NowTime()) + 200*time.Second
	tester := startCaddy(t, v.Secret, maxAge, up)

	forwarded := 0
	for _, tc := range v.Cases {
		if tc.Name == "future_timestamp" {
			continue
		}
		t.Run(tc.Name, func(t *testing.T) {
			before := len(up.received())
			resp, body := post(t, tester, &tc)
			if resp.StatusCode != tc.Expect.Status {
				t.Fatalf("status = %d (%q), want %d", resp.StatusCode, body, tc.Expect.Status)
			}
			got := up.received()
			if tc.Expect.Reason != "ok" {
				if body != tc.Expect.Reason {
					t.Errorf("body = %q, want the reason code %q", body, tc.Expect.Reason)
				}
				if len(got) != before {
					t.Fatal("a rejected callback reached the upstream")
				}
				return
			}
			forwarded++
			if body != "upstream answered 200" || resp.Header.Get("X-Upstream") != "yes" {
				t.Errorf("the upstream's answer did not come back unchanged: %q", body)
			}
			if len(got) != before+1 {
				t.Fatalf("upstream got %d requests, want 1", len(got)-before)
			}
			var want bytes.Buffer
			if err := json.Compact(&want, tc.Expect.Normalized); err != nil {
				t.Fatal(err)
			}
			last := got[len(got)-1]
			if !bytes.Equal(last.body, want.Bytes()) {
				t.Fatalf("upstream got\n%s\nwant\n%s", last.body, want.Bytes())
			}
			if last.header.Get("Content-Type") != "application/json" || last.header.Get("X-Zego-Event") != "compose" ||
				last.header.Get("X-Zego-App-Id") != "1234567890" || len(last.header.Get("Idempotency-Key")) != 32 {
				t.Errorf("upstream headers: %v", last.header)
			}
		})
	}
	if total := len(up.received()); total != forwarded || forwarded < 8 {
		t.Fatalf("upstream saw %d requests for %d accepted vectors", total, forwarded)
	}
}

// TestCaddyUpstreamFailureReachesZEGO: a 5xx from the backend must reach
// ZEGO unchanged, so that ZEGO retries.
func TestCaddyUpstreamFailureReachesZEGO(t *testing.T) {
	v := verifytest.Load(t)
	up := newUpstream(t)
	up.setStatus(http.StatusServiceUnavailable)
	tester := startCaddy(t, v.Secret, time.Since(v.NowTime())+200*time.Second, up)
	resp, body := post(t, tester, &v.Cases[0])
	if resp.StatusCode != http.StatusServiceUnavailable || body != "upstream answered 503" || resp.Header.Get("X-Upstream") != "yes" {
		t.Fatalf("got %d %q, want the upstream's 503", resp.StatusCode, body)
	}
	if n := len(up.received()); n != 1 {
		t.Fatalf("upstream got %d requests", n)
	}
}
