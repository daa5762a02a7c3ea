package caddymodule

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/zegoedge/caddy-zego-callback/verify"
)

// newDeliverHandler provisions a handler with dedupe on (the memory store),
// for unit tests of the request path; the test sets the deliver chain.
func newDeliverHandler(t *testing.T, configure func(h *Handler)) *Handler {
	t.Helper()
	h := &Handler{Secrets: []string{"deliver-test-secret"}, AppIDs: []uint32{1234567890}, Deliver: testDeliver()}
	if configure != nil {
		configure(h)
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	if err := h.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Cleanup() })
	return h
}

var deliverTestTasks int

// signedCompose is a compose callback signed now with the handler's secret,
// for a task no other test uses (the memory store outlives each test).
func signedCompose(t *testing.T) string {
	deliverTestTasks++
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	nonce := "deliver-" + strconv.FormatInt(time.Now().UnixNano(), 10) + "-" + strconv.Itoa(deliverTestTasks)
	return `{"appid":"1234567890","event":"compose","replay_url":"https://example.com/a.mp4","task_id":"deliver-task-` + nonce +
		`","code":"0","timestamp":"` + ts + `","nonce":"` + nonce + `","signature":"` + verify.Sign("deliver-test-secret", ts, nonce) + `"}`
}

// answer is what ZEGO would get for body through h with chain: the status
// and body Caddy writes, whether the handler answered or returned an error.
func answer(t *testing.T, h *Handler, chain caddyhttp.Handler, body string) (int, string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/zego/compose", strings.NewReader(body))
	repl := caddy.NewReplacer()
	r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl))
	w := httptest.NewRecorder()
	h.deliverChain = chain
	if err := h.ServeHTTP(w, r, nil); err != nil {
		handlerErr, ok := errors.AsType[caddyhttp.HandlerError](err)
		if !ok {
			t.Fatalf("not a handler error: %v", err)
		}
		return handlerErr.StatusCode, w.Body.String()
	}
	return w.Code, w.Body.String()
}

// TestChainThatWritesNothingIsAFailure: a deliver chain that answers
// nothing (a newcomer's route without reverse_proxy answered ZEGO 200 and
// lost the callback) is a failure ZEGO sees, so that it retries.
func TestChainThatWritesNothingIsAFailure(t *testing.T) {
	h := newDeliverHandler(t, nil)
	silent := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil })
	status, _ := answer(t, h, silent, signedCompose(t))
	if status != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", status)
	}
}

// TestAcceptedAnswerPassesThrough: the backend's 2xx reaches ZEGO as the
// backend wrote it.
func TestAcceptedAnswerPassesThrough(t *testing.T) {
	h := newDeliverHandler(t, nil)
	chain := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("X-Backend", "yes")
		w.WriteHeader(http.StatusCreated)
		_, err := w.Write([]byte("stored"))
		return err
	})
	status, body := answer(t, h, chain, signedCompose(t))
	if status != http.StatusCreated || body != "stored" {
		t.Fatalf("got %d %q, want 201 stored", status, body)
	}
}

// TestHeldFailureBodyIsBounded: a failure is held back from ZEGO (to be
// spooled, or passed on), but only its first 64KiB: a 64MiB error page
// cannot grow Caddy's memory, and the attempt counts as a failure.
func TestHeldFailureBodyIsBounded(t *testing.T) {
	h := newDeliverHandler(t, nil)
	chunk := make([]byte, 1<<20)
	written := 0
	huge := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusServiceUnavailable)
		for range 64 {
			n, err := w.Write(chunk)
			written += n
			if err != nil {
				return err // reverse_proxy aborts the response then: ZEGO would get a reset
			}
		}
		return nil
	})
	h.deliverChain = huge
	r := httptest.NewRequest(http.MethodPost, "/zego/compose", strings.NewReader("{}"))
	a := h.deliver(httptest.NewRecorder(), r, &delivery{})
	if len(a.answer.body) > heldBodyLimit || written != 64*len(chunk) {
		t.Fatalf("held %d bytes of %d written, bound %d", len(a.answer.body), written, heldBodyLimit)
	}
	if a.accepted() || !errors.Is(a.err, errHeldBodyTooLarge) {
		t.Fatalf("accepted=%v err=%v, want a failure for the oversized body", a.accepted(), a.err)
	}
	status, _ := answer(t, h, huge, signedCompose(t))
	if status != http.StatusBadGateway {
		t.Fatalf("ZEGO got %d, want 502", status)
	}
}

// TestHungBackendIsBoundedByDeliverTimeout: a backend that never answers
// fails the attempt at deliver_timeout, whatever the chain's own timeouts,
// and its in-flight mark does not outlive the attempt: ZEGO's retry is
// delivered, not answered 409 until ZEGO gives up.
func TestHungBackendIsBoundedByDeliverTimeout(t *testing.T) {
	h := newDeliverHandler(t, func(h *Handler) { h.DeliverTimeout = caddy.Duration(200 * time.Millisecond) })
	hung := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		<-r.Context().Done() // reverse_proxy gives up when its request's context ends
		return caddyhttp.Error(http.StatusBadGateway, r.Context().Err())
	})
	body := signedCompose(t)
	start := time.Now()
	status, _ := answer(t, h, hung, body)
	if status != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", status)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the attempt took %s with deliver_timeout 200ms", took)
	}
	ok := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusOK)
		return nil
	})
	if status, _ := answer(t, h, ok, body); status != http.StatusOK {
		t.Fatalf("ZEGO's retry after the hung attempt got %d, want 200", status)
	}
}

// TestRecorderNeverFlushesAHeldAnswer: flushing a held failure would send
// ZEGO a 200 with no body.
func TestRecorderNeverFlushesAHeldAnswer(t *testing.T) {
	w := httptest.NewRecorder()
	rec := &answerRecorder{ResponseWriterWrapper: caddyhttp.ResponseWriterWrapper{ResponseWriter: w}}
	rec.WriteHeader(http.StatusServiceUnavailable)
	if err := rec.FlushError(); err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Write([]byte("down")); err != nil {
		t.Fatal(err)
	}
	if w.Flushed || w.Body.Len() != 0 {
		t.Fatalf("the held answer reached the client: flushed=%v body=%q", w.Flushed, w.Body.String())
	}
}

// TestDescribeDial: the dialer's texts (as Go's net package writes them;
// the refused one is also met for real in TestLastErrorSaysWhy) become a
// sentence naming the backend.
func TestDescribeDial(t *testing.T) {
	for text, want := range map[string]string{
		"dial tcp 10.0.0.7:8000: connect: connection refused":             "connection refused by the backend at 10.0.0.7:8000",
		"dial tcp :0: connect: connection refused":                        "the backend's address is empty (a placeholder in reverse_proxy without a value?)",
		"dial tcp 10.0.0.7:8000: i/o timeout":                             "no connection to the backend at 10.0.0.7:8000 within the dial timeout",
		"dial tcp: lookup backend on 127.0.0.11:53: no such host":         "the backend's host name backend does not resolve (DNS: no such host)",
		"dial tcp 10.0.0.7:8000: connect: network is unreachable":         "cannot connect to the backend at 10.0.0.7:8000: connect: network is unreachable",
		"dial unix /run/backend.sock: connect: no such file or directory": "cannot connect to the backend at /run/backend.sock: connect: no such file or directory",
	} {
		if got := describeDial(text); got != want {
			t.Errorf("describeDial(%q) = %q, want %q", text, got, want)
		}
	}
}

// TestPlaceholdersSetOutsideDeliver: of the placeholders a deliver block
// uses, those a redelivery lacks are named: set by map, vars or auth
// before zego_callback. The JSON is what `caddy adapt` makes of a
// Caddyfile whose route maps {backend} before zego_callback and whose
// deliver block maps {inner} and sets vars itself.
func TestPlaceholdersSetOutsideDeliver(t *testing.T) {
	const adapted = `{"routes": [{"handle": [{"defaults": ["127.0.0.1:9103"], "destinations": ["{inner}"], "handler": "map", "source": "{http.request.uri.path}"}, {"handler": "vars", "tenant": "a"}, {"handler": "reverse_proxy", "headers": {"request": {"set": {"X-Client": ["{http.vars.client_ip}"], "X-Task": ["{http.zego.task_id}"], "X-Tenant": ["{http.vars.tenant}"], "X-User": ["{http.auth.user.id}"]}}}, "upstreams": [{"dial": "{backend}"}, {"dial": "{inner}"}]}]}]}`
	got := placeholdersSetOutside([]byte(adapted))
	slices.Sort(got)
	if want := []string{"{backend}", "{http.auth.user.id}"}; !slices.Equal(got, want) {
		t.Errorf("named %q, want %q", got, want)
	}
	if got := placeholdersSetOutside([]byte(`{"routes": [{"handle": [{"handler": "reverse_proxy", "upstreams": [{"dial": "backend:8000"}]}]}]}`)); len(got) != 0 {
		t.Errorf("a plain reverse_proxy: named %q, want none", got)
	}
}

// TestDeliverWithoutReverseProxyIsNamed: a deliver block that answers
// itself (respond) tells ZEGO "delivered" with no backend behind it: a
// WARN at load says so. The JSON is what the Caddyfile adapter makes of
// deliver { respond 200 } and of deliver { reverse_proxy backend:8000 }.
func TestDeliverWithoutReverseProxyIsNamed(t *testing.T) {
	for deliverJSON, wantWarning := range map[string]bool{
		`{"routes":[{"handle":[{"handler":"static_response","status_code":200}]}]}`:                   true,
		`{"routes":[{"handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"backend:8000"}]}]}]}`: false,
	} {
		core, logs := observer.New(zap.WarnLevel)
		h := newDeliverHandler(t, nil)
		h.logger = zap.New(core)
		h.warnAboutRisks([]byte(deliverJSON))
		if got := logs.FilterMessageSnippet("has no reverse_proxy").Len() == 1; got != wantWarning {
			t.Errorf("%s: warned %v, want %v (%v)", deliverJSON, got, wantWarning, logs.All())
		}
	}
}
