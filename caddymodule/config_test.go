package caddymodule

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// validateCaddyfile does what `caddy validate --adapter caddyfile` does with
// a site whose route holds directive: adapt, then load without starting.
// A directive without a deliver block is given one that answers 200.
func validateCaddyfile(t *testing.T, directive string) error {
	t.Helper()
	if !strings.Contains(directive, "deliver {") {
		if strings.HasSuffix(directive, "}") {
			directive = directive[:len(directive)-1] + "deliver {\nrespond 200\n}\n}"
		} else {
			directive += " {\ndeliver {\nrespond 200\n}\n}"
		}
	}
	site := "http://127.0.0.1:1 {\n\troute {\n\t\t" + directive + "\n\t}\n}\n"
	adapted, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(site), nil)
	if err != nil {
		return err
	}
	return validateConfig(t, adapted)
}

// validateHandlerJSON loads a JSON config whose only route is handler. A
// handler without "deliver" is given one that answers 200.
func validateHandlerJSON(t *testing.T, handler string) error {
	t.Helper()
	if !strings.Contains(handler, `"deliver"`) {
		handler = handler[:len(handler)-1] + `,"deliver":{"routes":[{"handle":[{"handler":"static_response"}]}]}}`
	}
	config := `{"apps":{"http":{"servers":{"srv0":{"listen":["127.0.0.1:1"],"routes":[{"handle":[` + handler + `]}]}}}}}`
	return validateConfig(t, []byte(config))
}

func validateConfig(t *testing.T, config []byte) error {
	t.Helper()
	var cfg caddy.Config
	if err := json.Unmarshal(config, &cfg); err != nil {
		t.Fatalf("not a Caddy config: %v\n%s", err, config)
	}
	return caddy.Validate(&cfg)
}

// TestCaddyfileErrorsNeverQuoteSecrets puts a secret where people put one
// by mistake; each config must fail, and no error — from the parser alone,
// or from caddy adapt and caddy validate — may contain the secret's text.
func TestCaddyfileErrorsNeverQuoteSecrets(t *testing.T) {
	const secret = "Zs3cr3t-V4lue-9f"
	cases := []struct{ name, directive string }{
		{"secret alone on a line", "zego_callback {env.ZEGO_CALLBACK_SECRET} {\n" + secret + "\n}"},
		{"secret alone on a line, quoted with a space", "zego_callback {env.ZEGO_CALLBACK_SECRET} {\n\"" + secret + " x\"\n}"},
		{"secret after an option on its line", "zego_callback {\n" + secret + " app_id 1\n}"},
		{"secret on the app line", "zego_callback {\napp 1234567890 " + secret + "\n}"},
		{"secret on the app line, before a block", "zego_callback {\napp 1234567890 " + secret + " {\nsecret {env.X}\n}\n}"},
		{"secret in place of the AppID", "zego_callback {\napp " + secret + " {\nsecret {env.X}\n}\n}"},
		{"bare secret in an app block", "zego_callback {\napp 1234567890 {\n" + secret + "\n}\n}"},
		{"two values on a secret line", "zego_callback {\nsecret {env.X} " + secret + "\n}"},
		{"two values on an app's secret line", "zego_callback {\napp 1 {\nsecret {env.X} " + secret + "\n}\n}"},
		{"two secrets on the directive line", "zego_callback " + secret + " " + secret + "x"},
		{"secret in app_id", "zego_callback {env.X} {\napp_id 1 " + secret + "\n}"},
		{"secret in events", "zego_callback {env.X} {\nevents compose " + secret + "\n}"},
		{"secret in max_age", "zego_callback {env.X} {\nmax_age " + secret + "\n}"},
		{"secret after max_age", "zego_callback {env.X} {\nmax_age 5m " + secret + "\n}"},
		{"secret in max_body", "zego_callback {env.X} {\nmax_body " + secret + "\n}"},
		{"secret in dedupe", "zego_callback {env.X} {\ndedupe " + secret + "\n}"},
		{"secret in dedupe_store", "zego_callback {env.X} {\ndedupe_store " + secret + "\n}"},
		{"secret in dedupe_max", "zego_callback {env.X} {\ndedupe_max " + secret + "\n}"},
		{"secret as sign_upstream's, not in whsec_ form", "zego_callback {env.X} {\nsign_upstream " + secret + "\n}"},
		{"secret as a repeated option's value", "zego_callback {env.X} {\nmax_age 1m\nmax_age " + secret + "\n}"},
		{"top-level secret beside app blocks", "zego_callback " + secret + " {\napp 1 {\nsecret {env.X}\n}\n}"},
	}
	t.Setenv("X", "some-other-secret")
	t.Setenv("ZEGO_CALLBACK_SECRET", "some-other-secret")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var errs []error
			var h Handler
			if err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.directive)); err != nil {
				errs = append(errs, err)
			}
			err := validateCaddyfile(t, tc.directive)
			if err == nil {
				t.Fatal("caddy validate accepted the config")
			}
			errs = append(errs, err)
			for _, err := range errs {
				if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), secret[:8]) {
					t.Fatalf("the error shows the secret: %v", err)
				}
			}
		})
	}
}

// TestConfigErrorsNameTheOption: each mistake is reported by its Caddyfile
// option (and JSON name where they differ) with what a valid value looks
// like, never by a Go field or a parser's internals.
func TestConfigErrorsNameTheOption(t *testing.T) {
	t.Setenv("ZEGO_TEST_CONFIG_SECRET", "config-test-secret")
	const secret = `"secrets":["{env.ZEGO_TEST_CONFIG_SECRET}"]`
	cases := []struct {
		name, caddyfile, json string
		wantErr               []string
	}{
		{name: "max_body not a size", caddyfile: "zego_callback {env.ZEGO_TEST_CONFIG_SECRET} {\nmax_body lots\n}",
			wantErr: []string{"max_body must be a size, such as 65536, 64KiB (65,536 bytes) or 64KB (64,000)", "Caddyfile:4"}},
		{name: "max_body over 1MiB", caddyfile: "zego_callback {env.ZEGO_TEST_CONFIG_SECRET} {\nmax_body 2MiB\n}",
			wantErr: []string{"max_body must be from 1 to 1048576 bytes (1MiB), not 2097152"}},
		{name: "deliver_timeout in JSON as seconds", json: `{"handler":"zego_callback",` + secret + `,"deliver_timeout":10}`,
			wantErr: []string{`deliver_timeout must be at least 100ms, such as 10s, not 10ns: in JSON a duration is in nanoseconds (10000000000) or a string such as "10s"`}},
		{name: "no deliver in JSON", json: `{"handler":"zego_callback",` + secret + `,"deliver":null}`,
			wantErr: []string{`zego_callback needs a deliver block`, `(JSON: "deliver": {"routes": [...]})`}},
		{name: "a deliver with no routes in JSON", json: `{"handler":"zego_callback",` + secret + `,"deliver":{"routes":[]}}`,
			wantErr: []string{`zego_callback needs a deliver block`}},
		{name: "the old form: reverse_proxy after zego_callback", caddyfile: "zego_callback {env.ZEGO_TEST_CONFIG_SECRET} {\ndeliver {\n}\n}\nreverse_proxy 127.0.0.1:9",
			wantErr: []string{`zego_callback needs a deliver block`, "move it into deliver"}},
		{name: "max_age in JSON as a bare number of seconds", json: `{"handler":"zego_callback",` + secret + `,"max_age":300}`,
			wantErr: []string{`max_age must be at least 1s, not 300ns: in JSON a duration is in nanoseconds (300000000000) or a string such as "5m"`}},
		{name: "max_body in JSON over 1MiB", json: `{"handler":"zego_callback",` + secret + `,"max_body":2097152}`,
			wantErr: []string{"max_body must be from 1 to 1048576 bytes (1MiB), not 2097152: e.g. 64KiB in a Caddyfile, 65536 in JSON"}},
		{name: "dedupe in JSON as seconds", json: `{"handler":"zego_callback",` + secret + `,"dedupe":600}`,
			wantErr: []string{`dedupe must be off or at least 1s, not 600ns: in JSON "dedupe" is in nanoseconds or a string such as "10m"`}},
		{name: "an app block outside app_id", caddyfile: "zego_callback {\napp_id 1\napp 3 {\nsecret {env.ZEGO_TEST_CONFIG_SECRET}\n}\n}",
			wantErr: []string{"app 3 has an app block but is not in app_id (JSON: app_ids): add it to app_id, or remove its block"}},
		{name: "an app outside app_ids in JSON", json: `{"handler":"zego_callback","app_ids":[1],"apps":[{"app_id":3,"secrets":["{env.ZEGO_TEST_CONFIG_SECRET}"]}]}`,
			wantErr: []string{"app 3 has an app block but is not in app_id (JSON: app_ids)"}},
		{name: "an allowed app without a secret", json: `{"handler":"zego_callback","app_ids":[1,2],"apps":[{"app_id":1,"secrets":["{env.ZEGO_TEST_CONFIG_SECRET}"]}]}`,
			wantErr: []string{"app 2 is in app_id but has no secret: add an app 2 { secret <secret> } block, or a top-level secret (JSON: apps, or secrets)"}},
		{name: "an app twice", json: `{"handler":"zego_callback","apps":[{"app_id":1,"secrets":["a"]},{"app_id":1,"secrets":["b"]}]}`,
			wantErr: []string{"app 1 is configured twice: give it one app block with all its secrets (JSON: one entry in apps)"}},
		{name: "a bad event name", json: `{"handler":"zego_callback",` + secret + `,"events":["compose","room close"]}`,
			wantErr: []string{"events: entry 2 of 2 is not a supported rtc event; use all, or some of compose, room_create"}},
		{name: "mini_game, which no one can verify", caddyfile: "zego_callback {env.ZEGO_TEST_CONFIG_SECRET} {\nproduct mini_game\nevents all\n}",
			wantErr: []string{"product mini_game is not supported: Mini-game's pages give three incompatible signature methods"}},
		{name: "an unknown product", json: `{"handler":"zego_callback",` + secret + `,"product":"chat"}`,
			wantErr: []string{"product must be one of rtc, zim, ai_agent, asr"}},
		{name: "zim without events", caddyfile: "zego_callback {env.ZEGO_TEST_CONFIG_SECRET} {\nproduct zim\n}",
			wantErr: []string{"product zim: list the events its route receives: events all, or some of user_action, room_create"}},
		{name: "an RTC event on a zim route", caddyfile: "zego_callback {env.ZEGO_TEST_CONFIG_SECRET} {\nproduct zim\nevents send_msg compose\n}",
			wantErr: []string{"events: entry 2 of 2 is not a supported zim event"}},
		{name: "sync_timeout past ZEGO's wait", caddyfile: "zego_callback {env.ZEGO_TEST_CONFIG_SECRET} {\nproduct zim\nevents all\nsync_timeout 3s\n}",
			wantErr: []string{"sync_timeout must be from 100ms to 2.5s (ZEGO waits 2.5 s for a synchronous callback's answer), not 3s"}},
		{name: "no secret", caddyfile: "zego_callback {\napp_id 1\n}",
			wantErr: []string{"at least one secret is required: zego_callback <secret>, a secret line, or app blocks"}},
		{name: "no secret in JSON", json: `{"handler":"zego_callback","app_ids":[1]}`,
			wantErr: []string{"at least one secret is required: zego_callback <secret>, a secret line, or app blocks (JSON: secrets, or apps)"}},
		{name: "a secret that resolves to nothing", json: `{"handler":"zego_callback","secrets":["{env.ZEGO_TEST_UNSET_SECRET}"]}`,
			wantErr: []string{"secret 1 of 1 is empty after resolving placeholders: is its environment variable set for the Caddy process"}},
		{name: "an unknown dedupe store", json: `{"handler":"zego_callback",` + secret + `,"dedupe_store":"redis"}`,
			wantErr: []string{"dedupe_store must be memory or storage (the value is not shown"}},
		{name: "a negative dedupe_max", json: `{"handler":"zego_callback",` + secret + `,"dedupe_max":-1}`,
			wantErr: []string{"dedupe_max must be a positive number of entries, such as 100000, not -1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.caddyfile != "" {
				err = validateCaddyfile(t, tc.caddyfile)
			} else {
				err = validateHandlerJSON(t, tc.json)
			}
			if err == nil {
				t.Fatal("the config was accepted")
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\nlacks %q", err, want)
				}
			}
			for _, goName := range []string{"MaxAge", "AppIDs", "strconv", "ParseFloat", "verify:"} {
				if strings.Contains(err.Error(), goName) {
					t.Errorf("error %q names Go internals (%s)", err, goName)
				}
			}
			if strings.Contains(err.Error(), "config-test-secret") {
				t.Errorf("error %q shows the secret", err)
			}
		})
	}

	// The fixed forms load.
	for _, handler := range []string{
		`{"handler":"zego_callback",` + secret + `,"max_age":"5m","dedupe":"10m"}`,
		`{"handler":"zego_callback",` + secret + `,"max_age":300000000000}`,
	} {
		if err := validateHandlerJSON(t, handler); err != nil {
			t.Errorf("%s: %v", handler, err)
		}
	}
}

// TestTopLevelSecretBesideAppBlocks: with app blocks and no app_id only the
// apps with blocks are allowed, so a top-level secret could never verify a
// callback; caddy validate says so, and listing the apps fixes it.
func TestTopLevelSecretBesideAppBlocks(t *testing.T) {
	t.Setenv("ZEGO_TEST_CONFIG_SECRET", "config-test-secret")
	const block = "app 1 {\nsecret {env.ZEGO_TEST_CONFIG_SECRET}\n}\n"
	const want = "the top-level secret can never be used: with app blocks and no app_id, only the apps with blocks are allowed"
	for name, directive := range map[string]string{
		"argument": "zego_callback {env.ZEGO_TEST_CONFIG_SECRET} {\n" + block + "}",
		"line":     "zego_callback {\nsecret {env.ZEGO_TEST_CONFIG_SECRET}\n" + block + "}",
	} {
		err := validateCaddyfile(t, directive)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "List every allowed app in app_id (JSON: app_ids)") {
			t.Errorf("top-level secret as %s: err = %v, want %q", name, err, want)
		}
	}
	err := validateHandlerJSON(t, `{"handler":"zego_callback","secrets":["{env.ZEGO_TEST_CONFIG_SECRET}"],"apps":[{"app_id":1,"secrets":["{env.ZEGO_TEST_CONFIG_SECRET}"]}]}`)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("JSON: err = %v, want %q", err, want)
	}
	for _, valid := range []string{
		"zego_callback {env.ZEGO_TEST_CONFIG_SECRET} {\napp_id 1 2\n" + block + "}", // app 2 uses the top-level secret
		"zego_callback {\n" + block + "}",                                           // no top-level secret
	} {
		if err := validateCaddyfile(t, valid); err != nil {
			t.Errorf("%q: %v", valid, err)
		}
	}
}

// TestSecretPlaceholdersUnknownAtLoad: the Caddyfile turns {file.NAME}
// without a '/' (and the {file.} left by an unset {$VAR}) into a request
// placeholder, which Caddy does not resolve at load. Kept, the secret
// would be that placeholder's public text, and anyone could sign with it:
// the load must fail, for ZEGO's secrets and sign_upstream's alike.
func TestSecretPlaceholdersUnknownAtLoad(t *testing.T) {
	t.Setenv("ZEGO_TEST_UNSET_FILE", "")
	for _, directive := range []string{
		"zego_callback {file.zego_secret} {\n\tdeliver {\n\t\trespond 200\n\t}\n}",
		"zego_callback {file.{$ZEGO_TEST_UNSET_FILE}} {\n\tdeliver {\n\t\trespond 200\n\t}\n}",
		"zego_callback {\n\tsecret {env.ZEGO_TEST_SECRET}\n\tsecret {http.request.header.X-Secret}\n}",
		"zego_callback {env.ZEGO_TEST_SECRET} {\n\tsign_upstream {file.upstream_secret}\n}",
	} {
		t.Setenv("ZEGO_TEST_SECRET", "secret")
		err := validateCaddyfile(t, directive)
		if err == nil || !strings.Contains(err.Error(), "holds a placeholder that Caddy cannot resolve when it loads the config") {
			t.Errorf("%q: %v", directive, err)
		}
	}
}
