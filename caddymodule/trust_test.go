package caddymodule_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"
)

// Regression tests for the findings of the outside security review (issue
// 12), each through a real Caddy.

const (
	prodSecret    = "prod-secret-P"
	stagingSecret = "staging-secret-S"
	prodApp       = 1234567890
)

// prodAndStaging are two sites with their own secrets, as a user with a
// production and a staging app has: prod on httpPort delivering to
// prodUpstream, staging on secondHTTPPort delivering to stagingUpstream,
// both with handlerOptions.
func prodAndStaging(prodUpstream, stagingUpstream, handlerOptions string) []site {
	return []site{
		{secret: prodSecret, options: handlerOptions, upstream: prodUpstream},
		{port: secondHTTPPort, secret: stagingSecret, options: handlerOptions, upstream: stagingUpstream},
	}
}

// TestOneSecretCannotTouchAnothersRecords (finding 1): whoever holds the
// staging secret signs callbacks for prod's app and tasks; none of it may
// suppress or evict prod's records, in the memory store or shared storage.
func TestOneSecretCannotTouchAnothersRecords(t *testing.T) {
	for _, store := range []string{"memory", "storage"} {
		t.Run(store+": a staging-signed callback does not suppress prod's", func(t *testing.T) {
			prod, staging := newUpstream(t), newUpstream(t)
			tester := startSites(t, "", "storage file_system "+storageFolder(t), prodAndStaging(prod.URL, staging.URL, "dedupe_store "+store)...)
			task := newTaskID()
			now := time.Now()
			wantAnswer(t, send(t, tester, secondHTTPPort, signed{secret: stagingSecret, appID: prodApp, taskID: task, timestamp: now}.body()), 200, "upstream answered 200", "")
			wantAnswer(t, send(t, tester, httpPort, signed{secret: prodSecret, appID: prodApp, taskID: task, timestamp: now}.body()), 200, "upstream answered 200", "")
			if n := len(prod.received()); n != 1 {
				t.Fatalf("prod's upstream got %d requests, want 1", n)
			}
		})
	}

	t.Run("a flood through staging evicts none of prod's records", func(t *testing.T) {
		prod, staging := newUpstream(t), newUpstream(t)
		tester := startSites(t, "", "", prodAndStaging(prod.URL, staging.URL, "dedupe_max 20")...)
		now := time.Now()
		task := newTaskID()
		captured := signed{secret: prodSecret, appID: prodApp, taskID: task, timestamp: now}.body()
		wantAnswer(t, send(t, tester, httpPort, captured), 200, "upstream answered 200", "")
		for range 30 { // 60 records through staging, three times the ring
			body := signed{secret: stagingSecret, appID: prodApp, taskID: newTaskID(), timestamp: now}.body()
			wantAnswer(t, send(t, tester, secondHTTPPort, body), 200, "upstream answered 200", "")
		}
		// The captured signature on another task and URL is still a replay ...
		tampered := strings.Replace(strings.Replace(captured, task, newTaskID(), 1), "a.mp4", "evil.mp4", 1)
		wantAnswer(t, send(t, tester, httpPort, tampered), 401, "replayed_signature", "")
		// ... and ZEGO's retry of the task is still a duplicate.
		wantAnswer(t, send(t, tester, httpPort, signed{secret: prodSecret, appID: prodApp, taskID: task, timestamp: now}.body()), 200, "", "1")
		if n := len(prod.received()); n != 1 {
			t.Fatalf("prod's upstream got %d requests, want 1", n)
		}
	})

	t.Run("records survive a reload that keeps the secret", func(t *testing.T) {
		prod, staging := newUpstream(t), newUpstream(t)
		startSites(t, "", "", prodAndStaging(prod.URL, staging.URL, "")...)
		task := newTaskID()
		tester := startSites(t, "", "", prodAndStaging(prod.URL, staging.URL, "")...)
		wantAnswer(t, send(t, tester, httpPort, signed{secret: prodSecret, appID: prodApp, taskID: task}.body()), 200, "upstream answered 200", "")
		tester = startSites(t, "", "", prodAndStaging(prod.URL, staging.URL, "max_age 4m")...) // a real reload: the config changed
		wantAnswer(t, send(t, tester, httpPort, signed{secret: prodSecret, appID: prodApp, taskID: task}.body()), 200, "", "1")
	})
}

// TestRotationKeepsRecords: with two secrets in one handler, a callback
// delivered under the old secret is a duplicate when its retry comes signed
// with the new one.
func TestRotationKeepsRecords(t *testing.T) {
	up := newUpstream(t)
	tester := startSites(t, "", "", site{secret: "rotation-old", options: "secret rotation-new", upstream: up.URL})
	task := newTaskID()
	wantAnswer(t, send(t, tester, httpPort, signed{secret: "rotation-old", appID: prodApp, taskID: task}.body()), 200, "upstream answered 200", "")
	wantAnswer(t, send(t, tester, httpPort, signed{secret: "rotation-new", appID: prodApp, taskID: task}.body()), 200, "", "1")
}

// recordingServer records what reverse_proxy sends: the framing as well as
// the headers, which upstream does not keep.
type recordingServer struct {
	*httptest.Server
	mu   sync.Mutex
	got  []*http.Request
	body [][]byte
}

func newRecordingServer(t *testing.T) *recordingServer {
	s := &recordingServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body) // trailers are readable only after the body
		s.mu.Lock()
		s.got = append(s.got, r)
		s.body = append(s.body, body)
		s.mu.Unlock()
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *recordingServer) last(t *testing.T) (*http.Request, []byte) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.got) != 1 {
		t.Fatalf("upstream got %d requests, want 1", len(s.got))
	}
	return s.got[0], s.body[0]
}

// TestUpstreamGetsOnlyTheDocument (findings 2 and 6): trailers, the query
// string and a client's own headers stay at the edge, over HTTP/1.1 and
// h2c; the upstream gets the document with its exact Content-Length.
func TestUpstreamGetsOnlyTheDocument(t *testing.T) {
	startSite := func(up *recordingServer) *caddytest.Tester {
		return startSites(t, dedupeSecret, "servers {\n\tprotocols h1 h2c\n}", site{upstream: up.URL})
	}
	checkUpstream := func(t *testing.T, up *recordingServer) {
		t.Helper()
		r, body := up.last(t)
		if r.ContentLength != int64(len(body)) || r.Header.Get("Content-Length") != "" && r.Header.Get("Content-Length") != fmt.Sprint(len(body)) {
			t.Errorf("Content-Length %d for a %d-byte document", r.ContentLength, len(body))
		}
		if len(r.TransferEncoding) != 0 {
			t.Errorf("Transfer-Encoding %v, want none", r.TransferEncoding)
		}
		if len(r.Trailer) != 0 {
			t.Errorf("trailers reached the upstream: %v", r.Trailer)
		}
		if r.URL.RawQuery != "" {
			t.Errorf("the query reached the upstream: %q", r.URL.RawQuery)
		}
		for _, name := range []string{"Forwarded", "Cookie", "X-Http-Method-Override", "Authorization"} {
			if v := r.Header.Get(name); v != "" {
				t.Errorf("the client's %s reached the upstream: %q", name, v)
			}
		}
		if r.Header.Get("Idempotency-Key") == "attacker-chosen" || strings.Contains(r.Header.Get("X-Zego-Task-Id"), "evil") {
			t.Errorf("a trailer overrode a header: %v", r.Header)
		}
		if !strings.HasPrefix(string(body), `{"event":"compose"`) {
			t.Errorf("upstream body %q", body)
		}
	}
	newRequest := func(t *testing.T, url string) *http.Request {
		body := signed{secret: dedupeSecret, taskID: newTaskID()}.body()
		req, err := http.NewRequest(http.MethodPost, url+"?task_id=QUERYEVIL&_method=DELETE", io.MultiReader(strings.NewReader(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = -1 // chunked, so that trailers can follow
		req.Trailer = http.Header{"X-Zego-Task-Id": {"evil-task"}, "Idempotency-Key": {"attacker-chosen"}}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Forwarded", "for=203.0.113.9;proto=https")
		req.Header.Set("Cookie", "session=stolen")
		req.Header.Set("X-Http-Method-Override", "DELETE")
		req.Header.Set("Authorization", "Bearer x")
		return req
	}

	t.Run("HTTP/1.1", func(t *testing.T) {
		up := newRecordingServer(t)
		tester := startSite(up)
		resp, err := tester.Client.Do(newRequest(t, fmt.Sprintf("http://localhost:%d/zego/compose", httpPort)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.ProtoMajor != 1 {
			t.Fatalf("%s %d", resp.Proto, resp.StatusCode)
		}
		checkUpstream(t, up)
	})

	t.Run("h2c", func(t *testing.T) {
		up := newRecordingServer(t)
		startSite(up)
		var protocols http.Protocols
		protocols.SetUnencryptedHTTP2(true)
		client := &http.Client{Transport: &http.Transport{Protocols: &protocols}, Timeout: 10 * time.Second}
		req := newRequest(t, fmt.Sprintf("http://127.0.0.1:%d/zego/compose", httpPort))
		req.Host = fmt.Sprintf("localhost:%d", httpPort) // the site's name; caddytest's client redirects it, this one does not
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
			t.Fatalf("%s %d", resp.Proto, resp.StatusCode)
		}
		checkUpstream(t, up)
	})
}

// TestDeliveryOutlivesZEGOHangingUp (finding 5): ZEGO disconnecting while
// the upstream works must not make the backend process the task twice.
func TestDeliveryOutlivesZEGOHangingUp(t *testing.T) {
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	var mu sync.Mutex
	requests := 0
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		requests++
		mu.Unlock()
		arrived <- struct{}{}
		<-release // still working when ZEGO hangs up
	}))
	t.Cleanup(slow.Close)
	tester := startSites(t, dedupeSecret, "", site{upstream: slow.URL})
	task := newTaskID()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf("http://localhost:%d/zego/compose", httpPort),
		strings.NewReader(signed{secret: dedupeSecret, taskID: task}.body()))
	done := make(chan error, 1)
	go func() {
		resp, err := tester.Client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-arrived // the upstream has the callback ...
	cancel()  // ... when ZEGO hangs up
	if err := <-done; err == nil {
		t.Fatal("the client should have given up")
	}
	// While the upstream still works, ZEGO's retry is in flight ...
	wantAnswer(t, send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body()), 409, "in_flight", "")
	close(release)
	// ... and once it has answered 200, a duplicate.
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body())
		if got.status == 200 && got.duplicate == "1" {
			break
		}
		if got.status != http.StatusConflict || time.Now().After(deadline) {
			t.Fatalf("ZEGO's retry: %d %q, want a duplicate once the first delivery finished", got.status, got.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if requests != 1 {
		t.Fatalf("upstream got %d requests, want 1", requests)
	}
}

// TestUpstreamResetAfter2xx (finding 5): an upstream that sends a 2xx status
// line and then breaks off accepted the callback: the retry is a duplicate,
// and the outcome is counted although reverse_proxy aborts the response.
func TestUpstreamResetAfter2xx(t *testing.T) {
	var mu sync.Mutex
	requests := 0
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		requests++
		mu.Unlock()
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		fmt.Fprint(buf, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
		buf.Flush()
		conn.Close()
	}))
	t.Cleanup(broken.Close)
	tester := startSites(t, dedupeSecret, "", site{options: "app_id 1234567890", upstream: broken.URL})
	task := newTaskID()
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", httpPort))
	if err != nil {
		t.Fatal(err)
	}
	body := signed{secret: dedupeSecret, taskID: task}.body()
	fmt.Fprintf(conn, "POST /zego/compose HTTP/1.1\r\nHost: localhost:%d\r\nContent-Length: %d\r\n\r\n%s", httpPort, len(body), body)
	status, _ := bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	if !strings.Contains(status, " 200 ") {
		t.Fatalf("status line %q, want the upstream's 200", status)
	}
	deadline := time.Now().Add(5 * time.Second)
	for scrapeMetrics(t)[`caddy_zego_callback_requests_total{app_id="1234567890",event="compose",outcome="forwarded",product="rtc"}`] != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the aborted delivery was never counted as forwarded")
		}
		time.Sleep(50 * time.Millisecond)
	}
	wantAnswer(t, send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body()), 200, "", "1")
	mu.Lock()
	defer mu.Unlock()
	if requests != 1 {
		t.Fatalf("upstream got %d requests, want 1", requests)
	}
}

// TestStorageInFlightAnsweredAtOnce (finding 7): with dedupe_store storage,
// copies of a callback whose first delivery is in flight are answered 409
// while it is still in flight, not queued on the storage's lock.
func TestStorageInFlightAnsweredAtOnce(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	blocking := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	t.Cleanup(func() { once.Do(func() { close(release) }); blocking.Close() })
	tester := startSites(t, dedupeSecret, "storage file_system "+storageFolder(t), site{options: "dedupe_store storage", upstream: blocking.URL})
	body := signed{secret: dedupeSecret, taskID: newTaskID()}.body()
	// Ten copies at once contend for the signature's lock: one goes on to
	// the (blocked) upstream, and every other must be answered while the
	// lock holder is still working, without waiting for the storage's lock
	// poll (a second for file_system), which the old code did.
	const copies = 10
	answers := make(chan answer, copies)
	var durations sync.Map
	for i := range copies {
		go func() {
			start := time.Now()
			a := send(t, tester, httpPort, body)
			durations.Store(i, time.Since(start))
			answers <- a
		}()
	}
	for range copies - 1 {
		select {
		case a := <-answers:
			if a.status != http.StatusConflict || a.body != "in_flight" {
				t.Errorf("a copy got %d %q, want 409 in_flight", a.status, a.body)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("copies still unanswered after 10 s")
		}
	}
	slowest := time.Duration(0)
	durations.Range(func(_, v any) bool { slowest = max(slowest, v.(time.Duration)); return true })
	if slowest >= time.Second {
		t.Errorf("a copy waited %s: it queued on the storage's lock", slowest)
	}
	once.Do(func() { close(release) })
	if got := <-answers; got.status != 200 {
		t.Fatalf("the delivery got %d", got.status)
	}
}
