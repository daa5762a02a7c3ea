package caddymodule_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
)

// runCLI runs `caddy zego-callback ARGS` in-process, as registered.
func runCLI(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	registered, ok := caddycmd.Commands()["zego-callback"]
	if !ok {
		t.Fatal("zego-callback is not registered")
	}
	cmd := &cobra.Command{Use: registered.Name, Short: registered.Short, Long: registered.Long}
	registered.CobraFunc(cmd)
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// TestCLISignKnownAnswer signs ZEGO's worked example: the signature must be
// the one ZEGO's documentation gives.
func TestCLISignKnownAnswer(t *testing.T) {
	out, err := runCLI(t, "", "sign", "--secret", "secret", "--timestamp", "1470820198", "--nonce", "123412",
		"--app-id", "1", "--task-id", "t1", "--file-id", "5285890813218549789")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"appid":"1","event":"compose","replay_url":"https://example.com/zego-callback/merged.mp4","task_id":"t1","file_id":"5285890813218549789","code":"0","message":"","timestamp":"1470820198","nonce":"123412","signature":"5bd59fd62953a8059fb7eaba95720f66d19e4517"}` + "\n"
	if out != want {
		t.Fatalf("sign printed\n%s\nwant\n%s", out, want)
	}
}

func TestCLISignDefaultsAreFresh(t *testing.T) {
	t.Setenv("ZEGO_TEST_CLI_SECRET", "s")
	first, err := runCLI(t, "", "sign", "--secret-env", "ZEGO_TEST_CLI_SECRET")
	if err != nil {
		t.Fatal(err)
	}
	second, _ := runCLI(t, "", "sign", "--secret-env", "ZEGO_TEST_CLI_SECRET")
	var a, b map[string]string
	if json.Unmarshal([]byte(first), &a) != nil || json.Unmarshal([]byte(second), &b) != nil {
		t.Fatalf("not JSON: %s %s", first, second)
	}
	if a["task_id"] == b["task_id"] || a["nonce"] == b["nonce"] {
		t.Error("two signs share a task ID or nonce")
	}
	ts, _ := strconv.ParseInt(a["timestamp"], 10, 64)
	if d := time.Since(time.Unix(ts, 0)); d < -time.Minute || d > time.Minute {
		t.Errorf("timestamp %s is not now", a["timestamp"])
	}
	if a["appid"] != "1234567890" || a["code"] != "0" {
		t.Errorf("defaults: %v", a)
	}
}

func TestCLIFlagErrors(t *testing.T) {
	t.Setenv("ZEGO_TEST_UNSET", "")
	cases := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"sign without a secret", []string{"sign"}, "a secret is required"},
		{"sign with both secrets", []string{"sign", "--secret", "a", "--secret-env", "X"}, "not both"},
		{"sign with an unset variable", []string{"sign", "--secret-env", "ZEGO_TEST_UNSET"}, "ZEGO_TEST_UNSET (from --secret-env) is empty or unset"},
		{"sign with a bad format", []string{"sign", "--secret", "a", "--format", "xml"}, "--format must be json, form or encoded-json"},
		{"sign with an unknown flag", []string{"sign", "--secret", "a", "--bogus"}, "unknown flag: --bogus"},
		{"sign with a bad app ID", []string{"sign", "--secret", "a", "--app-id", "4294967296"}, "invalid argument"},
		{"send without a URL", []string{"send", "--secret", "a"}, "--url is required"},
		{"send to a non-HTTP URL", []string{"send", "--secret", "a", "--url", "ftp://x"}, "--url must be an http or https URL"},
		{"send with too many retries", []string{"send", "--secret", "a", "--url", "http://127.0.0.1:1", "--retries", "6"}, "--retries must be between 0 and 5"},
		{"send with no repeat", []string{"send", "--secret", "a", "--url", "http://127.0.0.1:1", "--repeat", "0"}, "--repeat must be at least 1"},
		{"repeat with a fixed task", []string{"send", "--secret", "a", "--url", "http://127.0.0.1:1", "--repeat", "2", "--task-id", "t"}, "drop --task-id, --nonce and --timestamp"},
		{"repeat with a fixed nonce", []string{"send", "--secret", "a", "--url", "http://127.0.0.1:1", "--repeat", "2", "--nonce", "1"}, "drop --task-id, --nonce and --timestamp"},
		{"verify without a secret", []string{"verify"}, "a secret is required"},
		{"verify a missing file", []string{"verify", "--secret", "a", "/nonexistent/body.json"}, "no such file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runCLI(t, "", tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

// TestCLISignAcceptedByHandler: every wire shape sign prints is accepted by
// the handler in a real Caddy and reaches the upstream normalized.
func TestCLISignAcceptedByHandler(t *testing.T) {
	up := newUpstream(t)
	tester := startDedupeCaddy(t, up, "", "")
	for _, format := range []string{"json", "form", "encoded-json"} {
		t.Run(format, func(t *testing.T) {
			task := newTaskID()
			body, err := runCLI(t, "", "sign", "--secret", dedupeSecret, "--format", format, "--task-id", task,
				"--replay-url", "https://example.com/a+b%20c.mp4?x=1&y=2", "--message", "a b+c %41 100%")
			if err != nil {
				t.Fatal(err)
			}
			before := len(up.received())
			got := send(t, tester, httpPort, strings.TrimSpace(body))
			wantAnswer(t, got, 200, "upstream answered 200", "")
			received := up.received()
			if len(received) != before+1 {
				t.Fatal("nothing reached the upstream")
			}
			var doc map[string]any
			if err := json.Unmarshal(received[len(received)-1].body, &doc); err != nil {
				t.Fatal(err)
			}
			// Every shape arrives exactly as given to sign.
			if doc["task_id"] != task || doc["replay_url"] != "https://example.com/a+b%20c.mp4?x=1&y=2" || doc["message"] != "a b+c %41 100%" {
				t.Fatalf("upstream got %v", doc)
			}
		})
	}
}

// TestCLISendRetries: an upstream that fails twice, then succeeds, takes
// exactly three attempts.
func TestCLISendRetries(t *testing.T) {
	up := newUpstream(t)
	startDedupeCaddy(t, up, "", "")
	up.mu.Lock()
	up.failFirst = 2
	up.mu.Unlock()
	url := "http://localhost:" + strconv.Itoa(httpPort) + "/zego/compose"
	out, err := runCLI(t, "", "send", "--secret", dedupeSecret, "--url", url, "--no-wait")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"attempt 1: 503 Service Unavailable", "attempt 2: 503 Service Unavailable", "attempt 3: 200 OK", "upstream answered 200"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "attempt 4") || len(up.received()) != 3 {
		t.Fatalf("%d requests reached the upstream, want 3:\n%s", len(up.received()), out)
	}

	// Every attempt failing exits non-zero.
	up.mu.Lock()
	up.failFirst = 100
	up.mu.Unlock()
	out, err = runCLI(t, "", "send", "--secret", dedupeSecret, "--url", url, "--no-wait", "--retries", "2")
	if err == nil || !strings.Contains(out, "attempt 3: 503") || strings.Contains(out, "attempt 4") {
		t.Fatalf("err %v, output:\n%s", err, out)
	}
	up.mu.Lock()
	up.failFirst = 0
	up.mu.Unlock()

	// --repeat sends distinct callbacks.
	before := len(up.received())
	out, err = runCLI(t, "", "send", "--secret", dedupeSecret, "--url", url, "--repeat", "5")
	if err != nil || !strings.Contains(out, "sent 5/5 callbacks, 0 failed") {
		t.Fatalf("err %v, output:\n%s", err, out)
	}
	if n := len(up.received()) - before; n != 5 {
		t.Fatalf("upstream got %d of 5 distinct callbacks", n)
	}
}

func TestCLIVerify(t *testing.T) {
	sign := func(args ...string) string {
		body, err := runCLI(t, "", append([]string{"sign", "--secret", "s3"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		return body
	}
	good := sign()
	forged := strings.Replace(sign("--nonce", "42"), `"nonce":"42"`, `"nonce":"43"`, 1)
	stale := sign("--timestamp", strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10))
	cases := []struct {
		name, body string
		args       []string
		accepted   bool
		want       string
	}{
		{"good", good, nil, true, `ok: the callback is genuine`},
		{"good, with another secret too", good, []string{"--secret", "other"}, true, `"event":"compose"`},
		{"forged", forged, nil, false, "bad_signature: the signature does not match"},
		{"stale", stale, nil, false, "stale_timestamp: the timestamp is 1h0m0s in the past, beyond max-age 5m0s"},
		{"wrong app", good, []string{"--app-id", "7"}, false, "app_not_allowed"},
		{"not a callback", "hello", nil, false, "malformed_body"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runCLI(t, tc.body, append([]string{"verify", "--secret", "s3"}, tc.args...)...)
			if (err == nil) != tc.accepted {
				t.Fatalf("accepted = %v, want %v (%v)\n%s", err == nil, tc.accepted, err, out)
			}
			if !strings.Contains(out, tc.want) {
				t.Fatalf("output lacks %q:\n%s", tc.want, out)
			}
			if strings.Contains(out, "s3") && !strings.Contains(tc.want, "s3") {
				t.Fatalf("output shows the secret:\n%s", out)
			}
		})
	}
}
