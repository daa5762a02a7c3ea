package caddymodule_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"
)

const dedupeSecret = "dedupe-test-secret"

// taskCounter keeps task IDs unique across tests: the memory store
// deliberately survives the config reloads between them.
var taskCounter atomic.Int64

func newTaskID() string {
	return fmt.Sprintf("dedupe-%d-%d", time.Now().UnixNano(), taskCounter.Add(1))
}

// uniqueNonce makes a nonce no other test uses: a signature seen with
// another document is a replay, and the memory store outlives each test.
func uniqueNonce(prefix string) string {
	return prefix + strconv.FormatInt(taskCounter.Add(1), 10)
}

type answer struct {
	status    int
	body      string
	duplicate string
}

// send posts a callback to the route on port.
func send(t *testing.T, tester *caddytest.Tester, port int, body string) answer {
	t.Helper()
	return postRetrying(t, tester.Client, fmt.Sprintf("http://localhost:%d/zego/compose", port), body)
}

// postRetrying posts a callback.
func postRetrying(t *testing.T, client *http.Client, url, body string) answer {
	t.Helper()
	resp, b := doRetrying(t, client, jsonPost(url, body))
	return answer{resp.StatusCode, string(b), resp.Header.Get("X-Zego-Duplicate")}
}

// jsonPost makes a POST of a JSON body, for tryRetrying.
func jsonPost(url, body string) func() (*http.Request, error) {
	return func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	}
}

// doRetrying sends the request newRequest makes and reads the answer,
// failing t on an error tryRetrying does not retry.
func doRetrying(t *testing.T, client *http.Client, newRequest func() (*http.Request, error)) (*http.Response, []byte) {
	t.Helper()
	resp, body, err := tryRetrying(client, newRequest)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// tryRetrying sends the request newRequest makes and reads the answer. Just
// after a config load, a connection the old server accepted can be closed
// unanswered (EOF, reset): that attempt is retried, as ZEGO would retry it.
// No response came, so the callback never reached the handler, and a retry
// changes nothing a test counts. It does not fail a test itself, so a
// benchmark's goroutines can call it.
func tryRetrying(client *http.Client, newRequest func() (*http.Request, error)) (*http.Response, []byte, error) {
	for attempt := 1; ; attempt++ {
		req, err := newRequest()
		if err != nil {
			return nil, nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			if attempt < 5 && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			return nil, nil, err
		}
		defer resp.Body.Close()
		// A body cut short is what a test may be about: the answer came.
		body, _ := io.ReadAll(resp.Body)
		return resp, body, nil
	}
}

func wantAnswer(t *testing.T, got answer, status int, body, duplicate string) {
	t.Helper()
	if got.status != status || got.body != body || got.duplicate != duplicate {
		t.Fatalf("got %d %q (X-Zego-Duplicate %q), want %d %q (%q)", got.status, got.body, got.duplicate, status, body, duplicate)
	}
}

func TestDedupe(t *testing.T) {
	up := newUpstream(t)
	tester := startSites(t, dedupeSecret, "", site{options: "dedupe 10m", upstream: up.URL})
	const forwarded = "upstream answered 200"

	t.Run("identical resend is a duplicate", func(t *testing.T) {
		before := len(up.received())
		body := signed{secret: dedupeSecret, taskID: newTaskID()}.body()
		wantAnswer(t, send(t, tester, httpPort, body), 200, forwarded, "")
		wantAnswer(t, send(t, tester, httpPort, body), 200, "", "1")
		if n := len(up.received()) - before; n != 1 {
			t.Fatalf("upstream got %d requests, want 1", n)
		}
	})

	t.Run("ZEGO retry with a new nonce after success is a duplicate", func(t *testing.T) {
		before := len(up.received())
		task := newTaskID()
		wantAnswer(t, send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body()), 200, forwarded, "")
		wantAnswer(t, send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body()), 200, "", "1")
		if n := len(up.received()) - before; n != 1 {
			t.Fatalf("upstream got %d requests, want 1", n)
		}
	})

	t.Run("upstream 503 then 200: forwarded twice, then suppressed", func(t *testing.T) {
		before := len(up.received())
		task := newTaskID()
		up.setStatus(http.StatusServiceUnavailable)
		wantAnswer(t, send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body()), 503, "upstream answered 503", "")
		up.setStatus(http.StatusOK)
		wantAnswer(t, send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body()), 200, forwarded, "")
		wantAnswer(t, send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body()), 200, "", "1")
		if n := len(up.received()) - before; n != 2 {
			t.Fatalf("upstream got %d requests, want 2", n)
		}
	})

	t.Run("tampered replay is rejected", func(t *testing.T) {
		before := len(up.received())
		task := newTaskID()
		genuine := signed{secret: dedupeSecret, taskID: task}.body()
		wantAnswer(t, send(t, tester, httpPort, genuine), 200, forwarded, "")
		// Same timestamp, nonce and signature; another replay_url, same task.
		tampered := strings.Replace(genuine, "https://example.com/a.mp4", "https://evil.example/a.mp4", 1)
		wantAnswer(t, send(t, tester, httpPort, tampered), 401, "replayed_signature", "")
		// Another task too, and the signature in upper case.
		sig := genuine[strings.LastIndex(genuine, `"signature":"`)+13 : len(genuine)-2]
		otherTask := strings.NewReplacer(task, newTaskID(), sig, strings.ToUpper(sig)).Replace(genuine)
		wantAnswer(t, send(t, tester, httpPort, otherTask), 401, "replayed_signature", "")
		if n := len(up.received()) - before; n != 1 {
			t.Fatalf("upstream got %d requests, want 1", n)
		}
	})

	t.Run("tampered replay with digits moved from nonce to timestamp is rejected", func(t *testing.T) {
		// ZEGO hashes the sorted strings joined with no separator, so
		// timestamp T + nonce "987654321" signs the same string as the
		// 13-digit (millisecond) timestamp T+"987" with nonce "654321".
		before := len(up.received())
		genuine := signed{secret: dedupeSecret, taskID: newTaskID(), nonce: uniqueNonce("987654321")}.body()
		wantAnswer(t, send(t, tester, httpPort, genuine), 200, forwarded, "")
		var fields map[string]string
		if err := json.Unmarshal([]byte(genuine), &fields); err != nil {
			t.Fatal(err)
		}
		ts, nonce := fields["timestamp"], fields["nonce"]
		shuffled := strings.NewReplacer(
			`"timestamp":"`+ts+`"`, `"timestamp":"`+ts+nonce[:3]+`"`,
			`"nonce":"`+nonce+`"`, `"nonce":"`+nonce[3:]+`"`,
			fields["task_id"], newTaskID(),
		).Replace(genuine)
		wantAnswer(t, send(t, tester, httpPort, shuffled), 401, "replayed_signature", "")
		if n := len(up.received()) - before; n != 1 {
			t.Fatalf("upstream got %d requests, want 1", n)
		}
	})

	t.Run("a client cannot strip the upstream's headers through Connection", func(t *testing.T) {
		before := len(up.received())
		req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("http://localhost:%d/zego/compose", httpPort),
			strings.NewReader(signed{secret: dedupeSecret, taskID: newTaskID()}.body()))
		req.Header.Set("Connection", "Idempotency-Key, X-Zego-Task-Id, X-Zego-App-Id, X-Zego-Event, Content-Type")
		resp, err := tester.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := up.received()
		if resp.StatusCode != 200 || len(got) != before+1 {
			t.Fatalf("status %d, %d forwarded", resp.StatusCode, len(got)-before)
		}
		for _, name := range []string{"Idempotency-Key", "X-Zego-Task-Id", "X-Zego-App-Id", "X-Zego-Event", "Content-Type"} {
			if got[len(got)-1].header.Get(name) == "" {
				t.Errorf("upstream got no %s", name)
			}
		}
	})

	t.Run("tampered replay before any success is rejected", func(t *testing.T) {
		before := len(up.received())
		up.setStatus(http.StatusServiceUnavailable)
		genuine := signed{secret: dedupeSecret, taskID: newTaskID()}.body()
		wantAnswer(t, send(t, tester, httpPort, genuine), 503, "upstream answered 503", "")
		up.setStatus(http.StatusOK)
		tampered := strings.Replace(genuine, "https://example.com/a.mp4", "https://evil.example/a.mp4", 1)
		wantAnswer(t, send(t, tester, httpPort, tampered), 401, "replayed_signature", "")
		// The genuine body, resent byte for byte, still goes through.
		wantAnswer(t, send(t, tester, httpPort, genuine), 200, forwarded, "")
		if n := len(up.received()) - before; n != 2 {
			t.Fatalf("upstream got %d requests, want 2", n)
		}
	})

	t.Run("50 concurrent identical deliveries reach the upstream once", func(t *testing.T) {
		before := len(up.received())
		up.setDelay(300 * time.Millisecond)
		defer up.setDelay(0)
		body := signed{secret: dedupeSecret, taskID: newTaskID()}.body()
		var wg sync.WaitGroup
		answers := make([]answer, 50)
		for i := range answers {
			wg.Go(func() { answers[i] = send(t, tester, httpPort, body) })
		}
		wg.Wait()
		counts := map[int]int{}
		for _, a := range answers {
			counts[a.status]++
			if a.status != 200 && a.status != 409 {
				t.Errorf("unexpected answer %d %q", a.status, a.body)
			}
			if a.status == 409 && a.body != "in_flight" {
				t.Errorf("409 with body %q", a.body)
			}
		}
		if n := len(up.received()) - before; n != 1 {
			t.Fatalf("upstream got %d requests, want 1 (answers %v)", n, counts)
		}
		if counts[409] == 0 {
			t.Errorf("no delivery overlapped the first (answers %v)", counts)
		}
	})

	t.Run("a config reload keeps the records", func(t *testing.T) {
		before := len(up.received())
		task := newTaskID()
		wantAnswer(t, send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body()), 200, forwarded, "")
		// A changed config: new handler instances, the same identity.
		tester = startSites(t, dedupeSecret, "", site{options: "dedupe 15m\nmax_age 4m", upstream: up.URL})
		wantAnswer(t, send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body()), 200, "", "1")
		if n := len(up.received()) - before; n != 1 {
			t.Fatalf("upstream got %d requests, want 1", n)
		}
	})

	t.Run("dedupe off forwards every delivery", func(t *testing.T) {
		tester := startSites(t, dedupeSecret, "", site{options: "dedupe off", upstream: up.URL})
		before := len(up.received())
		body := signed{secret: dedupeSecret, taskID: newTaskID()}.body()
		wantAnswer(t, send(t, tester, httpPort, body), 200, forwarded, "")
		wantAnswer(t, send(t, tester, httpPort, body), 200, forwarded, "")
		if n := len(up.received()) - before; n != 2 {
			t.Fatalf("upstream got %d requests, want 2", n)
		}
	})
}

// TestDedupeSharedStorage: two handler instances that share nothing but a
// file_system storage folder, as two Caddy instances on one volume would,
// deliver a callback once between them.
func TestDedupeSharedStorage(t *testing.T) {
	up := newUpstream(t)
	folder := storageFolder(t)
	tester := startSites(t, dedupeSecret, "storage file_system "+folder,
		site{options: "dedupe_store storage", upstream: up.URL},
		site{port: secondHTTPPort, options: "dedupe_store storage", upstream: up.URL})
	task := newTaskID()
	wantAnswer(t, send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body()), 200, "upstream answered 200", "")
	wantAnswer(t, send(t, tester, secondHTTPPort, signed{secret: dedupeSecret, taskID: task}.body()), 200, "", "1")
	if n := len(up.received()); n != 1 {
		t.Fatalf("upstream got %d requests, want 1", n)
	}
	records, err := filepath.Glob(folder + "/zego_callback/dedupe/*/delivered/*")
	if err != nil || len(records) != 1 {
		t.Fatalf("delivery records in the storage folder: %d (%v)", len(records), err)
	}
}

// TestDedupeStoreFailureForwards: when the storage fails, genuine callbacks
// are still forwarded — a duplicate beats a loss.
func TestDedupeStoreFailureForwards(t *testing.T) {
	up := newUpstream(t)
	file := t.TempDir() + "/not-a-folder"
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tester := startSites(t, dedupeSecret, "storage file_system "+file+"/storage", site{options: "dedupe_store storage", upstream: up.URL})
	body := signed{secret: dedupeSecret, taskID: newTaskID()}.body()
	wantAnswer(t, send(t, tester, httpPort, body), 200, "upstream answered 200", "")
	wantAnswer(t, send(t, tester, httpPort, body), 200, "upstream answered 200", "")
	if n := len(up.received()); n != 2 {
		t.Fatalf("upstream got %d requests, want 2", n)
	}
}
