package caddymodule_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zegoedge/caddy-zego-callback/caddymodule"
	"github.com/zegoedge/caddy-zego-callback/verify"
	"github.com/zegoedge/caddy-zego-callback/verify/verifytest"
)

// eventsSite accepts every supported event, with options besides, and
// proxies to up.
func eventsSite(options string, up *upstream) site {
	return site{options: "events all\n" + options, upstream: up.URL}
}

// TestCaddyEventVectors sends every event vector, in each shape ZEGO sends,
// through a real Caddy: the upstream gets the exact normalized document,
// the Idempotency-Key computed with sha256sum, and the event's headers.
// The vectors are dated 2016-2017: Caddy's handlers run on each vector's
// clock, with the vectors' max_age.
func TestCaddyEventVectors(t *testing.T) {
	v := verifytest.LoadEvents(t)
	var clock atomic.Int64
	defer caddymodule.SetClock(func() time.Time { return time.Unix(clock.Load(), 0) })()
	up := newUpstream(t)
	// Dedupe off: each event's shapes are one occurrence, and each must be
	// forwarded as a first delivery.
	startSites(t, v.Secret, "", eventsSite(fmt.Sprintf("max_age %ds\ndedupe off", int(v.MaxAge().Seconds())), up))
	for _, tc := range v.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			clock.Store(tc.Now)
			before := len(up.received())
			req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://localhost:%d/zego/compose", httpPort), strings.NewReader(tc.Body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", tc.ContentType)
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			got := up.received()
			if len(got) != before+1 {
				t.Fatalf("upstream got %d requests, want 1", len(got)-before)
			}
			last := got[len(got)-1]
			var want bytes.Buffer
			if err := json.Compact(&want, tc.Expect.Normalized); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(last.body, want.Bytes()) {
				t.Errorf("upstream got\n%s\nwant\n%s", last.body, want.Bytes())
			}
			if key := last.header.Get("Idempotency-Key"); key != tc.Expect.IdempotencyKey {
				t.Errorf("Idempotency-Key %s, want %s (%s)", key, tc.Expect.IdempotencyKey, tc.Expect.IdempotencyKeyCommand)
			}
			if last.header.Get("X-Zego-Event") != tc.Event {
				t.Errorf("X-Zego-Event %q", last.header.Get("X-Zego-Event"))
			}
			if _, hasTask := last.header["X-Zego-Task-Id"]; hasTask != strings.HasPrefix(tc.Event, "mix_") {
				t.Errorf("X-Zego-Task-Id present: %v, for %s", hasTask, tc.Event)
			}
		})
	}
}

// resign gives a vector's JSON body a fresh timestamp and nonce signed with
// secret, and sets fields; it is ZEGO sending the callback again (a retry)
// or, with an identifying field changed, another occurrence.
func resign(t *testing.T, body, secret string, fields map[string]string) string {
	t.Helper()
	envelope, _ := verify.EventEnvelope(verify.DefaultProduct, verify.DefaultEvent)
	return signAgain(t, body, envelope, secret, time.Now(), fields)
}

// signAgain re-signs a JSON body in envelope with secret, a timestamp of
// at in the envelope's unit (a JSON number where the body had one) and a
// nonce no other run used, and sets fields.
func signAgain(t *testing.T, body string, envelope verify.Envelope, secret string, at time.Time, fields map[string]string) string {
	t.Helper()
	decoder := json.NewDecoder(strings.NewReader(body))
	decoder.UseNumber() // identifiers beyond 2^53 stay exact
	var object map[string]any
	if err := decoder.Decode(&object); err != nil {
		t.Fatal(err)
	}
	unix := at.Unix()
	if envelope.Milliseconds {
		unix *= 1000
	}
	ts, nonce := strconv.FormatInt(unix, 10), uniqueNonce("7")
	if _, isNumber := object[envelope.Timestamp].(json.Number); isNumber {
		object[envelope.Timestamp] = json.Number(ts)
	} else {
		object[envelope.Timestamp] = ts
	}
	object[envelope.Nonce], object[envelope.Signature] = nonce, verify.Sign(secret, ts, nonce)
	for name, value := range fields {
		object[name] = value
	}
	out, err := json.Marshal(object)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestDedupePerEvent: for every RTC room, stream and recording event,
// ZEGO's retry of one occurrence reaches the upstream once, and another
// occurrence (a field of its dedupe key changed, as docs/events.md's table
// documents) reaches it too. The other events' retries are
// TestProductRetriesAnsweredOnce's; their keys are pinned by products.json.
func TestDedupePerEvent(t *testing.T) {
	v := verifytest.LoadEvents(t)
	up := newUpstream(t)
	tester := startSites(t, v.Secret, "", eventsSite("", up))
	// A field of each event's dedupe key.
	keyField := map[string]string{
		"room_create":   "room_session_id",
		"room_close":    "room_session_id",
		"room_login":    "session_id", // the same user logging in again
		"room_logout":   "logout_time",
		"stream_create": "stream_sid",
		"stream_close":  "stream_seq",
		"record":        "end_time",
		"mix_start":     "seq",
		"mix_stop":      "seq",
	}
	seen := map[string]bool{}
	for _, tc := range v.Cases {
		if seen[tc.Event] || tc.ContentType != "application/json" || !strings.HasPrefix(tc.Body, "{") {
			continue
		}
		seen[tc.Event] = true
		t.Run(tc.Event, func(t *testing.T) {
			field, ok := keyField[tc.Event]
			if !ok {
				t.Fatalf("no key field for %s: add one", tc.Event)
			}
			// Values no other run in this process used: the memory store
			// outlives each test.
			first := uniqueNonce("9")
			second := first + "1"
			before := len(up.received())
			occurrence := resign(t, tc.Body, v.Secret, map[string]string{field: first})
			wantAnswer(t, send(t, tester, httpPort, occurrence), 200, "upstream answered 200", "")
			wantAnswer(t, send(t, tester, httpPort, resign(t, occurrence, v.Secret, nil)), 200, "", "1")
			wantAnswer(t, send(t, tester, httpPort, resign(t, occurrence, v.Secret, map[string]string{field: second})), 200, "upstream answered 200", "")
			if n := len(up.received()) - before; n != 2 {
				t.Fatalf("upstream got %d requests, want 2", n)
			}
		})
	}
	if len(seen) != len(keyField) {
		t.Fatalf("covered %d events, want every one of events.json but compose (%d)", len(seen), len(keyField))
	}
}

// TestRouteByEvent routes event families to different upstreams with
// Caddy's own matchers, inside the deliver block, on the placeholders the
// handler sets, as the README shows.
func TestRouteByEvent(t *testing.T) {
	v := verifytest.LoadEvents(t)
	streams, rest := newUpstream(t), newUpstream(t)
	tester := startSites(t, v.Secret, "", site{
		options: "events all",
		deliver: fmt.Sprintf(`@streams vars_regexp {http.zego.event} ^stream_
			reverse_proxy @streams %s {
				header_up X-Stream {http.zego.stream_id}
			}
			reverse_proxy %s {
				header_up X-Room {http.zego.room_id}
			}`, streams.URL, rest.URL),
		noErrors: true,
	})
	bodyOf := func(event string) string {
		for _, tc := range v.Cases {
			if tc.Event == event && tc.ContentType == "application/json" && strings.HasPrefix(tc.Body, "{") {
				return resign(t, tc.Body, v.Secret, map[string]string{"stream_sid": uniqueNonce("s"), "room_session_id": uniqueNonce("8")})
			}
		}
		t.Fatalf("no vector for %s", event)
		return ""
	}
	wantAnswer(t, send(t, tester, httpPort, bodyOf("stream_create")), 200, "upstream answered 200", "")
	wantAnswer(t, send(t, tester, httpPort, bodyOf("room_create")), 200, "upstream answered 200", "")
	if got := streams.received(); len(got) != 1 || got[0].header.Get("X-Zego-Event") != "stream_create" || got[0].header.Get("X-Stream") != "aaaa" {
		t.Fatalf("the streams upstream got %d requests (%v)", len(got), got)
	}
	if got := rest.received(); len(got) != 1 || got[0].header.Get("X-Zego-Event") != "room_create" || got[0].header.Get("X-Room") != "rid_1242649" {
		t.Fatalf("the other upstream got %d requests (%v)", len(got), got)
	}
}
