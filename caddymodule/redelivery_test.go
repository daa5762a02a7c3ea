package caddymodule_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"
)

// End-to-end claims of the spool's redelivery through a real Caddy: the
// worker calls the deliver chain of the handler that spooled an item, so
// nothing else in the config — server names, matchers, other handlers,
// reloads — can misroute, block or strand it.

const redeliverySecret = "redelivery-test-secret"

// spoolSite is a site whose handler spools what up refuses and retries
// every 200 ms.
func spoolSite(up *upstream) site {
	return site{
		upstream: up.Listener.Addr().String(),
		options:  "app_id 1234567890\nspool {\n\tretry 200ms\n}",
	}
}

// spoolCallbacks posts n callbacks that up refuses, each answered 202, and
// returns their Idempotency-Keys.
func spoolCallbacks(t *testing.T, tester *caddytest.Tester, n int, header http.Header) []string {
	t.Helper()
	keys := make([]string, n)
	for i := range keys {
		task := newTaskID()
		resp, body := doRetrying(t, tester.Client, func() (*http.Request, error) {
			req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://localhost:%d/zego/compose", httpPort),
				strings.NewReader(signed{secret: redeliverySecret, taskID: task}.body()))
			if err == nil {
				req.Header.Set("Content-Type", "application/json")
				for name, values := range header {
					req.Header[name] = values
				}
			}
			return req, err
		})
		if resp.StatusCode != http.StatusAccepted || resp.Header.Get("X-Zego-Spooled") != "1" {
			t.Fatalf("callback %d: %d %q, want 202 spooled", i, resp.StatusCode, body)
		}
		keys[i] = idempotencyKey(1234567890, task)
	}
	return keys
}

// deliveredOnce waits until up has accepted each key, then checks it got
// each exactly once after since requests (its refusals come before).
func deliveredOnce(t *testing.T, up *upstream, since int, keys []string, within time.Duration) {
	t.Helper()
	accepted := func() map[string]int { return byKey(up.received()[since:]) }
	waitFor(t, within, "every spooled callback delivered", func() bool {
		got := accepted()
		for _, key := range keys {
			if got[key] == 0 {
				return false
			}
		}
		return true
	})
	time.Sleep(500 * time.Millisecond) // time for a second delivery to show
	got := accepted()
	for _, key := range keys {
		if got[key] != 1 {
			t.Errorf("key %s delivered %d times", key, got[key])
		}
	}
}

// TestRedeliveryIgnoresTheRestOfTheConfig is findings 1, 2 and 4: a reload
// that renames the callback's server (a site added on a lower port) and
// puts a dedupe-off zego_callback with another secret in front used to
// send the spooled documents to that handler's backend, or nowhere. They
// go to the backend of the handler that spooled them, and only there.
func TestRedeliveryIgnoresTheRestOfTheConfig(t *testing.T) {
	folder := storageFolder(t)
	global := "storage file_system " + folder
	backend, other := newUpstream(t), newUpstream(t)
	backend.setStatus(http.StatusServiceUnavailable)
	tester := startSites(t, redeliverySecret, global, spoolSite(backend))
	keys := spoolCallbacks(t, tester, 3, nil)

	stranger := site{port: secondHTTPPort, path: "/*", secret: "another-apps-secret", options: "dedupe off", upstream: other.Listener.Addr().String()}
	startSites(t, redeliverySecret, global, stranger, spoolSite(backend))
	since := len(backend.received())
	backend.setStatus(http.StatusOK)
	deliveredOnce(t, backend, since, keys, 10*time.Second)
	if n := len(other.received()); n != 0 {
		t.Fatalf("another handler's backend got %d redeliveries", n)
	}
}

// TestRedeliveryReachesGatedRoutes is finding 3: behind a matcher on the
// client (basic_auth, a header and remote_ip here; forward_auth alike)
// ZEGO's callback passed and was spooled, but the in-process redelivery
// never reached the handler and every item became a dead letter.
func TestRedeliveryReachesGatedRoutes(t *testing.T) {
	backend := newUpstream(t)
	backend.setStatus(http.StatusServiceUnavailable)
	gated := spoolSite(backend)
	gated.path = "@zego"
	gated.extra = "@zego {\n\t\tpath /zego/compose\n\t\theader X-Gate open\n\t\tremote_ip 127.0.0.1\n\t}"
	// bcrypt of "gate-password" (cost 4), made with golang.org/x/crypto/bcrypt.
	gated.before = "basic_auth {\n\t\t\tzego $2a$04$nfmz6qCRN4uLLtb/t4OndOEvbyxfWAbfLxDKzNVNGbykm6JhDt7pS\n\t\t}"
	tester := startSites(t, redeliverySecret, "storage file_system "+storageFolder(t), gated)
	resp, _ := doRetrying(t, tester.Client, func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://localhost:%d/zego/compose", httpPort),
			strings.NewReader(signed{secret: redeliverySecret, taskID: newTaskID()}.body()))
		if err == nil {
			req.Header.Set("X-Gate", "open")
		}
		return req, err
	})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a callback without the gate's password: %d, want basic_auth's 401", resp.StatusCode)
	}
	keys := spoolCallbacks(t, tester, 2, http.Header{
		"X-Gate":        {"open"},
		"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("zego:gate-password"))},
	})
	since := len(backend.received())
	backend.setStatus(http.StatusOK)
	deliveredOnce(t, backend, since, keys, 10*time.Second)
}

// TestRedeliveryProgressesUnderAReloadStorm is finding 5: with a reload
// every 0.3 s the workers delivered nothing for 40 s. The worker outlives
// reloads, so the spool drains while the config changes every 0.25 s.
func TestRedeliveryProgressesUnderAReloadStorm(t *testing.T) {
	folder := storageFolder(t)
	global := "storage file_system " + folder
	backend := newUpstream(t)
	backend.setStatus(http.StatusServiceUnavailable)
	tester := startSites(t, redeliverySecret, global, spoolSite(backend))
	keys := spoolCallbacks(t, tester, 10, nil)
	since := len(backend.received())
	backend.setStatus(http.StatusOK)

	stop := time.Now().Add(5 * time.Second)
	for i := 0; time.Now().Before(stop); i++ {
		s := spoolSite(backend)
		s.options += fmt.Sprintf("\nmax_age %ds", 300+i%2) // a config that differs from the one before
		config := globalOptions(global) + s.caddyfile()
		if status, body := postConfig(t, "text/caddyfile", config, false); status != http.StatusOK {
			t.Fatalf("reload %d: %d %s", i, status, body)
		}
		time.Sleep(250 * time.Millisecond)
	}
	got := byKey(backend.received()[since:])
	delivered := 0
	for _, key := range keys {
		if got[key] > 0 {
			delivered++
		}
	}
	if delivered != len(keys) {
		t.Fatalf("%d of %d spooled callbacks delivered during 5 s of reloads every 0.25 s", delivered, len(keys))
	}
	deliveredOnce(t, backend, since, keys, time.Second)
}

// TestHungBackendIsSpooled is finding 7 on ZEGO's side: a first attempt
// that hung made all five of ZEGO's retries 409, and nothing was spooled.
// deliver_timeout ends the attempt and the callback is spooled: ZEGO gets
// 202 within about deliver_timeout.
func TestHungBackendIsSpooled(t *testing.T) {
	backend := newUpstream(t)
	backend.setDelay(3 * time.Second)
	s := spoolSite(backend)
	s.options += "\ndeliver_timeout 500ms"
	tester := startSites(t, redeliverySecret, "storage file_system "+storageFolder(t), s)
	start := time.Now()
	spoolCallbacks(t, tester, 1, nil)
	if took := time.Since(start); took > 2500*time.Millisecond {
		t.Fatalf("ZEGO waited %s for its answer with deliver_timeout 500ms", took)
	}
}

// TestHungBackendWithoutSpoolIsNeverAnswered2xx: without a spool, an
// attempt ended by deliver_timeout reaches ZEGO as reverse_proxy's 504
// through Caddyfile.example's handle_errors, so that ZEGO retries. The
// error was wrapped, and respond in handle_errors read no status from it:
// ZEGO got 200 for a callback no backend had.
func TestHungBackendWithoutSpoolIsNeverAnswered2xx(t *testing.T) {
	example, err := os.ReadFile("../Caddyfile.example")
	if err != nil {
		t.Fatal(err)
	}
	backend := newUpstream(t)
	backend.setDelay(2 * time.Second)
	s := site{upstream: backend.Listener.Addr().String(), options: "app_id 1234567890\ndeliver_timeout 300ms",
		noErrors: true, extra: handleErrorsBlock(t, string(example))}
	tester := startSites(t, redeliverySecret, "", s)
	resp, body := doRetrying(t, tester.Client, func() (*http.Request, error) {
		return http.NewRequest(http.MethodPost, fmt.Sprintf("http://localhost:%d/zego/compose", httpPort),
			strings.NewReader(signed{secret: redeliverySecret, taskID: newTaskID()}.body()))
	})
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Fatalf("ZEGO got %d %q for a callback the backend never answered, want 504", resp.StatusCode, body)
	}
}

// TestRewriteInDeliverAppliesOnce: a rewrite inside deliver changed the
// request's URL in place, so the spool kept the rewritten URI and the
// redelivery was rewritten again (/v1/v1/...). Each attempt is rewritten
// once, from the URI the handler got.
func TestRewriteInDeliverAppliesOnce(t *testing.T) {
	backend := newUpstream(t)
	backend.setStatus(http.StatusServiceUnavailable)
	s := spoolSite(backend)
	s.deliver = "rewrite * /v1{path}\n\t\t\t\treverse_proxy " + backend.Listener.Addr().String()
	tester := startSites(t, redeliverySecret, "storage file_system "+storageFolder(t), s)
	keys := spoolCallbacks(t, tester, 1, nil)
	since := len(backend.received())
	backend.setStatus(http.StatusOK)
	deliveredOnce(t, backend, since, keys, 10*time.Second)
	for _, r := range backend.received() {
		if r.uri != "/v1/zego/compose" {
			t.Fatalf("the backend got %s, want every attempt at /v1/zego/compose", r.uri)
		}
	}
}

// TestOversizedFailureIsSpooled is finding 12 with a spool: a backend's
// failure whose body is far past the 64KiB held back (8MiB) is still a
// failure to spool, answered 202, and redelivered once the backend is back.
func TestOversizedFailureIsSpooled(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	var mu sync.Mutex
	accepted := map[string]int{}
	chunk := bytes.Repeat([]byte("x"), 1<<20)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			for range 8 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
			return
		}
		mu.Lock()
		accepted[r.Header.Get("Idempotency-Key")]++
		mu.Unlock()
	}))
	t.Cleanup(backend.Close)
	tester := startSites(t, redeliverySecret, "storage file_system "+storageFolder(t),
		site{upstream: backend.Listener.Addr().String(), options: "app_id 1234567890\nspool {\n\tretry 200ms\n}"})
	keys := spoolCallbacks(t, tester, 2, nil)
	failing.Store(false)
	waitFor(t, 10*time.Second, "both oversized failures redelivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return accepted[keys[0]] > 0 && accepted[keys[1]] > 0
	})
	time.Sleep(500 * time.Millisecond) // time for a second delivery to show
	mu.Lock()
	defer mu.Unlock()
	for _, key := range keys {
		if accepted[key] != 1 {
			t.Errorf("key %s delivered %d times", key, accepted[key])
		}
	}
}

// TestRedeliveryGoesBackToItsOwnDeliverBlock: two handlers with the same
// secret (staging and prod sharing a ZEGO project, say) and their own
// backends. Each spooled item goes back to the deliver block that spooled
// it; the newest handler holding the secret used to take every item.
func TestRedeliveryGoesBackToItsOwnDeliverBlock(t *testing.T) {
	first, second := newUpstream(t), newUpstream(t)
	first.setStatus(http.StatusServiceUnavailable)
	second.setStatus(http.StatusServiceUnavailable)
	secondSite := spoolSite(second)
	secondSite.port = secondHTTPPort
	tester := startSites(t, redeliverySecret, "storage file_system "+storageFolder(t), spoolSite(first), secondSite)
	post := func(port int) string {
		task := newTaskID()
		resp, body := doRetrying(t, tester.Client, func() (*http.Request, error) {
			return http.NewRequest(http.MethodPost, fmt.Sprintf("http://localhost:%d/zego/compose", port),
				strings.NewReader(signed{secret: redeliverySecret, taskID: task}.body()))
		})
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("port %d: %d %q, want 202 spooled", port, resp.StatusCode, body)
		}
		return idempotencyKey(1234567890, task)
	}
	firstKeys := []string{post(httpPort), post(httpPort)}
	secondKeys := []string{post(secondHTTPPort), post(secondHTTPPort)}
	firstSince, secondSince := len(first.received()), len(second.received())
	first.setStatus(http.StatusOK)
	second.setStatus(http.StatusOK)
	deliveredOnce(t, first, firstSince, firstKeys, 10*time.Second)
	deliveredOnce(t, second, secondSince, secondKeys, 10*time.Second)
	for up, keys := range map[*upstream][]string{first: secondKeys, second: firstKeys} {
		got := byKey(up.received())
		for _, key := range keys {
			if got[key] != 0 {
				t.Errorf("an item spooled by the other handler reached this backend %d times", got[key])
			}
		}
	}
}

// TestRedeliveryHasTheFirstAttemptsClientIP: behind a trusted proxy,
// {client_ip} in the deliver chain is the client the proxy named; a
// redelivery used to get the proxy's address instead.
func TestRedeliveryHasTheFirstAttemptsClientIP(t *testing.T) {
	backend := newUpstream(t)
	backend.setStatus(http.StatusServiceUnavailable)
	s := spoolSite(backend)
	s.proxy = "header_up X-Client-IP {client_ip}"
	tester := startSites(t, redeliverySecret, "storage file_system "+storageFolder(t)+"\n\tservers {\n\t\ttrusted_proxies static 127.0.0.1/32\n\t}", s)
	keys := spoolCallbacks(t, tester, 1, http.Header{"X-Forwarded-For": {"203.0.113.9"}})
	since := len(backend.received())
	backend.setStatus(http.StatusOK)
	deliveredOnce(t, backend, since, keys, 10*time.Second)
	for i, r := range backend.received() {
		if got := r.header.Get("X-Client-IP"); got != "203.0.113.9" {
			t.Errorf("attempt %d: {client_ip} was %q, want the client the trusted proxy named", i+1, got)
		}
	}
}
