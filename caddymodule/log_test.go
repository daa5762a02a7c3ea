package caddymodule

import (
	"fmt"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/zegoedge/caddy-zego-callback/verify"

	"github.com/zegoedge/caddy-zego-callback/verify/verifytest"
)

// TestLogs sends every public vector and checks the one DEBUG line each
// gets: outcome and identity fields, and that no line holds the secret or
// any signature, whatever the callback.
func TestLogs(t *testing.T) {
	v := verifytest.Load(t)
	var secrets []string
	for _, sv := range v.Signatures {
		secrets = append(secrets, sv.Signature)
	}
	secrets = append(secrets, v.Secret)
	for _, tc := range v.Cases {
		if _, sig, ok := strings.Cut(tc.Body, `"signature":"`); ok && len(sig) >= 40 {
			secrets = append(secrets, sig[:40])
		}
		if _, sig, ok := strings.Cut(tc.Body, `signature=`); ok && len(sig) >= 40 {
			secrets = append(secrets, sig[:40])
		}
	}
	if len(secrets) < 20 {
		t.Fatalf("found only %d signatures to look for", len(secrets))
	}

	core, logs := observer.New(zapcore.DebugLevel)
	for _, tc := range v.Cases {
		h := provisionVectorHandler(t, v)
		h.logger = zap.New(core)
		_, _, _ = serve(h, vectorRequest(&tc), new(recordingNext))
	}

	entries := logs.All()
	if len(entries) != len(v.Cases) {
		t.Fatalf("%d log lines for %d callbacks", len(entries), len(v.Cases))
	}
	for i, entry := range entries {
		tc := v.Cases[i]
		fields := entry.ContextMap()
		if entry.Level != zapcore.DebugLevel {
			t.Errorf("%s: logged at %s, want DEBUG (the access log carries the outcome)", tc.Name, entry.Level)
		}
		wantOutcome := tc.Expect.Reason
		if wantOutcome == verify.ReasonOK {
			wantOutcome = outcomeForwarded
		}
		if fields["outcome"] != wantOutcome {
			t.Errorf("%s: outcome %v, want %s", tc.Name, fields["outcome"], wantOutcome)
		}
		for _, key := range []string{"event", "app_id", "task_id", "code", "remote_addr", "duration"} {
			if _, ok := fields[key]; !ok {
				t.Errorf("%s: no %s field", tc.Name, key)
			}
		}
		line := entry.Message + fmt.Sprint(fields)
		for _, secret := range secrets {
			if strings.Contains(line, secret) {
				t.Errorf("%s: log line holds a secret or signature: %s", tc.Name, line)
			}
		}
	}
	if fields := entries[0].ContextMap(); fields["task_id"] != "1400341231-EditMedia-0d8b6f0a5c457f5722e6b27796ce1f2ctt0" || fields["app_id"] != uint32(1234567890) {
		t.Errorf("first line's identity fields: %v", fields)
	}
}
