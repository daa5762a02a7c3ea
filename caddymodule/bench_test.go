package caddymodule

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/zegoedge/caddy-zego-callback/verify"
)

// BenchmarkServeHTTP is the handler's whole share of a genuine callback,
// with dedupe on (memory store) and off: HTTP-level checks, reading the
// body, verifying, the dedupe records, rewriting the request, metrics and
// the access-log fields, with the handler's logger at INFO, as Caddy's
// default leaves it. The deliver chain answers 200 at once. Each iteration
// is a distinct callback.
func BenchmarkServeHTTP(b *testing.B) {
	b.Run("dedupe", func(b *testing.B) { benchServeHTTP(b, true, nil) })
	b.Run("dedupe_off", func(b *testing.B) { benchServeHTTP(b, false, nil) })
}

// BenchmarkServeHTTPSignUpstream is BenchmarkServeHTTP's dedupe case with
// sign_upstream: what signing each forward costs.
func BenchmarkServeHTTPSignUpstream(b *testing.B) { benchServeHTTP(b, true, []string{specSecret}) }

func benchServeHTTP(b *testing.B, dedupe bool, sign []string) {
	h := &Handler{Secrets: []string{"bench-secret"}, AppIDs: []uint32{1234567890}, DedupeDisabled: !dedupe, DedupeMax: 1 << 20,
		SignUpstream: sign, Deliver: testDeliver()}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	if err := h.Provision(ctx); err != nil {
		b.Fatal(err)
	}
	h.logger = zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), zapcore.InfoLevel))
	defer h.Cleanup()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	bodies := make([]string, 100_000)
	for i := range bodies {
		nonce := strconv.Itoa(1_000_000 + i)
		bodies[i] = `{"appid":"1234567890","event":"compose","replay_url":"https://vod.example.com/43b7b075vodtranscq1500030200/93172bfa1397757897438985100/dt6.mp4","task_id":"bench-` +
			nonce + `","file_id":"1397757897438985100","code":"0","message":"SUCCESS","timestamp":"` + ts + `","nonce":"` + nonce + `","signature":"` + verify.Sign("bench-secret", ts, nonce) + `"}`
	}
	chain := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusOK)
		return nil
	})
	h.deliverChain = chain
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		if i == len(bodies) {
			b.StopTimer()
			_ = h.Cleanup() // a fresh store: every callback stays first-seen
			logger := h.logger
			if err := h.Provision(ctx); err != nil {
				b.Fatal(err)
			}
			h.logger, h.deliverChain = logger, chain
			i = 0
			b.StartTimer()
		}
		r := httptest.NewRequest(http.MethodPost, "/zego/compose", strings.NewReader(bodies[i]))
		ctx := context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer())
		r = r.WithContext(context.WithValue(ctx, caddyhttp.ExtraLogFieldsCtxKey, new(caddyhttp.ExtraLogFields)))
		w := httptest.NewRecorder()
		if err := h.ServeHTTP(w, r, nil); err != nil || w.Code != http.StatusOK {
			b.Fatalf("callback %d: %v %d", i, err, w.Code)
		}
		i++
	}
}
