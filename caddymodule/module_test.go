package caddymodule

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/zegoedge/caddy-zego-callback/verify"
	"github.com/zegoedge/caddy-zego-callback/verify/verifytest"
)

// provisionVectorHandler builds the handler the vectors describe, on the
// vectors' clock. Dedupe is off: several vectors share a task ID, each must
// be forwarded as a first delivery, and the process-wide memory store is
// exercised through Caddy in dedupe_test.go.
func provisionVectorHandler(t *testing.T, v *verifytest.Set) *Handler {
	t.Helper()
	h := &Handler{
		Secrets:        []string{v.Secret},
		AppIDs:         v.AllowedAppIDs,
		Events:         v.AllowedEvents,
		MaxAge:         caddy.Duration(v.MaxAge()),
		DedupeDisabled: true,
		Deliver:        testDeliver(),
		now:            v.NowTime,
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	if err := h.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	return h
}

// testDeliver is a deliver block that provisions without a backend; unit
// tests then put their own chain in its place (see serve).
func testDeliver() *caddyhttp.Subroute {
	return &caddyhttp.Subroute{Routes: caddyhttp.RouteList{{
		HandlersRaw: []json.RawMessage{json.RawMessage(`{"handler":"static_response"}`)},
	}}}
}

// recordingNext stands in for reverse_proxy: it records what it was given.
type recordingNext struct {
	calls   int
	body    []byte
	header  http.Header
	request *http.Request
}

func (n *recordingNext) ServeHTTP(w http.ResponseWriter, r *http.Request) error {
	n.calls++
	n.request = r
	n.header = r.Header.Clone()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	n.body = body
	w.WriteHeader(http.StatusOK)
	return nil
}

// serve runs one request through the handler, with chain as its deliver
// chain, and returns the HTTP status Caddy would answer with and the
// replacer it used.
func serve(h *Handler, r *http.Request, chain caddyhttp.Handler) (int, *caddy.Replacer, error) {
	repl := caddy.NewReplacer()
	r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl))
	w := httptest.NewRecorder()
	h.deliverChain = chain
	err := h.ServeHTTP(w, r, nil)
	if err != nil {
		var handlerErr caddyhttp.HandlerError
		if !errors.As(err, &handlerErr) {
			return 0, repl, err
		}
		return handlerErr.StatusCode, repl, err
	}
	return w.Code, repl, nil
}

func vectorRequest(tc *verifytest.Case) *http.Request {
	r := httptest.NewRequest(tc.Method, "/zego/compose", strings.NewReader(tc.Body))
	r.Header.Set("Content-Type", tc.ContentType)
	if tc.Name == "gzip_encoding" {
		r.Header.Set("Content-Encoding", "gzip")
	}
	return r
}

func compactJSON(t *testing.T, raw json.RawMessage) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestServeHTTPPublicVectors(t *testing.T) {
	v := verifytest.Load(t)
	for _, tc := range v.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			h := provisionVectorHandler(t, v)
			next := new(recordingNext)
			status, repl, err := serve(h, vectorRequest(&tc), next)
			if status != tc.Expect.Status {
				t.Fatalf("status = %d (%v), want %d", status, err, tc.Expect.Status)
			}
			if tc.Expect.Reason != verify.ReasonOK {
				if got := verify.ReasonOf(err); got != tc.Expect.Reason {
					t.Fatalf("reason = %q, want %q", got, tc.Expect.Reason)
				}
				if got, _ := repl.GetString("http.zego.error"); got != tc.Expect.Reason {
					t.Fatalf("{http.zego.error} = %q, want %q", got, tc.Expect.Reason)
				}
				if next.calls != 0 {
					t.Fatal("a rejected callback reached the deliver chain")
				}
				return
			}
			if next.calls != 1 {
				t.Fatalf("deliver chain called %d times", next.calls)
			}
			if want := compactJSON(t, tc.Expect.Normalized); !bytes.Equal(next.body, want) {
				t.Fatalf("forwarded\n got: %s\nwant: %s", next.body, want)
			}
		})
	}
}

func TestForwardedRequest(t *testing.T) {
	v := verifytest.Load(t)
	h := provisionVectorHandler(t, v)
	tc := v.Cases[0] // tencent_success_json
	r := vectorRequest(&tc)
	r.Header.Set("X-Zego-Event", "spoofed")
	nonCanonical := strings.ToLower("X-Zego-App-Id")
	r.Header[nonCanonical] = []string{"spoofed"} // clients can send such keys: still removed
	r.Header.Set("X-Zego-Anything", "spoofed")
	r.Header.Set("Content-Encoding", "identity")
	r.Header.Set("Connection", "Idempotency-Key, X-Zego-Event")
	next := new(recordingNext)
	status, repl, err := serve(h, r, next)
	if err != nil || status != http.StatusOK {
		t.Fatalf("status %d, err %v", status, err)
	}
	want := compactJSON(t, tc.Expect.Normalized)
	for name, wantValue := range map[string]string{
		"Content-Type":     "application/json",
		"Content-Length":   strconv.Itoa(len(want)),
		"X-Zego-Event":     "compose",
		"X-Zego-App-Id":    "1234567890",
		"X-Zego-Task-Id":   "1400341231-EditMedia-0d8b6f0a5c457f5722e6b27796ce1f2ctt0",
		"Content-Encoding": "",
		"X-Zego-Anything":  "",
		"Connection":       "",
	} {
		if got := next.header.Get(name); got != wantValue {
			t.Errorf("header %s = %q, want %q", name, got, wantValue)
		}
	}
	if got := next.header[nonCanonical]; len(got) != 0 {
		t.Errorf("non-canonical spoofed header kept: %q", got)
	}
	if key := next.header.Get("Idempotency-Key"); len(key) != 32 {
		t.Errorf("Idempotency-Key = %q", key)
	}
	if next.request.ContentLength != int64(len(want)) {
		t.Errorf("ContentLength = %d, want %d", next.request.ContentLength, len(want))
	}
	resent, err := next.request.GetBody()
	if err != nil {
		t.Fatal(err)
	}
	if body, _ := io.ReadAll(resent); !bytes.Equal(body, want) {
		t.Errorf("GetBody gives %s", body)
	}
	for name, wantValue := range map[string]string{
		"http.zego.event":   "compose",
		"http.zego.app_id":  "1234567890",
		"http.zego.task_id": "1400341231-EditMedia-0d8b6f0a5c457f5722e6b27796ce1f2ctt0",
		"http.zego.code":    "0",
	} {
		if got, _ := repl.GetString(name); got != wantValue {
			t.Errorf("{%s} = %q, want %q", name, got, wantValue)
		}
	}
}

func TestHTTPLevelChecks(t *testing.T) {
	v := verifytest.Load(t)
	h := provisionVectorHandler(t, v)
	genuine := v.Cases[0].Body
	cases := []struct {
		name   string
		mutate func(r *http.Request)
		status int
	}{
		{"PUT", func(r *http.Request) { r.Method = http.MethodPut }, http.StatusMethodNotAllowed},
		{"HEAD", func(r *http.Request) { r.Method = http.MethodHead }, http.StatusMethodNotAllowed},
		{"identity then gzip", func(r *http.Request) { r.Header.Set("Content-Encoding", "identity, gzip") }, http.StatusUnsupportedMediaType},
		{"second Content-Encoding header", func(r *http.Request) {
			r.Header["Content-Encoding"] = []string{"identity", "br"}
		}, http.StatusUnsupportedMediaType},
		{"declared length over max_body", func(r *http.Request) { r.ContentLength = DefaultMaxBody + 1 }, http.StatusRequestEntityTooLarge},
		{"unknown length, body over max_body", func(r *http.Request) {
			r.ContentLength = -1
			r.Body = io.NopCloser(io.MultiReader(strings.NewReader(genuine), strings.NewReader(strings.Repeat(" ", DefaultMaxBody))))
		}, http.StatusRequestEntityTooLarge},
		{"body exactly max_body", func(r *http.Request) {
			padded := genuine + strings.Repeat(" ", DefaultMaxBody-len(genuine))
			r.Body = io.NopCloser(strings.NewReader(padded))
			r.ContentLength = int64(len(padded))
		}, http.StatusOK},
		{"body fails mid-read", func(r *http.Request) {
			r.Body = io.NopCloser(io.MultiReader(strings.NewReader(genuine[:20]), iotestErrReader{}))
		}, http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/zego/compose", strings.NewReader(genuine))
			tc.mutate(r)
			next := new(recordingNext)
			status, _, err := serve(h, r, next)
			if status != tc.status {
				t.Fatalf("status = %d (%v), want %d", status, err, tc.status)
			}
			if (status == http.StatusOK) != (next.calls == 1) {
				t.Fatalf("next called %d times for status %d", next.calls, status)
			}
		})
	}
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestMethodNotAllowedSetsAllow(t *testing.T) {
	v := verifytest.Load(t)
	h := provisionVectorHandler(t, v)
	r := httptest.NewRequest(http.MethodGet, "/zego/compose", nil)
	r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
	w := httptest.NewRecorder()
	_ = h.ServeHTTP(w, r, nil)
	if got := w.Header().Get("Allow"); got != http.MethodPost {
		t.Fatalf("Allow = %q", got)
	}
}

func TestStatusForEverySentinel(t *testing.T) {
	want := map[error]int{
		verify.ErrMethodNotAllowed:    405,
		verify.ErrUnsupportedEncoding: 415,
		verify.ErrBodyTooLarge:        413,
		verify.ErrMalformedBody:       400,
		verify.ErrMissingField:        400,
		verify.ErrInvalidField:        400,
		verify.ErrDuplicateField:      400,
		verify.ErrAppNotAllowed:       403,
		verify.ErrBadSignature:        401,
		verify.ErrStaleTimestamp:      401,
		verify.ErrEventNotAllowed:     422,
		verify.ErrReplayedSignature:   401,
		verify.ErrInFlight:            409,
	}
	for err, status := range want {
		if got := statusFor(err); got != status {
			t.Errorf("statusFor(%v) = %d, want %d", err, got, status)
		}
	}
}
