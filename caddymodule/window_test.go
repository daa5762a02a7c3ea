package caddymodule

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/zegoedge/caddy-zego-callback/verify"
)

// TestSignatureRecordOutlivesTheWindow (finding 3): a timestamp passes while
// now < timestamp + max_age + 1 s (whole seconds), so the signature record
// must live at least that long from the timestamp, for any max_age, or a
// captured signature comes back on a tampered body. The clock is injected
// and set at the boundary.
func TestSignatureRecordOutlivesTheWindow(t *testing.T) {
	for _, maxAge := range []time.Duration{time.Second, 1500 * time.Millisecond, 5 * time.Minute} {
		t.Run(maxAge.String(), func(t *testing.T) {
			secret := fmt.Sprintf("window-test-%d", maxAge) // a store of its own: memory stores outlive handlers
			firstSeen := time.Unix(1755570000, 0)
			clock := firstSeen
			h := &Handler{Secrets: []string{secret}, MaxAge: caddy.Duration(maxAge), Deliver: testDeliver(), now: func() time.Time { return clock }}
			ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
			t.Cleanup(cancel)
			if err := h.Provision(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = h.Cleanup() })
			// The timestamp as far ahead as the window allows at first sight.
			timestamp := firstSeen.Unix() + int64(maxAge/time.Second)
			body := func(task string) string {
				ts := fmt.Sprint(timestamp)
				return `{"appid":"1","event":"compose","replay_url":"https://example.com/a.mp4","task_id":"` + task +
					`","code":"0","timestamp":"` + ts + `","nonce":"42","signature":"` + verify.Sign(secret, ts, "42") + `"}`
			}
			post := func(b string) (int, error) {
				status, _, err := serve(h, httptest.NewRequest("POST", "/zego/compose", strings.NewReader(b)), new(recordingNext))
				return status, err
			}
			if status, err := post(body("genuine")); status != 200 {
				t.Fatalf("first sight: %d %v", status, err)
			}
			// The last moment at which the timestamp still passes.
			clock = time.Unix(timestamp+int64(maxAge/time.Second)+1, 0).Add(-time.Millisecond)
			if status, err := post(body("tampered")); verify.ReasonOf(err) != "replayed_signature" {
				t.Fatalf("%s after first sight: %d %v, want replayed_signature", clock.Sub(firstSeen), status, err)
			}
			// A moment later the timestamp itself is stale.
			clock = clock.Add(time.Millisecond)
			if status, err := post(body("tampered-again")); verify.ReasonOf(err) != "stale_timestamp" {
				t.Fatalf("%s after first sight: %d %v, want stale_timestamp", clock.Sub(firstSeen), status, err)
			}
		})
	}
}

// TestClockSetBackCannotReopenTheWindow (finding 11): with the records of
// a captured signature swept while the clock was ahead, setting the clock
// back made the signature pass again on a tampered body. The handler's
// clock holds at the latest reading it gave, so the timestamp stays stale.
func TestClockSetBackCannotReopenTheWindow(t *testing.T) {
	ahead := time.Now().Add(time.Hour)
	if latestWallClock.Load() > ahead.UnixNano() {
		t.Fatal("the clock was already read ahead of the test's own step")
	}
	latestWallClock.Store(ahead.UnixNano()) // the clock was an hour ahead; now it is right
	t.Cleanup(func() { latestWallClock.Store(time.Now().UnixNano()) })
	if now := stepSafeNow(); now.Before(ahead) {
		t.Fatalf("stepSafeNow went back to %s after reading %s", now, ahead)
	}
	h := &Handler{Secrets: []string{"set-back-test"}, Deliver: testDeliver(), DedupeDisabled: true} // the records are gone
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	if err := h.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Cleanup() })
	// Signed two minutes ago by the right clock: inside the window of the
	// wall clock now, but an hour and two minutes behind what the edge saw.
	ts := fmt.Sprint(time.Now().Add(-2 * time.Minute).Unix())
	body := `{"appid":"1","event":"compose","replay_url":"https://example.com/tampered.mp4","task_id":"t","code":"0","timestamp":"` + ts +
		`","nonce":"7","signature":"` + verify.Sign("set-back-test", ts, "7") + `"}`
	status, _, err := serve(h, httptest.NewRequest("POST", "/zego/compose", strings.NewReader(body)), new(recordingNext))
	if verify.ReasonOf(err) != "stale_timestamp" {
		t.Fatalf("after the clock was set back: %d %v, want stale_timestamp", status, err)
	}
}
