package verify_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zegoedge/caddy-zego-callback/verify"
	"github.com/zegoedge/caddy-zego-callback/verify/verifytest"
)

// TestEventVectors: every event's example, in every shape ZEGO sends,
// verifies (signature from sha1sum), gives the hand-written document byte
// for byte, and the IdempotencyID computed with sha256sum.
func TestEventVectors(t *testing.T) {
	v := verifytest.LoadEvents(t)
	covered := map[string]int{}
	for _, tc := range v.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			verifier, err := verify.New(verify.Options{
				Secrets: []string{v.Secret},
				Events:  verify.Events(verify.DefaultProduct),
				MaxAge:  v.MaxAge(),
				Now:     tc.NowTime,
			})
			if err != nil {
				t.Fatal(err)
			}
			c, err := verifier.Verify([]byte(tc.Body))
			checkOutcome(t, c, err, tc.Expect.Reason, tc.Expect.Normalized)
			if id := c.IdempotencyID(); hex.EncodeToString(id[:]) != tc.Expect.IdempotencyKey {
				t.Errorf("IdempotencyID = %x, want %s (%s)", id, tc.Expect.IdempotencyKey, tc.Expect.IdempotencyKeyCommand)
			}
			if c.Event != tc.Event {
				t.Errorf("Event = %q", c.Event)
			}
			covered[tc.Event]++
		})
	}
	for _, event := range roomAndStreamEvents[1:] {
		if covered[event] != 4 {
			t.Errorf("%s: %d shapes in the vectors, want 4", event, covered[event])
		}
	}
}

// roomAndStreamEvents are the RTC events of the shared vectors (events.json);
// RTC's service events have theirs in products.json.
var roomAndStreamEvents = []string{"compose", "room_create", "room_close", "room_login", "room_logout", "stream_create", "stream_close", "record", "mix_start", "mix_stop"}

func TestSupportedEventsAndOptions(t *testing.T) {
	want := slices.Concat(roomAndStreamEvents, []string{"procedure", "snapshot", "transcode_start", "transcode_stop",
		"censor_audio_v2_result", "censor_audio_v2_status", "censor_video_v2_audio_result", "censor_video_v2_img_result",
		"censor_video_v2_audio_status", "censor_video_v2_img_status"})
	if got := verify.Events(verify.DefaultProduct); !slices.Equal(got, want) {
		t.Fatalf("SupportedEvents = %v", got)
	}
	for _, event := range want {
		fields, ok := verify.ExampleFields(verify.DefaultProduct, event)
		if !ok || len(fields) == 0 {
			t.Errorf("ExampleFields(%s) = %v, %v", event, fields, ok)
		}
		meaning, url, ok := verify.EventDoc(verify.DefaultProduct, event)
		if !ok || meaning == "" || !strings.HasPrefix(url, "https://") {
			t.Errorf("EventDoc(%s) = %q, %q, %v", event, meaning, url, ok)
		}
	}
	// token_auth_error was never public (ZEGO-FAMILIES §3.7).
	if _, ok := verify.ExampleFields(verify.DefaultProduct, "token_auth_error"); ok {
		t.Error("ExampleFields knows an unsupported event")
	}
	_, err := verify.New(verify.Options{Secrets: []string{"s"}, MaxAge: time.Minute, Events: []string{"compose", "token_auth_error"}})
	if err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("an unsupported event in Events: %v", err)
	}
}

// TestExampleFieldsVerify: the CLI's example body of each event, signed,
// passes that event's rules.
func TestExampleFieldsVerify(t *testing.T) {
	const ts, nonce = "1499676978", "350176"
	for _, event := range verify.Events(verify.DefaultProduct) {
		t.Run(event, func(t *testing.T) {
			fields, _ := verify.ExampleFields(verify.DefaultProduct, event)
			e, _ := verify.EventEnvelope(verify.DefaultProduct, event)
			body := `{"` + e.AppID + `":"1","` + e.Event + `":"` + event + `","` + e.Timestamp + `":"` + ts + `","` + e.Nonce + `":"` + nonce + `","` + e.Signature + `":"` + verify.Sign("secret", ts, nonce) + `"`
			for _, f := range fields {
				value, _ := json.Marshal(f.Value)
				body += `,"` + f.Name + `":` + string(value)
			}
			body += "}"
			v, err := verify.New(verify.Options{Secrets: []string{"secret"}, Events: []string{event}, MaxAge: time.Minute,
				Now: func() time.Time { return time.Unix(1499676978, 0) }})
			if err != nil {
				t.Fatal(err)
			}
			c, err := v.Verify([]byte(body))
			if err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			if !json.Valid(c.AppendJSON(nil)) {
				t.Fatal("invalid document")
			}
		})
	}
}

// eventBody builds a body of an event from ZEGO-style pairs; each value is
// a JSON literal.
func eventBody(event string, pairs ...string) string {
	fields := []string{`"appid":"1"`, `"event":"` + event + `"`, `"timestamp":"1499676978"`, `"nonce":"350176"`, `"signature":"` + zegoExampleSignature + `"`}
	for i := 0; i+1 < len(pairs); i += 2 {
		fields = append(fields, `"`+pairs[i]+`":`+pairs[i+1])
	}
	return "{" + strings.Join(fields, ",") + "}"
}

func logout(pairs ...string) string {
	base := []string{"room_id", `"r1"`, "room_seq", `"6085791336856668982"`, "user_account", `"u1"`, "session_id", `"s1"`, "logout_time", `"1499676978027"`, "reason", `"1"`}
	return eventBody("room_logout", override(base, pairs)...)
}

func streamClose(pairs ...string) string {
	base := []string{"stream_sid", `"s-1"`, "type", `"0"`, "stream_id", `"st1"`, "room_id", `"r1"`, "stream_seq", `"7"`}
	return eventBody("stream_close", override(base, pairs)...)
}

// override replaces or appends name/value pairs; a value of "" removes the
// field.
func override(base, pairs []string) []string {
	out := slices.Clone(base)
	for i := 0; i+1 < len(pairs); i += 2 {
		found := false
		for j := 0; j+1 < len(out); j += 2 {
			if out[j] == pairs[i] {
				out[j+1], found = pairs[i+1], true
			}
		}
		if !found {
			out = append(out, pairs[i], pairs[i+1])
		}
	}
	for j := 0; j+1 < len(out); {
		if out[j+1] == "" {
			out = slices.Delete(out, j, j+2)
			continue
		}
		j += 2
	}
	return out
}

func TestEventFieldRules(t *testing.T) {
	cases := []struct {
		name string
		body string
		want error
	}{
		{"logout as sent", logout(), nil},
		{"missing room_seq", logout("room_seq", ""), verify.ErrMissingField},
		{"null session_id", logout("session_id", "null"), verify.ErrMissingField},
		{"empty required session_id", logout("session_id", `""`), verify.ErrInvalidField},
		{"missing timestamp", strings.Replace(logout(), `"timestamp":"1499676978",`, "", 1), verify.ErrMissingField},
		{"reason as a JSON number", logout("reason", "3"), nil},
		{"reason with a fraction", logout("reason", "3.0"), verify.ErrInvalidField},
		{"reason negative", logout("reason", "-1"), verify.ErrInvalidField},
		{"reason beyond uint32", logout("reason", `"4294967296"`), verify.ErrInvalidField},
		{"reason undocumented but in range", logout("reason", `"9"`), nil},
		{"reason as text", logout("reason", `"kicked"`), verify.ErrInvalidField},
		{"reason as a bool", logout("reason", "true"), verify.ErrInvalidField},
		{"logout_time as a number", logout("logout_time", "1499676978027"), nil},
		{"logout_time beyond 2^53", logout("logout_time", "9007199254740992"), verify.ErrInvalidField},
		{"room_seq beyond 2^53 as a number", logout("room_seq", "9007199254740993"), nil},
		{"room_seq beyond uint64", logout("room_seq", `"18446744073709551616"`), verify.ErrInvalidField},
		{"room_seq with a sign", logout("room_seq", `"-1"`), verify.ErrInvalidField},
		{"user_account as a number", logout("user_account", "888120154"), nil},
		{"user_account as an object", logout("user_account", `{"id":1}`), verify.ErrInvalidField},
		{"user_account with a control character", logout("user_account", `"u\u0001"`), verify.ErrInvalidField},
		{"user_account of 257 bytes", logout("user_account", `"`+strings.Repeat("u", 257)+`"`), verify.ErrInvalidField},
		{"nickname with a newline is text", logout("user_nickname", `"a\nb"`), nil},
		{"duplicate event field", logout("x", "1") + "", nil},
		{"duplicate event field given twice", strings.TrimSuffix(logout(), "}") + `,"room_seq":"1"}`, verify.ErrDuplicateField},
		{"stream_close as sent", streamClose(), nil},
		{"stream_close without type", streamClose("type", ""), verify.ErrMissingField},
		{"stream_close type 100", streamClose("type", "100"), nil},
		{"stream_close without stream_sid", streamClose("stream_sid", ""), verify.ErrMissingField},
		{"stream_create with a string list", eventBody("stream_create", "stream_sid", `"s"`, "rtmp_url", `"rtmp://a/b"`), nil},
		{"stream_create with a list of numbers", eventBody("stream_create", "stream_sid", `"s"`, "rtmp_url", `[1]`), verify.ErrInvalidField},
		{"stream_create with a nested list", eventBody("stream_create", "stream_sid", `"s"`, "hls_url", `[["a"]]`), verify.ErrInvalidField},
		{"stream_create with 33 urls", eventBody("stream_create", "stream_sid", `"s"`, "pic_url", `[`+strings.Repeat(`"a",`, 32)+`"a"]`), verify.ErrInvalidField},
		{"stream_create with a list in a string", eventBody("stream_create", "stream_sid", `"s"`, "pic_url", `"[\"https://a/b.jpg\"]"`), nil},
		{"stream_create with a broken list in a string", eventBody("stream_create", "stream_sid", `"s"`, "pic_url", `"[\"a\""`), verify.ErrInvalidField},
		{"stream_attr as an object", eventBody("stream_create", "stream_sid", `"s"`, "stream_attr", `{"cid":0}`), nil},
		{"record with a placeholder replay_url", eventBody("record", "stream_alias", `"a"`, "replay_url", `"replay_url"`), verify.ErrInvalidField},
		{"record without replay_url", eventBody("record", "stream_alias", `"a"`), verify.ErrMissingField},
		{"mix_start with a task_id holding a space", eventBody("mix_start", "seq", "1", "task_id", `"a b"`), verify.ErrInvalidField},
		{"mix_start with seq as a number", eventBody("mix_start", "seq", "1", "task_id", `"t"`), nil},
		{"mix_stop without seq", eventBody("mix_stop", "task_id", `"t"`), verify.ErrMissingField},
		{"room_create without room_session_id", eventBody("room_create", "room_id", `"r"`), verify.ErrMissingField},
		{"room_create with room_session_id as a fraction", eventBody("room_create", "room_id", `"r"`, "room_session_id", "8.5e17"), verify.ErrInvalidField},
		{"room_close with an undocumented reason", eventBody("room_close", "room_id", `"r"`, "room_session_id", "1", "close_reason", "7"), nil},
		{"ZIM's room_create is not RTC's", eventBody("room_create", "room_id", `"1"`, "operator_account", `"userA"`, "room_name", `"n"`), verify.ErrWrongProduct},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verify.Parse([]byte(tc.body))
			if tc.want == nil && err != nil || !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v\nbody: %s", err, tc.want, tc.body)
			}
		})
	}
}

// TestEventNormalized pins details the vectors leave open: absent fields,
// unknown enumeration values, identifiers beyond 2^53 sent as numbers,
// compose's fields under extra, and URL-decoded list elements.
func TestEventNormalized(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{
			"logout: undocumented reason, big room_seq as a number, compose's fields first in extra",
			`{"appid":1,"event":"room_logout","x":1,"code":"7","timestamp":1499676978,"nonce":"350176","signature":"s","room_id":"r1","room_seq":9007199254740993,"user_account":"u1","session_id":"s1","reason":9,"task_id":null,"y":"%41"}`,
			`{"event":"room_logout","app_id":1,"timestamp":1499676978,"sent_at":"2017-07-10T08:56:18Z","nonce":"350176","room_id":"r1","room_seq":"9007199254740993","user_account":"u1","user_nickname":"","session_id":"s1","login_time":null,"logout_time":null,"reason":9,"reason_name":"unknown","user_role":null,"user_role_name":null,"user_update_seq":"","extra":{"task_id":null,"code":"7","x":1,"y":"A"}}`,
		},
		{
			"mix_start: list elements URL-decoded like top-level values, a bare string is a list of one",
			`{"appid":"1","event":"mix_start","seq":"0012","task_id":"t%2D1","rtmp_urls":["rtmp%3A%2F%2Fa%2Fb"],"hls_urls":"https://a/b.m3u8","hdl_urls":"","timestamp":"1499676978","nonce":"1","signature":"s"}`,
			`{"event":"mix_start","app_id":1,"timestamp":1499676978,"sent_at":"2017-07-10T08:56:18Z","nonce":"1","seq":"0012","task_id":"t-1","channel_id":"","publish_id":"","mix_url":"","mix_stream_alias":"","rtmp_urls":["rtmp://a/b"],"hls_urls":["https://a/b.m3u8"],"hdl_urls":[],"stream_alias":"","extra":{}}`,
		},
		{
			"record: extra_params as an object is forwarded as its JSON text",
			`{"appid":"1","event":"record","stream_alias":"a","replay_url":"https://a/b.mp4","extra_params":{"Duration":1.5},"timestamp":"1499676978000","nonce":"1","signature":"s"}`,
			`{"event":"record","app_id":1,"timestamp":1499676978,"sent_at":"2017-07-10T08:56:18Z","nonce":"1","stream_alias":"a","replay_url":"https://a/b.mp4","begin_time":null,"end_time":null,"extra_params":"{\"Duration\":1.5}","extra":{}}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := verify.Parse([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if got := string(c.AppendJSON(nil)); got != tc.want {
				t.Fatalf("normalized\n got: %s\nwant: %s", got, tc.want)
			}
			if !json.Valid([]byte(tc.want)) {
				t.Fatal("expected document is not valid JSON")
			}
		})
	}
}

func TestEventIdentityFields(t *testing.T) {
	c, err := verify.Parse([]byte(streamClose("room_id", "", "channel_id", `"ch1"`, "stream_id", "", "stream_alias", `"al1"`)))
	if err != nil {
		t.Fatal(err)
	}
	if c.RoomID() != "ch1" || c.StreamID() != "al1" || c.TaskID != "" || c.Code != 0 {
		t.Errorf("RoomID %q, StreamID %q, TaskID %q, Code %d", c.RoomID(), c.StreamID(), c.TaskID, c.Code)
	}
	if v, ok := c.Field("type"); !ok || v != "0" {
		t.Errorf("Field(type) = %q, %v", v, ok)
	}
	if _, ok := c.Field("publish_id"); ok {
		t.Error("an absent field is reported present")
	}
	mix, err := verify.Parse([]byte(eventBody("mix_start", "seq", "1", "task_id", `"t1"`, "channel_id", `"r"`, "mix_stream_alias", `"m"`, "rtmp_urls", `["a"]`)))
	if err != nil {
		t.Fatal(err)
	}
	if mix.TaskID != "t1" || mix.RoomID() != "r" || mix.StreamID() != "m" {
		t.Errorf("mix: %q %q %q", mix.TaskID, mix.RoomID(), mix.StreamID())
	}
	if v, _ := mix.Field("rtmp_urls"); v != `["a"]` {
		t.Errorf("Field(rtmp_urls) = %s", v)
	}
}

// TestEventDedupeKeys: a retry (new timestamp, nonce, signature) keeps the
// key; another occurrence changes it.
func TestEventDedupeKeys(t *testing.T) {
	id := func(body string) [16]byte {
		t.Helper()
		c, err := verify.Parse([]byte(body))
		if err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		return c.IdempotencyID()
	}
	retry := func(body string) string {
		return strings.NewReplacer(`"timestamp":"1499676978"`, `"timestamp":"1499677010"`, `"nonce":"350176"`, `"nonce":"99"`,
			zegoExampleSignature, "0123456789abcdef0123456789abcdef01234567").Replace(body)
	}
	same := []struct{ name, a, b string }{
		{"logout retry", logout(), retry(logout())},
		{"stream_close retry", streamClose(), retry(streamClose())},
		{"descriptive fields do not count", logout("user_nickname", `"a"`), logout("user_nickname", `"b"`)},
		{"a number and its string are one key", logout("logout_time", "1499676978027"), logout()},
	}
	for _, tc := range same {
		if id(tc.a) != id(tc.b) {
			t.Errorf("%s: keys differ", tc.name)
		}
	}
	different := []struct{ name, a, b string }{
		{"two logouts of one user, other session", logout(), logout("session_id", `"s2"`)},
		{"two logouts of one user, other time", logout(), logout("logout_time", `"1499676999999"`)},
		{"a room's next lifetime", logout(), logout("room_seq", `"6085791336856668983"`)},
		{"login and logout", eventBody("room_login", "room_id", `"r1"`, "room_seq", `"1"`, "user_account", `"u1"`, "session_id", `"s1"`),
			eventBody("room_logout", "room_id", `"r1"`, "room_seq", `"1"`, "user_account", `"u1"`, "session_id", `"s1"`)},
		{"a stream republished", streamClose(), streamClose("stream_seq", `"9"`)},
		{"another stream", streamClose(), streamClose("stream_sid", `"s-2"`)},
		{"a mix task updated", eventBody("mix_start", "seq", "1", "task_id", `"t"`), eventBody("mix_start", "seq", "2", "task_id", `"t"`)},
		{"another app", logout(), strings.Replace(logout(), `"appid":"1"`, `"appid":"2"`, 1)},
		{"two logins, same session_id 0, other login time",
			eventBody("room_login", "room_id", `"r1"`, "room_seq", `"1"`, "user_account", `"u1"`, "session_id", `"0"`, "login_time", "1"),
			eventBody("room_login", "room_id", `"r1"`, "room_seq", `"1"`, "user_account", `"u1"`, "session_id", `"0"`, "login_time", "2")},
	}
	for _, tc := range different {
		if id(tc.a) == id(tc.b) {
			t.Errorf("%s: keys equal", tc.name)
		}
	}
}

// TestNestedValuesParseEverywhere is the regression test for issue 12,
// item 7: values nested under extra that some JSON readers reject (a lone
// surrogate, a number beyond float64) were forwarded; they are now
// malformed_body wherever they are, as at the top level.
func TestNestedValuesParseEverywhere(t *testing.T) {
	for _, extra := range []string{
		`"x":["\ud800"]`,
		`"x":{"y":"\udc00"}`,
		`"x":["\ud800\u0041"]`,
		`"x":{"y":1e999999}`,
		`"x":[-1E400]`,
		`"x":1e999999`,
		`"x":1` + strings.Repeat("0", 309),
	} {
		t.Run(extra, func(t *testing.T) {
			_, err := verify.Parse([]byte(zegoExample(zegoExampleSignature, extra)))
			if !errors.Is(err, verify.ErrMalformedBody) {
				t.Fatalf("err = %v, want malformed_body", err)
			}
		})
	}
	for _, extra := range []string{`"x":["\ud83d\ude00"]`, `"x":{"y":1e308}`, `"x":1e-999999`, `"x":1` + strings.Repeat("0", 308)} {
		t.Run("kept "+extra, func(t *testing.T) {
			c, err := verify.Parse([]byte(zegoExample(zegoExampleSignature, extra)))
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(c.AppendJSON(nil), &doc); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestEventAllowlistAndErrors(t *testing.T) {
	// zegoExampleSignature signs timestamp 1470820198 and nonce 123412.
	signed := strings.NewReplacer(`"timestamp":"1499676978"`, `"timestamp":"1470820198"`, `"nonce":"350176"`, `"nonce":"123412"`).Replace(logout())
	v := zegoVerifier(t, "secret") // Events empty: compose only
	if _, err := v.Verify([]byte(signed)); !errors.Is(err, verify.ErrEventNotAllowed) {
		t.Errorf("room_logout with the default events: %v", err)
	}
	all, err := verify.New(verify.Options{Secrets: []string{"secret"}, Events: verify.Events(verify.DefaultProduct), MaxAge: 5 * time.Minute,
		Now: func() time.Time { return time.Unix(1470820198, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := all.Verify([]byte(signed)); err != nil {
		t.Errorf("room_logout with every event allowed: %v", err)
	}
	if _, err := all.Verify([]byte(strings.Replace(signed, zegoExampleSignature, strings.Repeat("0", 40), 1))); !errors.Is(err, verify.ErrBadSignature) {
		t.Errorf("a forged room_logout: %v", err)
	}
	const secretish = "s3cr3t-value"
	for _, body := range []string{
		logout("session_id", `"`+secretish+`\u0001"`),
		logout("reason", `"`+secretish+`"`),
		logout("room_seq", `"`+secretish+`"`),
		eventBody("stream_create", "stream_sid", `"s"`, "rtmp_url", `["`+secretish+`\u0001"]`),
		eventBody("record", "stream_alias", `"a"`, "replay_url", `"`+secretish+`"`),
		eventBody("mix_start", "seq", "1", "task_id", `"`+secretish+` x"`),
	} {
		_, err := verify.Parse([]byte(body))
		if err == nil || strings.Contains(err.Error(), secretish) {
			t.Errorf("error %q leaks a value", err)
		}
	}
}
