package caddymodule

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddytest"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/zegoedge/caddy-zego-callback/verify/verifytest"
)

func TestUnmarshalCaddyfile(t *testing.T) {
	cases := []struct {
		name  string
		input string
		want  Handler
	}{
		{"inline secret", `zego_callback s3`, Handler{Secrets: []string{"s3"}}},
		{"placeholder secret", `zego_callback {env.ZEGO_CALLBACK_SECRET}`, Handler{Secrets: []string{"{env.ZEGO_CALLBACK_SECRET}"}}},
		{"every option", `zego_callback old {
			secret new
			app_id 1 2
			app_id 4294967295
			events compose
			events procedure
			max_age 90s
			max_body 8KiB
		}`, Handler{
			Secrets: []string{"old", "new"},
			AppIDs:  []uint32{1, 2, 4294967295},
			Events:  []string{"compose", "procedure"},
			MaxAge:  caddy.Duration(90 * time.Second),
			MaxBody: 8192,
		}},
		{"dedupe options", "zego_callback s {\ndedupe 2m\ndedupe_store storage\ndedupe_max 500\n}", Handler{
			Secrets: []string{"s"}, DedupeTTL: caddy.Duration(2 * time.Minute), DedupeStore: "storage", DedupeMax: 500,
		}},
		{"app blocks", "zego_callback {\napp 1 {\nsecret a\nsecret b\n}\napp 2 {\nsecret c\n}\n}", Handler{
			Apps: []AppSecrets{{AppID: 1, Secrets: []string{"a", "b"}}, {AppID: 2, Secrets: []string{"c"}}},
		}},
		{"dedupe off", "zego_callback s {\ndedupe off\n}", Handler{Secrets: []string{"s"}, DedupeDisabled: true}},
		{"KB is decimal", "zego_callback s {\nmax_body 8KB\n}", Handler{Secrets: []string{"s"}, MaxBody: 8000}},
		{"sign_upstream with rotation", "zego_callback s {\nsign_upstream {env.NEW} {env.OLD}\n}", Handler{Secrets: []string{"s"}, SignUpstream: []string{"{env.NEW}", "{env.OLD}"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got Handler
			if err := got.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input)); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestUnmarshalCaddyfileErrors(t *testing.T) {
	cases := []struct {
		name, input, wantErr string
	}{
		{"two inline args", `zego_callback OLD-SECRET NEW-SECRET`, "takes at most one argument, the secret"},
		{"secret without value", "zego_callback {\nsecret\n}", "secret needs one argument"},
		{"secret with two values", "zego_callback {\nsecret OLD-SECRET NEW-SECRET\n}", "secret takes exactly one argument"},
		{"app_id without value", "zego_callback s {\napp_id\n}", "app_id needs at least one AppID, e.g. app_id 1234567890"},
		{"app_id not numeric", "zego_callback s {\napp_id abc\n}", "app_id: value 1 on this line is not a ZEGO AppID, a whole number from 0 to 4294967295"},
		{"app_id negative", "zego_callback s {\napp_id -1\n}", "app_id: value 1 on this line is not a ZEGO AppID"},
		{"app_id over uint32", "zego_callback s {\napp_id 1 4294967296\n}", "app_id: value 2 on this line is not a ZEGO AppID"},
		{"events without value", "zego_callback s {\nevents\n}", "events needs at least one event name, e.g. events compose"},
		{"max_age without value", "zego_callback s {\nmax_age\n}", "max_age needs a value, e.g. max_age 5m"},
		{"max_age not a duration", "zego_callback s {\nmax_age soon\n}", "max_age must be a duration, such as 90s or 5m (the value is not shown"},
		{"max_age twice", "zego_callback s {\nmax_age 1m\nmax_age 2m\n}", "duplicate max_age option"},
		{"max_age two values", "zego_callback s {\nmax_age 1m 2m\n}", "max_age takes one value, e.g. max_age 5m"},
		{"max_body not a size", "zego_callback s {\nmax_body lots\n}", "max_body must be a size, such as 65536, 64KiB"},
		{"max_body twice", "zego_callback s {\nmax_body 1KiB\nmax_body 2KiB\n}", "duplicate max_body option"},
		{"dedupe without value", "zego_callback s {\ndedupe\n}", "dedupe needs a value, e.g. dedupe 10m"},
		{"dedupe not a duration", "zego_callback s {\ndedupe sometimes\n}", "dedupe must be a duration, such as 10m, or off"},
		{"dedupe twice", "zego_callback s {\ndedupe 1m\ndedupe off\n}", "duplicate dedupe option"},
		{"dedupe_max not a number", "zego_callback s {\ndedupe_max many\n}", "dedupe_max must be a whole number of entries"},
		{"sign_upstream without a secret", "zego_callback s {\nsign_upstream\n}", "sign_upstream needs at least one secret"},
		{"sign_upstream twice", "zego_callback s {\nsign_upstream {env.A}\nsign_upstream {env.B}\n}", "duplicate sign_upstream option"},
		{"deliver_timeout not a duration", "zego_callback s {\ndeliver_timeout soon\n}", "deliver_timeout must be a duration, such as 10s"},
		{"deliver_timeout twice", "zego_callback s {\ndeliver_timeout 1s\ndeliver_timeout 2s\n}", "duplicate deliver_timeout option"},
		{"deliver with an argument", "zego_callback s {\ndeliver backend:8000\n}", "deliver takes no argument; its handlers go in its block"},
		{"deliver twice", "zego_callback s {\ndeliver {\nrespond 200\n}\ndeliver {\nrespond 200\n}\n}", "duplicate deliver option"},
		{"app without id", "zego_callback {\napp {\nsecret a\n}\n}", "app needs an AppID and a block: app <app_id> { secret <secret> }"},
		{"app id not numeric", "zego_callback {\napp x {\nsecret a\n}\n}", "app: the AppID is not a whole number from 0 to 4294967295"},
		{"app without secret", "zego_callback {\napp 1 {\n}\n}", "app 1 has no secret"},
		{"app without block", "zego_callback {\napp 1\n}", "app 1 has no secret"},
		{"app secret without value", "zego_callback {\napp 1 {\nsecret\n}\n}", "secret needs one argument"},
		{"app secret with two values", "zego_callback {\napp 1 {\nsecret OLD-SECRET NEW-SECRET\n}\n}", "secret takes exactly one argument"},
		{"unknown option in app", "zego_callback {\napp 1 {\nkey a\n}\n}", "unrecognized subdirective in app 1 (not shown, as it could be a secret); the options are secret"},
		{"unknown subdirective", "zego_callback s {\nsecrets a\n}", "unrecognized subdirective (not shown, as it could be a secret); the options are secret, app, app_id, product, events, max_age, max_body, dedupe, dedupe_store, dedupe_max, keep_query, sign_upstream, deliver_timeout, sync_timeout, spool, deliver; did you mean secret?"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var h Handler
			err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Fatalf("error %q shows a secret", err)
			}
		})
	}
}

// TestProvisionAndValidateErrors covers what only JSON configs or the
// environment can get wrong. No message may contain a secret.
func TestProvisionAndValidateErrors(t *testing.T) {
	t.Setenv("ZEGO_TEST_EMPTY_SECRET", "")
	cases := []struct {
		name    string
		handler Handler
		wantErr string
	}{
		{"no secret", Handler{}, "at least one secret is required"},
		{"secret from an unset variable", Handler{Secrets: []string{"visible-secret", "{env.ZEGO_TEST_EMPTY_SECRET}"}}, "secret 2 of 2 is empty"},
		{"negative max_age", Handler{Secrets: []string{"visible-secret"}, MaxAge: caddy.Duration(-time.Minute)}, `max_age must be at least 1s, not -1m0s: in JSON a duration is in nanoseconds (300000000000) or a string such as "5m"`},
		{"max_body over the limit", Handler{Secrets: []string{"visible-secret"}, MaxBody: 2 << 20}, "max_body must be from 1 to 1048576 bytes (1MiB), not 2097152: e.g. 64KiB in a Caddyfile, 65536 in JSON"},
		{"app twice", Handler{Apps: []AppSecrets{{AppID: 1, Secrets: []string{"visible-secret"}}, {AppID: 1, Secrets: []string{"visible-secret"}}}}, "app 1 is configured twice"},
		{"app without secrets", Handler{Apps: []AppSecrets{{AppID: 1}}}, "app 1 has no secret"},
		{"app secret from an unset variable", Handler{Apps: []AppSecrets{{AppID: 7, Secrets: []string{"{env.ZEGO_TEST_EMPTY_SECRET}"}}}}, "app 7: secret 1 of 1 is empty"},
		{"allowed app with no secret", Handler{AppIDs: []uint32{1, 2}, Apps: []AppSecrets{{AppID: 1, Secrets: []string{"visible-secret"}}}}, "app 2 is in app_id but has no secret: add an app 2 { secret <secret> } block, or a top-level secret"},
		{"app block outside app_id", Handler{Secrets: []string{"visible-secret"}, AppIDs: []uint32{1}, Apps: []AppSecrets{{AppID: 3, Secrets: []string{"visible-secret"}}}}, "app 3 has an app block but is not in app_id (JSON: app_ids)"},
		{"dedupe TTL under a second", Handler{Secrets: []string{"visible-secret"}, DedupeTTL: caddy.Duration(-time.Second), DedupeStore: "storage"}, `dedupe must be off or at least 1s, not -1s: in JSON "dedupe" is in nanoseconds or a string such as "10m"`},
		{"negative dedupe_max", Handler{Secrets: []string{"visible-secret"}, DedupeMax: -1}, "dedupe_max must be a positive number of entries, such as 100000, not -1"},
		{"unknown dedupe store", Handler{Secrets: []string{"visible-secret"}, DedupeStore: "redis"}, "dedupe_store must be memory or storage (the value is not shown"},
		{"bad event name", Handler{Secrets: []string{"visible-secret"}, Events: []string{"com pose"}}, "events: entry 1 of 1 is not a supported rtc event; use all, or some of compose, room_create"},
		{"zero max_age in JSON", Handler{Secrets: []string{"visible-secret"}, MaxAge: caddy.Duration(time.Millisecond)}, "max_age must be at least 1s, not 1ms"},
		{"negative deliver_timeout", Handler{Secrets: []string{"visible-secret"}, DeliverTimeout: caddy.Duration(-time.Second)}, "deliver_timeout must be at least 100ms, such as 10s, not -1s"},
		{"no deliver", Handler{Secrets: []string{"visible-secret"}}, "zego_callback needs a deliver block that says where verified callbacks go"},
		{"dedupe that would overflow", Handler{Secrets: []string{"visible-secret"}, DedupeTTL: caddy.Duration(2500000 * time.Hour)}, "dedupe must be at most 87600h0m0s, not 2500000h0m0s"},
		{"empty deliver", Handler{Secrets: []string{"visible-secret"}, Deliver: &caddyhttp.Subroute{}}, "is no longer used: move it into deliver"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
			defer cancel()
			h := tc.handler
			err := h.Provision(ctx)
			if err == nil {
				err = h.Validate()
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "visible-secret") {
				t.Fatalf("error %q shows a secret", err)
			}
		})
	}
}

func TestProvisionResolvesPlaceholders(t *testing.T) {
	t.Setenv("ZEGO_TEST_SECRET", "secret")
	v := verifytest.Load(t)
	h := &Handler{Secrets: []string{"{env.ZEGO_TEST_SECRET}"}, Deliver: testDeliver(), now: func() time.Time { return time.Unix(1470820198, 0) }}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	if err := h.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if h.MaxAge != caddy.Duration(DefaultMaxAge) || h.MaxBody != DefaultMaxBody || !reflect.DeepEqual(h.Events, []string{"compose"}) {
		t.Fatalf("defaults not set: %+v", h)
	}
	// ZEGO's worked example only verifies if the placeholder became "secret".
	sv := v.Signatures[0]
	body := `{"appid":"1","event":"compose","replay_url":"https://example.com/a.mp4","task_id":"t","code":"0","timestamp":"` + sv.Timestamp + `","nonce":"` + sv.Nonce + `","signature":"` + sv.Signature + `"}`
	if _, err := h.verifier.Verify([]byte(body)); err != nil {
		t.Fatalf("placeholder secret not resolved: %v", err)
	}
}

// TestAdapt pins what a Caddyfile becomes: the JSON field names, and the
// deliver block as a subroute of the handler, whose reverse_proxy is no
// handler of the site's route.
func TestAdapt(t *testing.T) {
	caddytest.AssertAdapt(t, `
:8080 {
	zego_callback {env.ZEGO_CALLBACK_SECRET} {
		secret next-secret
		app_id 1 2
		events compose
		max_age 90s
		max_body 8KiB
		deliver_timeout 5s
		spool {
			concurrency 8
		}
		deliver {
			reverse_proxy 127.0.0.1:9
		}
	}
}`, "caddyfile", `{
	"apps": {
		"http": {
			"servers": {
				"srv0": {
					"listen": [
						":8080"
					],
					"routes": [
						{
							"handle": [
								{
									"app_ids": [
										1,
										2
									],
									"deliver": {
										"routes": [
											{
												"handle": [
													{
														"handler": "reverse_proxy",
														"upstreams": [
															{
																"dial": "127.0.0.1:9"
															}
														]
													}
												]
											}
										]
									},
									"deliver_timeout": 5000000000,
									"events": [
										"compose"
									],
									"handler": "zego_callback",
									"max_age": 90000000000,
									"max_body": 8192,
									"secrets": [
										"{env.ZEGO_CALLBACK_SECRET}",
										"next-secret"
									],
									"spool": {
										"concurrency": 8
									}
								}
							]
						}
					]
				}
			}
		}
	}
}`)
}
