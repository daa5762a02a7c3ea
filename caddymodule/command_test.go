package caddymodule_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/zegoedge/caddy-zego-callback/caddymodule"
	"github.com/zegoedge/caddy-zego-callback/verify"
)

// runCLI runs `caddy zego-callback ARGS` in-process, as registered, with
// its standard output and error together.
func runCLI(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := executeCLI(t, stdin, &out, &out, args...)
	return out.String(), err
}

func executeCLI(t *testing.T, stdin string, out, errOut io.Writer, args ...string) error {
	t.Helper()
	registered, ok := caddycmd.Commands()["zego-callback"]
	if !ok {
		t.Fatal("zego-callback is not registered")
	}
	// As Caddy's root command has it.
	root := &cobra.Command{Use: "caddy", SilenceUsage: true}
	cmd := &cobra.Command{Use: registered.Name, Short: registered.Short, Long: registered.Long}
	caddymodule.AddCommands(cmd, strings.NewReader(stdin), out, errOut)
	root.AddCommand(cmd)
	root.SetOut(out)
	root.SetErr(errOut)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(append([]string{"zego-callback"}, args...))
	return root.Execute()
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
	tester := startSites(t, dedupeSecret, "", site{upstream: up.URL})
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
	startSites(t, dedupeSecret, "", site{upstream: up.URL})
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
		{"good", good, nil, true, `ok: signature valid for this timestamp and nonce; ZEGO does not sign the body`},
		{"good, with another secret too", good, []string{"--secret", "other"}, true, `"event":"compose"`},
		{"forged", forged, nil, false, "bad_signature: the signature matches none of the 1 top-level secret(s)"},
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

// runCLISplit is runCLI with standard output and standard error apart.
func runCLISplit(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = executeCLI(t, stdin, &out, &errOut, args...)
	return out.String(), errOut.String(), err
}

func signCLI(t *testing.T, args ...string) string {
	t.Helper()
	body, err := runCLI(t, "", append([]string{"sign"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(body)
}

// TestCLIVerifyOutput: a rejection is one line, the reason code once and
// why, with nothing on stderr; an accepted body says what the signature
// proves and shows the document, also when a field was changed after
// signing (ZEGO does not sign the body).
func TestCLIVerifyOutput(t *testing.T) {
	good := signCLI(t, "--secret", "s3")
	tampered := strings.Replace(good, "https://example.com/zego-callback/merged.mp4", "https://evil.example/other.mp4", 1)
	if tampered == good {
		t.Fatal("could not tamper with replay_url")
	}
	out, errOut, err := runCLISplit(t, tampered, "verify", "--secret", "s3")
	if err != nil || errOut != "" {
		t.Fatalf("tampered but signed body: err %v, stderr %q", err, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[0], "ok: signature valid for this timestamp and nonce; ZEGO does not sign the body") {
		t.Errorf("first line does not say what was checked: %q", lines[0])
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &doc); err != nil || doc["replay_url"] != "https://evil.example/other.mp4" {
		t.Errorf("last line is not the normalized document with the received replay_url: %q (%v)", lines[len(lines)-1], err)
	}

	cases := []struct {
		name, body string
		args       []string
		want       string
	}{
		{"bad signature", strings.Replace(signCLI(t, "--secret", "s3", "--nonce", "42"), `"nonce":"42"`, `"nonce":"43"`, 1), nil,
			"bad_signature: the signature matches none of the 1 top-level secret(s): check the secret; ZEGO signs the timestamp and nonce, so changing either also fails"},
		{"app not allowed", good, []string{"--app-id", "7"}, "app_not_allowed: the appid is not one of the allowed AppIDs"},
		{"event not allowed", good, []string{"--events", "room_create"}, "event_not_allowed: the event is not one of the allowed events"},
		{"invalid field", strings.Replace(good, "https://example.com/zego-callback/merged.mp4", "not a url", 1), nil, "invalid_field: replay_url: "},
		{"malformed body", "hello", nil, "malformed_body: "},
		{"body too large", good, []string{"--max-body", "10"}, "body_too_large: the body is larger than max-body, 10 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, err := runCLISplit(t, tc.body, append([]string{"verify", "--secret", "s3"}, tc.args...)...)
			if err == nil {
				t.Fatal("accepted")
			}
			if errOut != "" {
				t.Errorf("stderr holds %q, want nothing", errOut)
			}
			if strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, tc.want) {
				t.Fatalf("output %q, want one line starting %q", out, tc.want)
			}
			reason, _, _ := strings.Cut(out, ":")
			if strings.Count(out, reason) != 1 {
				t.Errorf("the reason code repeats: %q", out)
			}
		})
	}
}

// TestCLIVerifySkewOfFarTimestamps: a 12-digit timestamp is thousands of
// years away, more than a time.Duration holds; the skew must still be right.
func TestCLIVerifySkewOfFarTimestamps(t *testing.T) {
	const timestamp = 999999999999
	body := signCLI(t, "--secret", "s3", "--timestamp", strconv.Itoa(timestamp))
	out, _, err := runCLISplit(t, body, "verify", "--secret", "s3")
	if err == nil {
		t.Fatal("accepted")
	}
	skew := timestamp - time.Now().Unix()
	years := skew / 31556952
	// The clock may tick between the two readings.
	want := []string{
		fmt.Sprintf("stale_timestamp: the timestamp is %ds (about %d years) in the future, beyond max-age 5m0s", skew, years),
		fmt.Sprintf("stale_timestamp: the timestamp is %ds (about %d years) in the future, beyond max-age 5m0s", skew+1, years),
	}
	if !strings.HasPrefix(out, want[0]) && !strings.HasPrefix(out, want[1]) {
		t.Fatalf("got %q\nwant %q", out, want[0])
	}
	if years < 31000 || years > 32000 {
		t.Fatalf("about %d years: the test's own arithmetic is off", years)
	}

	// Within a Duration's range the usual form stays.
	body = signCLI(t, "--secret", "s3", "--timestamp", strconv.FormatInt(time.Now().Add(-2*time.Hour).Unix(), 10))
	out, _, _ = runCLISplit(t, body, "verify", "--secret", "s3")
	if !strings.HasPrefix(out, "stale_timestamp: the timestamp is 2h0m0s in the past") && !strings.HasPrefix(out, "stale_timestamp: the timestamp is 2h0m1s in the past") {
		t.Fatalf("got %q", out)
	}
}

func TestCLIVerifyHelp(t *testing.T) {
	out, _, err := runCLISplit(t, "", "verify", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"(default: any app, or the apps of --app-secret)\n", "Exit status: 0 accepted, 2 rejected, 1 no verdict", "--app-secret", "--config", "--handler"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	if strings.Contains(out, "(default [])") {
		t.Error(`help shows "(default [])"`)
	}
}

// TestCLIExitStatus runs the real caddy main in a child process: accepted
// exits 0, rejected 2 with the verdict on stdout and Caddy's error line
// naming the reason on stderr, a usage error 1 with the error on stderr.
func TestCLIExitStatus(t *testing.T) {
	t.Setenv("ZEGO_TEST_CLI_SECRET", "s3")
	good := signCLI(t, "--secret", "s3")
	bad := signCLI(t, "--secret", "other")
	cases := []struct {
		name, stdin         string
		args                []string
		status              int
		wantStdout, wantErr string
	}{
		{"accepted", good, []string{"verify", "--secret-env", "ZEGO_TEST_CLI_SECRET"}, 0, "ok: signature valid", ""},
		{"rejected", bad, []string{"verify", "--secret-env", "ZEGO_TEST_CLI_SECRET"}, 2, "bad_signature: ", "the callback is rejected: bad_signature"},
		{"no verdict", good, []string{"verify", "--bogus"}, 1, "", "unknown flag: --bogus"},
		{"no verdict: unset variable", good, []string{"verify", "--secret-env", "ZEGO_TEST_CLI_UNSET"}, 1, "", "ZEGO_TEST_CLI_UNSET (from --secret-env) is empty or unset"},
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args, _ := json.Marshal(append([]string{"caddy", "zego-callback"}, tc.args...))
			cmd := exec.Command(self, "-test.run", "^TestCaddyMainInChild$")
			cmd.Env = append(os.Environ(), "ZEGO_TEST_CADDY_MAIN_ARGS="+string(args))
			cmd.Stdin = strings.NewReader(tc.stdin)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			status := 0
			if exitErr, ok := err.(*exec.ExitError); ok {
				status = exitErr.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if status != tc.status {
				t.Fatalf("exit status %d, want %d\nstdout: %s\nstderr: %s", status, tc.status, &stdout, &stderr)
			}
			if !strings.HasPrefix(stdout.String(), tc.wantStdout) {
				t.Errorf("stdout %q, want it to start %q", &stdout, tc.wantStdout)
			}
			if tc.wantErr == "" && stderr.Len() > 0 {
				t.Errorf("stderr %q, want nothing", &stderr)
			}
			if !strings.Contains(stderr.String(), tc.wantErr) {
				t.Errorf("stderr %q lacks %q", &stderr, tc.wantErr)
			}
		})
	}
}

// TestCaddyMainInChild is caddy's main for TestCLIExitStatus's children; in
// a normal run it does nothing.
func TestCaddyMainInChild(t *testing.T) {
	raw := os.Getenv("ZEGO_TEST_CADDY_MAIN_ARGS")
	if raw == "" {
		return
	}
	if err := json.Unmarshal([]byte(raw), &os.Args); err != nil {
		t.Fatal(err)
	}
	// Main exits the process, so TestMain cannot remove its folder.
	if dir := filepath.Dir(os.Getenv("XDG_CONFIG_HOME")); strings.Contains(dir, "zego-callback-caddytest-") {
		os.RemoveAll(dir)
	}
	caddycmd.Main()
}

// TestCLIVerifyAppSecrets: per-app secrets from the environment, as a
// multi-app edge has them.
func TestCLIVerifyAppSecrets(t *testing.T) {
	t.Setenv("ZEGO_TEST_APP1", "app1-secret")
	t.Setenv("ZEGO_TEST_APP2", "app2-secret")
	flags := []string{"verify", "--app-secret", "1=ZEGO_TEST_APP1", "--app-secret", "2=ZEGO_TEST_APP2"}
	cases := []struct {
		name, secret, appID string
		args                []string
		want                string
	}{
		{"app 1 with its secret", "app1-secret", "1", nil, "ok: "},
		{"app 2 with its secret", "app2-secret", "2", nil, "ok: "},
		{"app 1 with app 2's secret", "app2-secret", "1", nil, "bad_signature: the signature matches none of app 1's 1 secret(s)"},
		{"app 3 has no secret here", "app1-secret", "3", nil, "app_not_allowed: "},
		{"app 3 with a top-level secret and app_id", "top", "3", []string{"--secret", "top", "--app-id", "1,2,3"}, "ok: "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := signCLI(t, "--secret", tc.secret, "--app-id", tc.appID)
			out, _, _ := runCLISplit(t, body, append(slices.Clone(flags), tc.args...)...)
			if !strings.HasPrefix(out, tc.want) {
				t.Fatalf("got %q, want %q", out, tc.want)
			}
			for _, secret := range []string{"app1-secret", "app2-secret"} {
				if strings.Contains(out, secret) {
					t.Fatalf("output shows a secret: %q", out)
				}
			}
		})
	}
	for _, bad := range []string{"1", "x=ZEGO_TEST_APP1", "1=", "4294967296=ZEGO_TEST_APP1"} {
		_, _, err := runCLISplit(t, "", "verify", "--app-secret", bad)
		if err == nil || !strings.Contains(err.Error(), "--app-secret takes APPID=ENVNAME") {
			t.Errorf("--app-secret %s: err = %v", bad, err)
		}
	}
	_, _, err := runCLISplit(t, "", "verify", "--app-secret", "1=ZEGO_TEST_UNSET_APP")
	if err == nil || !strings.Contains(err.Error(), "ZEGO_TEST_UNSET_APP (from --app-secret) is empty or unset") {
		t.Errorf("unset variable: err = %v", err)
	}
}

// TestCLIVerifyConfig: verify takes the settings from a real config file,
// resolving {env.*} and {file.*} as Caddy would, and asks which handler
// when there are several.
func TestCLIVerifyConfig(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "app2_secret")
	if err := os.WriteFile(secretFile, []byte("app2-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ZEGO_TEST_CONFIG_APP1", "app1-from-env")
	caddyfile := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(caddyfile, []byte(`
http://prod.example.com {
	route /zego/compose {
		zego_callback {
			app 1 {
				secret {env.ZEGO_TEST_CONFIG_APP1}
			}
			app 2 {
				secret {file.`+secretFile+`}
			}
			max_age 10m
			deliver {
				reverse_proxy 127.0.0.1:9
			}
		}
	}
}
http://staging.example.com {
	route /zego/compose {
		zego_callback staging-secret {
			deliver {
				reverse_proxy 127.0.0.1:9
			}
		}
	}
}
`), 0o600); err != nil {
		t.Fatal(err)
	}

	_, _, err := runCLISplit(t, "", "verify", "--config", caddyfile)
	if err == nil || !strings.Contains(err.Error(), "has 2 zego_callback handlers; pick one with --handler N") ||
		!strings.Contains(err.Error(), `1: server srv0 then match [{"host":["staging.example.com"]}] then match [{"path":["/zego/compose"]}]`) ||
		!strings.Contains(err.Error(), `2: server srv0 then match [{"host":["prod.example.com"]}] then match [{"path":["/zego/compose"]}]`) {
		t.Fatalf("err = %v", err)
	}
	// Handlers are numbered in the adapted config's order: Caddy sorts
	// sites by host, longest first.
	cases := []struct {
		name, secret, appID, handler, want string
		timestamp                          time.Time
	}{
		{"app 1, secret from the environment", "app1-from-env", "1", "2", "ok: ", time.Now()},
		{"app 2, secret from a file", "app2-from-file", "2", "2", "ok: ", time.Now()},
		{"app 2, the file's old secret", "app2-old", "2", "2", "bad_signature: the signature matches none of app 2's 1 secret(s)", time.Now()},
		{"app 3 is not allowed by the app blocks", "app1-from-env", "3", "2", "app_not_allowed: ", time.Now()},
		{"max_age comes from the config", "app1-from-env", "1", "2", "ok: ", time.Now().Add(-8 * time.Minute)},
		{"the staging handler", "staging-secret", "3", "1", "ok: ", time.Now()},
		{"the staging handler's max_age is the default", "staging-secret", "3", "1", "stale_timestamp: the timestamp is 8m", time.Now().Add(-8 * time.Minute)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := signCLI(t, "--secret", tc.secret, "--app-id", tc.appID, "--timestamp", strconv.FormatInt(tc.timestamp.Unix(), 10))
			out, errOut, _ := runCLISplit(t, body, "verify", "--config", caddyfile, "--handler", tc.handler)
			if !strings.HasPrefix(out, tc.want) {
				t.Fatalf("got %q (stderr %q), want %q", out, errOut, tc.want)
			}
		})
	}

	// A JSON config, found by its extension, works the same.
	jsonConfig := filepath.Join(dir, "caddy.json")
	if err := os.WriteFile(jsonConfig, []byte(`{"apps":{"http":{"servers":{"edge":{"listen":[":80"],"routes":[{"handle":[
		{"handler":"zego_callback","secrets":["{file.`+secretFile+`}"],"app_ids":[5],
		 "deliver":{"routes":[{"handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"127.0.0.1:9"}]}]}]}}]}]}}}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	body := signCLI(t, "--secret", "app2-from-file", "--app-id", "5")
	if out, errOut, err := runCLISplit(t, body, "verify", "--config", jsonConfig); err != nil || !strings.HasPrefix(out, "ok: ") {
		t.Fatalf("JSON config: %v %q %q", err, out, errOut)
	}

	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--config", caddyfile, "--secret", "x"}, "--secret and --config do not mix"},
		{[]string{"--config", caddyfile, "--handler", "3"}, "--handler must be from 1 to 2"},
		{[]string{"--handler", "1", "--secret", "x"}, "--adapter and --handler go with --config"},
		{[]string{"--config", filepath.Join(dir, "missing.json")}, "--config: "},
	} {
		if _, _, err := runCLISplit(t, "", append([]string{"verify"}, tc.args...)...); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.wantErr)
		}
	}
}

// TestCLISendCACert: send trusts a CA given with --cacert, as for a Caddy
// serving tls internal, and not without it.
func TestCLISendCACert(t *testing.T) {
	server := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "tls upstream answered")
	}))
	defer server.Close()
	caFile := filepath.Join(t.TempDir(), "root.crt")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: server.Certificate().Raw})
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"send", "--secret", "s3", "--url", server.URL + "/zego/compose", "--retries", "0"}

	out, err := runCLI(t, "", append(args, "--cacert", caFile)...)
	if err != nil || !strings.Contains(out, "attempt 1: 200 OK") || !strings.Contains(out, "tls upstream answered") {
		t.Fatalf("with --cacert: err %v\n%s", err, out)
	}
	out, err = runCLI(t, "", args...)
	if err == nil || !strings.Contains(out, "certificate signed by unknown authority") {
		t.Fatalf("without --cacert: err %v\n%s", err, out)
	}
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o600)
	if _, err := runCLI(t, "", append(args, "--cacert", notPEM)...); err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Fatalf("a file without a certificate: err %v", err)
	}
}

// TestCLISendTLSInternal: against a real Caddy serving tls internal, send
// works with Caddy's local root (from the admin API's /pki/ca/local) given
// to --cacert, and fails without it.
func TestCLISendTLSInternal(t *testing.T) {
	up := newUpstream(t)
	startSites(t, "tls-internal-secret", fmt.Sprintf("skip_install_trust\n\thttps_port %d", secondHTTPPort),
		site{port: secondHTTPPort, https: true, options: "app_id 1234567890", upstream: up.URL})

	resp, err := http.Get(fmt.Sprintf("http://localhost:%d/pki/ca/local", adminPort))
	if err != nil {
		t.Fatal(err)
	}
	var ca struct {
		Root string `json:"root_certificate"`
	}
	err = json.NewDecoder(resp.Body).Decode(&ca)
	resp.Body.Close()
	if err != nil || !strings.Contains(ca.Root, "BEGIN CERTIFICATE") {
		t.Fatalf("no local root from the admin API: %v %q", err, ca.Root)
	}
	caFile := filepath.Join(t.TempDir(), "root.crt")
	if err := os.WriteFile(caFile, []byte(ca.Root), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"send", "--secret", "tls-internal-secret", "--url", fmt.Sprintf("https://localhost:%d/zego/compose", secondHTTPPort), "--retries", "0"}

	// Caddy issues the site's certificate in the background at load.
	var out string
	for deadline := time.Now().Add(10 * time.Second); ; {
		out, err = runCLI(t, "", append(args, "--cacert", caFile)...)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil || !strings.Contains(out, "attempt 1: 200 OK") || !strings.Contains(out, "upstream answered 200") {
		t.Fatalf("with --cacert: err %v\n%s", err, out)
	}
	out, err = runCLI(t, "", args...)
	if err == nil || !strings.Contains(out, "certificate signed by unknown authority") {
		t.Fatalf("without --cacert: err %v\n%s", err, out)
	}
}

// TestCLISignAnyEvent: sign builds a documented body for any supported
// event, with --field over ZEGO's example, and verify explains it.
func TestCLISignAnyEvent(t *testing.T) {
	for _, format := range []string{"json", "form", "encoded-json"} {
		t.Run(format, func(t *testing.T) {
			body, err := runCLI(t, "", "sign", "--secret", "s", "--event", "stream_close", "--format", format,
				"--field", "stream_id=cam1", "--field", "type=1")
			if err != nil {
				t.Fatalf("sign: %v\n%s", err, body)
			}
			out, err := runCLI(t, body, "verify", "--secret", "s", "--events", "all")
			if err != nil {
				t.Fatalf("verify: %v\n%s", err, out)
			}
			for _, want := range []string{"ok: signature valid", "event: stream_close, a stream stopped publishing", `"event":"stream_close"`, `"stream_id":"cam1"`, `"type":1`} {
				if !strings.Contains(out, want) {
					t.Errorf("verify's output lacks %q:\n%s", want, out)
				}
			}
		})
	}
	for _, tc := range []struct{ name, want string }{
		{"unsupported", "--event must be one of"},
		{"--field on compose", "--field is for events other than compose"},
		{"--field without =", "--field takes NAME=VALUE"},
		{"--field for the signature", "--field cannot set signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := map[string][]string{
				"unsupported":               {"--event", "no_such_event"},
				"--field on compose":        {"--field", "a=b"},
				"--field without =":         {"--event", "room_login", "--field", "session_id"},
				"--field for the signature": {"--event", "room_login", "--field", "signature=x"},
			}[tc.name]
			out, err := runCLI(t, "", append([]string{"sign", "--secret", "s"}, args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v (%s), want %q", err, out, tc.want)
			}
		})
	}
}

// TestUpstreamSecretCommand: upstream-secret prints one fresh Standard
// Webhooks secret a line, whsec_ and the base64 of 32 random bytes, and
// nothing else, so that `> file` makes a secret file.
func TestUpstreamSecretCommand(t *testing.T) {
	seen := map[string]bool{}
	for range 3 {
		stdout, stderr, err := runCLISplit(t, "", "upstream-secret")
		if err != nil || stderr != "" {
			t.Fatalf("upstream-secret: %v, stderr %q", err, stderr)
		}
		secret, ok := strings.CutSuffix(stdout, "\n")
		encoded, prefixed := strings.CutPrefix(secret, "whsec_")
		key, decodeErr := base64.StdEncoding.DecodeString(encoded)
		if !ok || !prefixed || decodeErr != nil || len(key) != 32 {
			t.Fatalf("upstream-secret printed %q: want whsec_ and the base64 of 32 bytes, one line", stdout)
		}
		if seen[secret] {
			t.Fatal("upstream-secret printed the same secret twice")
		}
		seen[secret] = true
	}
}

// TestCLISignEveryProduct: sign makes every event of every product from
// ZEGO's example, in each wire shape, and verify accepts it on that
// product, with the event's envelope and the millisecond timestamp where
// the product sends one; on another product it is wrong_product.
func TestCLISignEveryProduct(t *testing.T) {
	for _, product := range verify.Products() {
		for _, event := range verify.Events(product) {
			if event == verify.DefaultEvent {
				continue // compose has its own flags and tests
			}
			envelope, _ := verify.EventEnvelope(product, event)
			for _, format := range []string{"json", "form", "encoded-json"} {
				body, err := runCLI(t, "", "sign", "--secret", "s", "--product", product, "--event", event, "--format", format, "--timestamp", "1745502313")
				if err != nil {
					t.Fatalf("%s %s %s: sign: %v\n%s", product, event, format, err, body)
				}
				if format == "json" {
					want := `"` + envelope.Timestamp + `":1745502313`
					if product == verify.DefaultProduct {
						want = `"` + envelope.Timestamp + `":"1745502313"` // RTC's examples send strings
					}
					if envelope.Milliseconds {
						want += "000"
					}
					if !strings.Contains(body, want) {
						t.Errorf("%s %s: %s lacks %s", product, event, body, want)
					}
				}
				document := `"product":"` + product + `","event":"` + event + `"`
				if product == verify.DefaultProduct {
					document = `{"event":"` + event + `"`
				}
				out, err := runCLI(t, body, "verify", "--secret", "s", "--product", product, "--events", "all", "--max-age", "87600h")
				if err != nil || !strings.Contains(out, "ok: signature valid") || !strings.Contains(out, document) {
					t.Errorf("%s %s %s: verify: %v\n%s", product, event, format, err, out)
				}
			}
		}
	}
	body := signCLI(t, "--secret", "s", "--product", "zim", "--event", "room_create")
	if out, err := runCLI(t, body, "verify", "--secret", "s", "--max-age", "87600h", "--events", "all"); err == nil || !strings.Contains(out, "wrong_product") {
		t.Errorf("ZIM's room_create verified as RTC's: %v\n%s", err, out)
	}
	if _, err := runCLI(t, "", "sign", "--secret", "s", "--product", "zim"); err == nil || !strings.Contains(err.Error(), "--event is required for --product zim") {
		t.Errorf("sign --product zim without --event: %v", err)
	}
}
