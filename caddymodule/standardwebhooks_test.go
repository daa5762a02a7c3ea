package caddymodule_test

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The backend's side of sign_upstream, checked with the npm package
// standardwebhooks run by node: what a backend in any language does.
// .ci/run installs node and the package (npm ci in checkDir).
const checkDir = "testdata/standardwebhooks"

const (
	upstreamSecret     = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	nextUpstreamSecret = "whsec_emVnby1jYWxsYmFjay1yb3RhdGlvbi1rZXktMDEyMw=="
	otherSecret        = "whsec_b3RoZXItc2VydmljZXMtc2VjcmV0LWtleS0wMTI="
)

type webhookCase struct {
	Secret  string            `json:"secret"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// verifyWithStandardWebhooks runs the cases through the npm library.
func verifyWithStandardWebhooks(t *testing.T, cases []webhookCase) []string {
	t.Helper()
	node, err := exec.LookPath("node")
	if _, statErr := os.Stat(filepath.Join(checkDir, "node_modules", "standardwebhooks")); err != nil || statErr != nil {
		t.Skip("needs node and the standardwebhooks package: npm ci --prefix caddymodule/" + checkDir + " (.ci/run does)")
	}
	file := filepath.Join(t.TempDir(), "cases.json")
	raw, _ := json.Marshal(cases)
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "check.mjs", file)
	cmd.Dir = checkDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var results []string
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("node printed %s", out)
	}
	return results
}

func webhookHeaders(r receivedRequest) map[string]string {
	headers := map[string]string{}
	for name := range r.header {
		if strings.HasPrefix(strings.ToLower(name), "webhook-") {
			headers[name] = r.header.Get(name)
		}
	}
	return headers
}

// TestBackendVerifiesTheEdgeWithStandardWebhooks: a forwarded callback and
// a spool redelivery verify with the Standard Webhooks library under
// either secret of a rotation; a tampered body, or another secret, is
// refused.
func TestBackendVerifiesTheEdgeWithStandardWebhooks(t *testing.T) {
	t.Setenv("ZEGO_TEST_UPSTREAM_SECRET", upstreamSecret)
	t.Setenv("ZEGO_TEST_UPSTREAM_SECRET_NEXT", nextUpstreamSecret)
	backend := newUpstream(t)
	s := site{
		upstream: backend.Listener.Addr().String(),
		options:  "app_id 1234567890\nsign_upstream {env.ZEGO_TEST_UPSTREAM_SECRET} {env.ZEGO_TEST_UPSTREAM_SECRET_NEXT}\nspool {\n\tretry 200ms\n}",
	}
	tester := startSites(t, redeliverySecret, "storage file_system "+storageFolder(t), s)
	send := func(task string) answer {
		return postRetrying(t, tester.Client, "http://localhost:"+strconv.Itoa(httpPort)+"/zego/compose", signed{secret: redeliverySecret, taskID: task}.body())
	}
	if got := send(newTaskID()); got.status != http.StatusOK {
		t.Fatalf("forward: %d %q", got.status, got.body)
	}
	forwarded := backend.received()[0]

	backend.setStatus(http.StatusServiceUnavailable)
	task := newTaskID()
	if got := send(task); got.status != http.StatusAccepted {
		t.Fatalf("spooling: %d %q", got.status, got.body)
	}
	since := len(backend.received())
	backend.setStatus(http.StatusOK)
	key := idempotencyKey(1234567890, task)
	var redelivered receivedRequest
	waitFor(t, 10*time.Second, "the spooled callback redelivered", func() bool {
		for _, r := range backend.received()[since:] {
			if r.header.Get("Idempotency-Key") == key {
				redelivered = r
				return true
			}
		}
		return false
	})
	if redelivered.header.Get("Webhook-Id") != key {
		t.Fatalf("the redelivery's webhook-id %q is not its Idempotency-Key %q", redelivered.header.Get("Webhook-Id"), key)
	}

	tampered := strings.Replace(string(forwarded.body), "a.mp4", "b.mp4", 1)
	cases := []webhookCase{
		{upstreamSecret, webhookHeaders(forwarded), string(forwarded.body)},
		{nextUpstreamSecret, webhookHeaders(forwarded), string(forwarded.body)},
		{upstreamSecret, webhookHeaders(redelivered), string(redelivered.body)},
		{upstreamSecret, webhookHeaders(forwarded), tampered},
		{otherSecret, webhookHeaders(forwarded), string(forwarded.body)},
	}
	want := []string{"ok", "ok", "ok", "refused: No matching signature found", "refused: No matching signature found"}
	if tampered == string(forwarded.body) {
		t.Fatal("the tampered body is not tampered")
	}
	if got := verifyWithStandardWebhooks(t, cases); !reflect.DeepEqual(got, want) {
		t.Fatalf("standardwebhooks said %q, want %q", got, want)
	}
}
