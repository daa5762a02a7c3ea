package caddymodule_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zegoedge/caddy-zego-callback/caddymodule"
	"github.com/zegoedge/caddy-zego-callback/verify"
	"github.com/zegoedge/caddy-zego-callback/verify/verifytest"
)

// productSite receives every event of product at /zego/<product>.
func productSite(product, options string, up string) site {
	return site{path: "/zego/" + product, options: "product " + product + "\nevents all\n" + options, upstream: up,
		proxy: "header_up X-Zego-Product {http.zego.product}"}
}

// postTo posts body to path on the test's HTTP port.
func postTo(t *testing.T, path, contentType, body string) (*http.Response, []byte) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	return doRetrying(t, client, func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://localhost:%d%s", httpPort, path), strings.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", contentType)
		}
		return req, err
	})
}

// TestCaddyProductVectors sends every vector of products.json (every
// product's events but RTC's room and stream events, whose vectors are
// events.json's) through a real Caddy, each to its product's route: the
// upstream gets the
// exact normalized document, the Idempotency-Key computed with sha256sum,
// and {http.zego.product}, on each vector's clock.
func TestCaddyProductVectors(t *testing.T) {
	v := verifytest.LoadProducts(t)
	var clock atomic.Int64
	defer caddymodule.SetClock(func() time.Time { return time.Unix(clock.Load(), 0) })()
	for _, product := range verify.Products() {
		t.Run(product, func(t *testing.T) {
			up := newUpstream(t)
			// Dedupe off: each event's shapes are one occurrence. The
			// handlers run on each vector's clock.
			options := fmt.Sprintf("max_age %ds\ndedupe off", int(v.MaxAge().Seconds()))
			startSites(t, v.Secret, "", productSite(product, options, up.URL))
			ran := 0
			for _, tc := range v.Cases {
				if tc.Product != product {
					continue
				}
				ran++
				clock.Store(tc.Now)
				before := len(up.received())
				resp, body := postTo(t, "/zego/"+product, tc.ContentType, tc.Body)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%s: status %d %q", tc.Name, resp.StatusCode, body)
				}
				got := up.received()
				if len(got) != before+1 {
					t.Fatalf("%s: upstream got %d requests, want 1", tc.Name, len(got)-before)
				}
				last := got[len(got)-1]
				var want bytes.Buffer
				if err := json.Compact(&want, tc.Expect.Normalized); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(last.body, want.Bytes()) {
					t.Errorf("%s: upstream got\n%s\nwant\n%s", tc.Name, last.body, want.Bytes())
				}
				if key := last.header.Get("Idempotency-Key"); key != tc.Expect.IdempotencyKey {
					t.Errorf("%s: Idempotency-Key %s, want %s (%s)", tc.Name, key, tc.Expect.IdempotencyKey, tc.Expect.IdempotencyKeyCommand)
				}
				if last.header.Get("X-Zego-Event") != tc.Event || last.header.Get("X-Zego-Product") != product {
					t.Errorf("%s: X-Zego-Event %q, X-Zego-Product %q", tc.Name, last.header.Get("X-Zego-Event"), last.header.Get("X-Zego-Product"))
				}
			}
			if events := len(verify.Events(product)); ran < events && product != verify.DefaultProduct || ran == 0 {
				t.Errorf("%d vectors for %d events", ran, events)
			}
		})
	}
}

// productVector returns the first vector of product's event.
func productVector(t *testing.T, product, event string) verifytest.EventCase {
	t.Helper()
	for _, set := range []*verifytest.EventSet{verifytest.LoadProducts(t), verifytest.LoadEvents(t)} {
		for _, tc := range set.Cases {
			if cmp.Or(tc.Product, verify.DefaultProduct) == product && tc.Event == event && strings.HasSuffix(tc.Name, "_json") {
				return tc
			}
		}
	}
	t.Fatalf("no %s %s vector", product, event)
	return verifytest.EventCase{}
}

// TestProductsKeptApart: ZIM's room_create on an RTC route, and RTC's on a
// ZIM route, are refused as wrong_product and never forwarded, though
// both are genuine: ZEGO sends each product to its own URL.
func TestProductsKeptApart(t *testing.T) {
	up := newUpstream(t)
	zim := productSite("zim", "", up.URL)
	zim.port = secondHTTPPort
	startSites(t, dedupeSecret, "", site{options: "events all", upstream: up.URL}, zim)
	for _, c := range []struct {
		port          int
		path, product string
	}{{httpPort, "/zego/compose", "zim"}, {secondHTTPPort, "/zego/zim", "rtc"}} {
		body := resign(t, productVector(t, c.product, "room_create").Body, dedupeSecret, nil)
		got := postRetrying(t, &http.Client{}, fmt.Sprintf("http://localhost:%d%s", c.port, c.path), body)
		if got.status != http.StatusUnprocessableEntity || got.body != "wrong_product" {
			t.Errorf("%s's room_create on %s: %d %q, want 422 wrong_product", c.product, c.path, got.status, got.body)
		}
	}
	if n := len(up.received()); n != 0 {
		t.Fatalf("the upstream got %d callbacks of the wrong product", n)
	}
}

// decidingBackend answers before_send_msg as a ZIM backend does: its
// status, Content-Type and JSON decision are set per test step.
type decidingBackend struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	answer string
	delay  time.Duration
	asked  int
}

func newDecidingBackend(t *testing.T) *decidingBackend {
	b := &decidingBackend{status: http.StatusOK, answer: `{"result":0}`}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		b.mu.Lock()
		b.asked++
		status, answer, delay := b.status, b.answer, b.delay
		b.mu.Unlock()
		time.Sleep(delay)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("X-Decision", "backend")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *decidingBackend) set(status int, answer string, delay time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.status, b.answer, b.delay = status, answer, delay
}

func (b *decidingBackend) timesAsked() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.asked
}

// TestBeforeSendMsgAnswerPassesThrough: ZIM's synchronous callback gets
// the backend's decision as the backend wrote it, whatever its status,
// with the spool and dedupe on: ZEGO's retry is asked again (never a
// duplicate answer), a failure is never spooled nor held back, and a
// backend slower than sync_timeout fails in time; a captured signature
// still cannot carry another message.
func TestBeforeSendMsgAnswerPassesThrough(t *testing.T) {
	backend := newDecidingBackend(t)
	folder := storageFolder(t)
	zim := productSite("zim", "sync_timeout 300ms\nspool {\nretry 1h\n}", backend.Listener.Addr().String())
	zim.proxy = ""
	startSites(t, dedupeSecret, "storage file_system "+folder, zim)
	body := resign(t, productVector(t, "zim", "before_send_msg").Body, dedupeSecret, nil)
	ask := func() (*http.Response, string) {
		resp, answer := postTo(t, "/zego/zim", "application/json", body)
		return resp, string(answer)
	}
	const decision = `{"result":3,"reason":"blocked word","new_payload":"p"}`
	backend.set(http.StatusOK, decision, 0)
	for i := 1; i <= 2; i++ { // ZEGO's first attempt, then its retry
		resp, answer := ask()
		if resp.StatusCode != http.StatusOK || answer != decision || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" ||
			resp.Header.Get("X-Decision") != "backend" || resp.Header.Get("X-Zego-Duplicate") != "" {
			t.Fatalf("attempt %d: %d %q %v", i, resp.StatusCode, answer, resp.Header)
		}
		if n := backend.timesAsked(); n != i {
			t.Fatalf("attempt %d: the backend was asked %d times", i, n)
		}
	}
	backend.set(http.StatusServiceUnavailable, `{"error":"busy"}`, 0)
	if resp, answer := ask(); resp.StatusCode != http.StatusServiceUnavailable || answer != `{"error":"busy"}` || resp.Header.Get("X-Zego-Spooled") != "" {
		t.Fatalf("a failing backend: %d %q %v, want its 503 as it wrote it", resp.StatusCode, answer, resp.Header)
	}
	backend.set(http.StatusOK, decision, time.Second)
	if resp, answer := ask(); resp.StatusCode != http.StatusGatewayTimeout || strings.Contains(answer, "result") {
		t.Fatalf("a backend slower than sync_timeout: %d %q, want 504", resp.StatusCode, answer)
	}
	if files := spoolFiles(t, folder); len(files) != 0 {
		t.Fatalf("a synchronous callback was spooled: %v", files)
	}
	// The same signature with another message: a tampered replay.
	var tampered map[string]any
	if err := json.Unmarshal([]byte(body), &tampered); err != nil {
		t.Fatal(err)
	}
	tampered["msg_body"] = "another message"
	forged, _ := json.Marshal(tampered)
	asked := backend.timesAsked()
	if resp, answer := postTo(t, "/zego/zim", "application/json", string(forged)); resp.StatusCode != http.StatusUnauthorized || string(answer) != "replayed_signature" {
		t.Fatalf("a tampered replay: %d %q", resp.StatusCode, answer)
	}
	if backend.timesAsked() != asked {
		t.Fatal("the backend was asked about a tampered replay")
	}
}

// resignNow re-signs a product's JSON vector with secret, a timestamp of
// now in the event's unit (as a JSON number or string, as the vector sent
// it) and a nonce no other run used.
func resignNow(t *testing.T, product string, tc verifytest.EventCase, secret string) string {
	t.Helper()
	return resignAt(t, product, tc, secret, time.Now())
}

// resignAt is resignNow with the timestamp at.
func resignAt(t *testing.T, product string, tc verifytest.EventCase, secret string, at time.Time) string {
	t.Helper()
	envelope, ok := verify.EventEnvelope(product, tc.Event)
	if !ok {
		t.Fatalf("no envelope for %s %s", product, tc.Event)
	}
	return signAgain(t, tc.Body, envelope, secret, at, nil)
}

// TestProductRetriesAnsweredOnce: through a real Caddy with dedupe on, for
// every event of products.json (every product's, RTC's service events
// included), ZEGO's retry of a callback is answered as a duplicate without
// reaching the upstream, except ZIM's synchronous before_send_msg, whose
// retry asks the backend again.
func TestProductRetriesAnsweredOnce(t *testing.T) {
	v := verifytest.LoadProducts(t)
	for _, product := range verify.Products() {
		t.Run(product, func(t *testing.T) {
			up := newUpstream(t)
			startSites(t, dedupeSecret, "", productSite(product, "dedupe 10m", up.URL))
			seen := map[string]bool{}
			for _, tc := range v.Cases {
				if tc.Product != product || seen[tc.Event] || !strings.HasSuffix(tc.Name, "_json") {
					continue
				}
				seen[tc.Event] = true
				body := resignNow(t, product, tc, dedupeSecret)
				before := len(up.received())
				for attempt := 1; attempt <= 2; attempt++ {
					resp, answer := postTo(t, "/zego/"+product, "application/json", body)
					duplicate := resp.Header.Get("X-Zego-Duplicate")
					if resp.StatusCode != http.StatusOK || duplicate != map[bool]string{true: "1", false: ""}[attempt == 2 && tc.Event != "before_send_msg"] {
						t.Fatalf("%s attempt %d: %d %q, X-Zego-Duplicate %q", tc.Name, attempt, resp.StatusCode, answer, duplicate)
					}
				}
				want := 1
				if tc.Event == "before_send_msg" {
					want = 2
				}
				if got := len(up.received()) - before; got != want {
					t.Fatalf("%s: the upstream got %d requests, want %d", tc.Name, got, want)
				}
			}
			if len(seen) == 0 {
				t.Fatal("no vectors")
			}
		})
	}
}

// TestProductForgeriesRefused: through a real Caddy, every event of every
// product signed with another secret is 401 bad_signature, and one signed
// an hour ago (max_age 5m) 401 stale_timestamp; neither reaches the
// upstream.
func TestProductForgeriesRefused(t *testing.T) {
	v := verifytest.LoadProducts(t)
	for _, product := range verify.Products() {
		t.Run(product, func(t *testing.T) {
			up := newUpstream(t)
			startSites(t, dedupeSecret, "", productSite(product, "max_age 5m", up.URL))
			for _, tc := range v.Cases {
				if tc.Product != product || !strings.HasSuffix(tc.Name, "_json") {
					continue
				}
				for _, c := range []struct {
					body, reason string
				}{
					{resignNow(t, product, tc, "another secret"), "bad_signature"},
					{resignAt(t, product, tc, dedupeSecret, time.Now().Add(-time.Hour)), "stale_timestamp"},
				} {
					if resp, answer := postTo(t, "/zego/"+product, "application/json", c.body); resp.StatusCode != http.StatusUnauthorized || string(answer) != c.reason {
						t.Fatalf("%s: %d %q, want 401 %s", tc.Name, resp.StatusCode, answer, c.reason)
					}
				}
			}
			if n := len(up.received()); n != 0 {
				t.Fatalf("the upstream got %d forged or stale callbacks", n)
			}
		})
	}
}

// TestSynchronousReplayAfterTheWindow: a captured before_send_msg sent
// again with its own document is asked again only within the retry window
// after the first ask (ZEGO retries once, at once or after 3 s); later it
// is 401 replayed_signature and the backend is not asked, with either
// dedupe store. It was asked every time within max_age.
func TestSynchronousReplayAfterTheWindow(t *testing.T) {
	const window = 400 * time.Millisecond
	defer caddymodule.SetSyncRetryWindow(window)()
	for _, store := range []string{"memory", "storage"} {
		t.Run(store, func(t *testing.T) {
			backend := newDecidingBackend(t)
			backend.set(http.StatusOK, `{"result":0}`, 0)
			zim := productSite("zim", "dedupe_store "+store, backend.Listener.Addr().String())
			zim.proxy = ""
			startSites(t, dedupeSecret, "storage file_system "+storageFolder(t), zim)
			body := resign(t, productVector(t, "zim", "before_send_msg").Body, dedupeSecret, nil)
			for attempt := 1; attempt <= 2; attempt++ { // ZEGO's attempt and its retry
				if resp, answer := postTo(t, "/zego/zim", "application/json", body); resp.StatusCode != http.StatusOK {
					t.Fatalf("attempt %d: %d %q", attempt, resp.StatusCode, answer)
				}
			}
			time.Sleep(2 * window)
			if resp, answer := postTo(t, "/zego/zim", "application/json", body); resp.StatusCode != http.StatusUnauthorized || string(answer) != "replayed_signature" {
				t.Fatalf("past the retry window: %d %q, want 401 replayed_signature", resp.StatusCode, answer)
			}
			if n := backend.timesAsked(); n != 2 {
				t.Fatalf("the backend was asked %d times, want 2", n)
			}
		})
	}
}
