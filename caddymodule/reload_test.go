package caddymodule_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"
)

// postLoad posts a Caddyfile to the admin endpoint's /load, as caddy reload
// does; force adds what caddy reload --force sends.
func postLoad(t *testing.T, caddyfile string, force bool) {
	t.Helper()
	if status, body := postConfig(t, "text/caddyfile", caddyfile, force); status != http.StatusOK {
		t.Fatalf("/load answered %d: %s", status, body)
	}
}

// postConfig posts a config of contentType to /load and returns the
// answer. Loading the same config again changes nothing, so a connection
// the admin server closed unanswered is retried, as doRetrying does.
func postConfig(t *testing.T, contentType, config string, force bool) (status int, body string) {
	t.Helper()
	// A fresh connection: a load restarts the admin server, which resets
	// the connections it had open.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, raw := doRetrying(t, client, func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://localhost:%d/load", adminPort), strings.NewReader(config))
		if err == nil {
			req.Header.Set("Content-Type", contentType)
			if force {
				req.Header.Set("Cache-Control", "must-revalidate")
			}
		}
		return req, err
	})
	return resp.StatusCode, string(raw)
}

// TestRotationReloadsFileSecretOnlyWhenForced follows the README's rotation
// with a {file.*} secret: Caddy compares the config's text, not the files
// it names, so after the file changes a plain reload keeps the old secret
// ("config is unchanged") and only caddy reload --force reads the new one.
func TestRotationReloadsFileSecretOnlyWhenForced(t *testing.T) {
	up := newUpstream(t)
	secretFile := filepath.Join(t.TempDir(), "zego_callback")
	if err := os.WriteFile(secretFile, []byte("rotation-old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rotating := site{secret: "{file." + secretFile + "}", options: "app_id 1234567890", upstream: up.URL}
	startSites(t, "", "", rotating)
	caddyfile := lastLoad // a reload of the same text
	post := func(body string) answer {
		t.Helper()
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		return postRetrying(t, client, fmt.Sprintf("http://localhost:%d/zego/compose", httpPort), body)
	}
	wantSecrets := func(step, passes, fails string) {
		t.Helper()
		if got := post(signed{secret: passes, taskID: newTaskID()}.body()); got.status != http.StatusOK {
			t.Fatalf("%s: a callback signed with %s got %d %q, want 200", step, passes, got.status, got.body)
		}
		if got := post(signed{secret: fails, taskID: newTaskID()}.body()); got.status != http.StatusUnauthorized || got.body != "bad_signature" {
			t.Fatalf("%s: a callback signed with %s got %d %q, want 401 bad_signature", step, fails, got.status, got.body)
		}
	}
	wantSecrets("loaded", "rotation-old", "rotation-new")

	if err := os.WriteFile(secretFile, []byte("rotation-new\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	postLoad(t, caddyfile, false)
	wantSecrets("plain reload after the file changed", "rotation-old", "rotation-new")

	postLoad(t, caddyfile, true)
	wantSecrets("forced reload", "rotation-new", "rotation-old")
}

// handleErrorsBlock is the handle_errors block of Caddyfile.example.
func handleErrorsBlock(t *testing.T, example string) string {
	t.Helper()
	block := regexp.MustCompile(`(?s)\n(\thandle_errors \{\n.*?\n\t\})\n`).FindStringSubmatch(example)
	if block == nil {
		t.Fatal("Caddyfile.example has no handle_errors block")
	}
	return block[1]
}

// TestExampleHandleErrors loads Caddyfile.example itself (on free ports):
// its handle_errors answers a rejection with the reason code and an
// upstream failure with the status, never the literal placeholder. The
// README shows the same block.
func TestExampleHandleErrors(t *testing.T) {
	raw, err := os.ReadFile("../Caddyfile.example")
	if err != nil {
		t.Fatal(err)
	}
	example := string(raw)
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if block := handleErrorsBlock(t, example); !strings.Contains(string(readme), block) {
		t.Errorf("the README does not show Caddyfile.example's handle_errors block:\n%s", block)
	}

	load := func(upstreamAddr string) {
		t.Helper()
		config := strings.NewReplacer(
			"http://127.0.0.1:8080", fmt.Sprintf("http://127.0.0.1:%d", httpPort),
			"reverse_proxy 127.0.0.1:8081", "reverse_proxy "+upstreamAddr,
			"http://127.0.0.1:8081", fmt.Sprintf("http://127.0.0.1:%d", secondHTTPPort),
		).Replace(example)
		config = strings.Replace(config, "{\n\tdefault_bind 127.0.0.1\n",
			fmt.Sprintf("{\n\tadmin localhost:%d\n\tpersist_config off\n\tdefault_bind 127.0.0.1\n", adminPort), 1)
		uncommented := regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(config, "")
		if strings.Contains(uncommented, ":8080") || strings.Contains(uncommented, ":8081") || !strings.Contains(config, "persist_config off") {
			t.Fatalf("Caddyfile.example changed shape; update this test:\n%s", config)
		}
		t.Setenv("ZEGO_CALLBACK_SECRET", "example-secret")
		caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{AdminPort: adminPort}).InitServer(config, "caddyfile")
	}
	post := func(body string) answer {
		t.Helper()
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		return postRetrying(t, client, fmt.Sprintf("http://127.0.0.1:%d/zego/compose", httpPort), body)
	}

	up := newUpstream(t)
	load(up.Listener.Addr().String())
	if got := post(signed{secret: "example-secret", taskID: newTaskID()}.body()); got.status != 200 || got.body != "upstream answered 200" {
		t.Fatalf("genuine callback: %d %q", got.status, got.body)
	}
	if got := post(signed{secret: "forged", taskID: newTaskID()}.body()); got.status != 401 || got.body != "bad_signature" {
		t.Fatalf("forged callback: %d %q, want 401 bad_signature", got.status, got.body)
	}
	if got := post("not a callback"); got.status != 400 || got.body != "malformed_body" {
		t.Fatalf("malformed callback: %d %q, want 400 malformed_body", got.status, got.body)
	}

	// An upstream that refuses connections: reverse_proxy's 502, after the
	// example's lb_try_duration.
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downAddr := closed.Addr().String()
	closed.Close()
	load(downAddr)
	got := post(signed{secret: "example-secret", taskID: newTaskID()}.body())
	if got.status != http.StatusBadGateway || got.body != "502 Bad Gateway" {
		t.Fatalf("upstream down: %d %q, want 502 \"502 Bad Gateway\"", got.status, got.body)
	}
}

// TestLoadWarningsOncePerSettings: a risky but valid setting is warned about
// once per distinct settings, not on every reload of the same config.
func TestLoadWarningsOncePerSettings(t *testing.T) {
	up := newUpstream(t)
	logFile := filepath.Join(t.TempDir(), "warnings.log")
	logOptions := fmt.Sprintf(`log zego_warnings {
		output file %s
		include http.handlers.zego_callback
		level WARN
		format json
	}`, logFile)
	// Settings no other test uses: the warnings are remembered for the
	// whole process.
	dedupeMax := 100_000 + time.Now().UnixNano()%1_000_000
	warned := func(maxAge string) site {
		return site{options: fmt.Sprintf("dedupe_max %d\nmax_age %s", dedupeMax, maxAge), upstream: up.URL}
	}
	config := func(maxAge string) string { return globalOptions(logOptions) + warned(maxAge).caddyfile() }
	countWarnings := func() int {
		t.Helper()
		raw, err := os.ReadFile(logFile)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return strings.Count(string(raw), "no app_id allowlist")
	}
	startSites(t, "warn-once-secret", logOptions, warned("5m"))
	if n := countWarnings(); n != 1 {
		t.Fatalf("%d warnings after the first load, want 1", n)
	}
	postLoad(t, config("5m"), true)
	postLoad(t, config("5m"), true)
	if n := countWarnings(); n != 1 {
		t.Fatalf("%d warnings after two reloads of the same config, want 1", n)
	}
	postLoad(t, config("4m"), false)
	if n := countWarnings(); n != 2 {
		t.Fatalf("%d warnings after a reload with other settings, want 2", n)
	}
	if raw, _ := os.ReadFile(logFile); strings.Contains(string(raw), "warn-once-secret") {
		t.Fatal("the log shows the secret")
	}
}

// TestLiteralSecretsAreNamed: a secret written in the config, or put there
// by the Caddyfile's {$VAR}, gets a WARN naming each such option (never
// its value); secrets named with {env.*} do not.
func TestLiteralSecretsAreNamed(t *testing.T) {
	up := newUpstream(t)
	logFile := filepath.Join(t.TempDir(), "warnings.log")
	t.Setenv("ZEGO_DOLLAR_SECRET", "dollar-secret-value")
	const appSecret = "app-literal-secret-value"
	// sign_upstream's secrets: one literal (the Standard Webhooks spec's
	// example key), one from a file ending in a newline, as an editor
	// writes it: it must resolve, and draws no warning.
	const upstreamLiteral = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	upstreamFile := filepath.Join(t.TempDir(), "upstream-secret")
	if err := os.WriteFile(upstreamFile, []byte("whsec_dGVzdC1zZWNyZXQtZnJvbS1hLWZpbGUtLS0t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tester := startSites(t, "env-secret-value", fmt.Sprintf(`log zego_warnings {
		output file %s
		include http.handlers.zego_callback
		level WARN
		format json
	}`, logFile), site{
		secret: "{$ZEGO_DOLLAR_SECRET}",
		// Settings no other test uses: warnings are remembered per process.
		options: fmt.Sprintf("secret {env.ZEGO_TEST_SECRET}\napp_id 1234567890 111\napp 111 {\n\tsecret %s\n}\nsign_upstream %s {file.%s}\ndedupe_max %d",
			appSecret, upstreamLiteral, upstreamFile, 200_000+time.Now().UnixNano()%1_000_000),
		upstream: up.URL,
	})
	// The file's key signs too: the backend gets one signature per key,
	// the second one computed here from the spec's definition.
	resp, _ := doRetrying(t, tester.Client, func() (*http.Request, error) {
		return http.NewRequest(http.MethodPost, fmt.Sprintf("http://localhost:%d/zego/compose", httpPort),
			strings.NewReader(signed{secret: "env-secret-value", taskID: newTaskID()}.body()))
	})
	if resp.StatusCode != http.StatusOK || len(up.received()) != 1 {
		t.Fatalf("callback: %d, %d forwarded", resp.StatusCode, len(up.received()))
	}
	got := up.received()[0]
	key, _ := base64.StdEncoding.DecodeString("dGVzdC1zZWNyZXQtZnJvbS1hLWZpbGUtLS0t")
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", got.header.Get("Webhook-Id"), got.header.Get("Webhook-Timestamp"), got.body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if signatures := strings.Fields(got.header.Get("Webhook-Signature")); len(signatures) != 2 || signatures[1] != want {
		t.Errorf("webhook-signature %q, want two with the file's key's %s second", got.header.Get("Webhook-Signature"), want)
	}
	var warning map[string]any
	for _, line := range readLogLines(t, logFile) {
		if strings.HasPrefix(line["msg"].(string), "a secret is written in the config itself") {
			warning = line
		}
	}
	if warning == nil {
		t.Fatal("no WARN for secrets written in the config")
	}
	if got := fmt.Sprint(warning["options"]); got != "[secret #1 app 111 secret #1 sign_upstream #1]" {
		t.Errorf("the WARN names %s, want [secret #1 app 111 secret #1 sign_upstream #1]", got)
	}
	raw, _ := os.ReadFile(logFile)
	for _, secret := range []string{"dollar-secret-value", appSecret, "env-secret-value", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "dGVzdC1zZWNyZXQtZnJvbS1hLWZpbGUtLS0t"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the log shows a secret: %s", raw)
		}
	}
}
