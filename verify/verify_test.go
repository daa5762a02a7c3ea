package verify_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zegoedge/caddy-zego-callback/verify"
	"github.com/zegoedge/caddy-zego-callback/verify/verifytest"
)

func vectorVerifier(t testing.TB, v *verifytest.Set) *verify.Verifier {
	t.Helper()
	verifier, err := verify.New(verify.Options{
		Secrets: []string{v.Secret},
		AppIDs:  v.AllowedAppIDs,
		Events:  v.AllowedEvents,
		MaxAge:  v.MaxAge(),
		Now:     v.NowTime,
	})
	if err != nil {
		t.Fatal(err)
	}
	return verifier
}

// sentinels maps every reason code to its exported sentinel.
var sentinels = map[string]error{
	"method_not_allowed":   verify.ErrMethodNotAllowed,
	"unsupported_encoding": verify.ErrUnsupportedEncoding,
	"body_too_large":       verify.ErrBodyTooLarge,
	"malformed_body":       verify.ErrMalformedBody,
	"missing_field":        verify.ErrMissingField,
	"invalid_field":        verify.ErrInvalidField,
	"duplicate_field":      verify.ErrDuplicateField,
	"app_not_allowed":      verify.ErrAppNotAllowed,
	"bad_signature":        verify.ErrBadSignature,
	"stale_timestamp":      verify.ErrStaleTimestamp,
	"event_not_allowed":    verify.ErrEventNotAllowed,
	"replayed_signature":   verify.ErrReplayedSignature,
	"in_flight":            verify.ErrInFlight,
	"wrong_product":        verify.ErrWrongProduct,
}

func TestSentinelReasons(t *testing.T) {
	for reason, err := range sentinels {
		if got := verify.ReasonOf(err); got != reason {
			t.Errorf("ReasonOf(%v) = %q, want %q", err, got, reason)
		}
	}
	if got := verify.ReasonOf(nil); got != verify.ReasonOK {
		t.Errorf("ReasonOf(nil) = %q", got)
	}
	if got := verify.ReasonOf(errors.New("other")); got != "" {
		t.Errorf("ReasonOf(foreign error) = %q, want empty", got)
	}
}

// checkOutcome asserts err carries the expected reason and, for accepted
// callbacks, that the normalized document is byte for byte the expected one.
func checkOutcome(t *testing.T, c verify.Callback, err error, wantReason string, wantNormalized json.RawMessage) {
	t.Helper()
	if got := verify.ReasonOf(err); got != wantReason {
		t.Fatalf("reason = %q (%v), want %q", got, err, wantReason)
	}
	if wantReason != verify.ReasonOK {
		if !errors.Is(err, sentinels[wantReason]) {
			t.Fatalf("errors.Is(%v, %s sentinel) = false", err, wantReason)
		}
		return
	}
	var want bytes.Buffer
	if err := json.Compact(&want, wantNormalized); err != nil {
		t.Fatal(err)
	}
	if got := c.AppendJSON(nil); !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("normalized\n got: %s\nwant: %s", got, want.Bytes())
	}
}

func TestPublicVectors(t *testing.T) {
	v := verifytest.Load(t)
	verifier := vectorVerifier(t, v)
	ran := 0
	for _, tc := range v.Cases {
		if tc.HTTPLevel() {
			continue // decided by the handler before parsing; see caddymodule's tests
		}
		ran++
		t.Run(tc.Name, func(t *testing.T) {
			c, err := verifier.Verify([]byte(tc.Body))
			checkOutcome(t, c, err, tc.Expect.Reason, tc.Expect.Normalized)
		})
	}
	if ran < 20 {
		t.Fatalf("only %d body-level vectors ran", ran)
	}
}

func TestSignWorkedExamples(t *testing.T) {
	v := verifytest.Load(t)
	if len(v.Signatures) == 0 {
		t.Fatal("no signature vectors")
	}
	for _, sv := range v.Signatures {
		if got := verify.Sign(sv.Secret, sv.Timestamp, sv.Nonce); got != sv.Signature {
			t.Errorf("Sign(%q, %q, %q) = %s, want %s", sv.Secret, sv.Timestamp, sv.Nonce, got, sv.Signature)
		}
	}
}

// zegoExample builds a callback signed with ZEGO's worked example (secret
// "secret", timestamp 1470820198, nonce 123412, signature from ZEGO's docs).
func zegoExample(signature string, extra ...string) string {
	fields := []string{
		`"appid":"1"`, `"event":"compose"`, `"replay_url":"https://example.com/a.mp4"`,
		`"task_id":"t1"`, `"code":"0"`, `"timestamp":"1470820198"`, `"nonce":"123412"`,
		`"signature":"` + signature + `"`,
	}
	return "{" + strings.Join(append(fields, extra...), ",") + "}"
}

const zegoExampleSignature = "5bd59fd62953a8059fb7eaba95720f66d19e4517"

// millisecondSignature signs timestamp 1470820198000 and nonce 123412 with
// "secret", computed outside this code:
// python3 -c 'import hashlib; print(hashlib.sha1("".join(sorted(["secret","1470820198000","123412"])).encode()).hexdigest())'
const millisecondSignature = "854d274950ae8ce13314067c7f2ed184dbedd820"

func zegoVerifier(t *testing.T, secrets ...string) *verify.Verifier {
	t.Helper()
	v, err := verify.New(verify.Options{
		Secrets: secrets,
		MaxAge:  5 * time.Minute,
		Now:     func() time.Time { return time.Unix(1470820198, 0) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSignatureChecks(t *testing.T) {
	cases := []struct {
		name    string
		secrets []string
		body    string
		want    error
	}{
		{"worked example", []string{"secret"}, zegoExample(zegoExampleSignature), nil},
		{"upper-case hex", []string{"secret"}, zegoExample(strings.ToUpper(zegoExampleSignature)), nil},
		{"rotation: second secret matches", []string{"new-secret", "secret"}, zegoExample(zegoExampleSignature), nil},
		{"rotation: first secret matches", []string{"secret", "new-secret"}, zegoExample(zegoExampleSignature), nil},
		{"wrong secret", []string{"Secret"}, zegoExample(zegoExampleSignature), verify.ErrBadSignature},
		{"39 hex digits", []string{"secret"}, zegoExample(zegoExampleSignature[:39]), verify.ErrBadSignature},
		{"41 hex digits", []string{"secret"}, zegoExample(zegoExampleSignature + "0"), verify.ErrBadSignature},
		{"not hex", []string{"secret"}, zegoExample("zz" + zegoExampleSignature[2:]), verify.ErrBadSignature},
		{"empty", []string{"secret"}, zegoExample(""), verify.ErrBadSignature},
		{"integer timestamp and nonce sign their digits", []string{"secret"},
			`{"appid":1,"event":"compose","replay_url":"https://example.com/a.mp4","task_id":"t1","code":0,"timestamp":1470820198,"nonce":123412,"signature":"` + zegoExampleSignature + `"}`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := zegoVerifier(t, tc.secrets...).Verify([]byte(tc.body))
			if tc.want == nil && err != nil || !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestFieldRules(t *testing.T) {
	cases := []struct {
		name string
		body string
		want error
	}{
		{"null counts as absent", zegoExample(zegoExampleSignature, `"message":null`), nil},
		{"null required field", strings.Replace(zegoExample(zegoExampleSignature), `"task_id":"t1"`, `"task_id":null`, 1), verify.ErrMissingField},
		{"replay_url required when code is 0", strings.Replace(zegoExample(zegoExampleSignature), `"replay_url":"https://example.com/a.mp4",`, ``, 1), verify.ErrMissingField},
		{"replay_url optional when code is not 0", strings.NewReplacer(`"replay_url":"https://example.com/a.mp4",`, ``, `"code":"0"`, `"code":"70000"`).Replace(zegoExample(zegoExampleSignature)), nil},
		{"object in a known field", strings.Replace(zegoExample(zegoExampleSignature), `"task_id":"t1"`, `"task_id":{"a":1}`, 1), verify.ErrInvalidField},
		{"array in a known field", strings.Replace(zegoExample(zegoExampleSignature), `"code":"0"`, `"code":[0]`, 1), verify.ErrInvalidField},
		{"fractional code", strings.Replace(zegoExample(zegoExampleSignature), `"code":"0"`, `"code":0.0`, 1), verify.ErrInvalidField},
		{"code with plus sign", strings.Replace(zegoExample(zegoExampleSignature), `"code":"0"`, `"code":"+0"`, 1), verify.ErrInvalidField},
		{"bool appid", strings.Replace(zegoExample(zegoExampleSignature), `"appid":"1"`, `"appid":true`, 1), verify.ErrInvalidField},
		{"negative appid", strings.Replace(zegoExample(zegoExampleSignature), `"appid":"1"`, `"appid":-1`, 1), verify.ErrInvalidField},
		{"task_id as integer", strings.Replace(zegoExample(zegoExampleSignature), `"task_id":"t1"`, `"task_id":1`, 1), verify.ErrInvalidField},
		{"task_id with a space", strings.Replace(zegoExample(zegoExampleSignature), `"task_id":"t1"`, `"task_id":"t 1"`, 1), verify.ErrInvalidField},
		{"task_id of 257 bytes", strings.Replace(zegoExample(zegoExampleSignature), `"task_id":"t1"`, `"task_id":"`+strings.Repeat("t", 257)+`"`, 1), verify.ErrInvalidField},
		{"nonce with a dot", strings.Replace(zegoExample(zegoExampleSignature), `"nonce":"123412"`, `"nonce":"1.2"`, 1), verify.ErrInvalidField},
		{"timestamp of 14 digits", strings.Replace(zegoExample(zegoExampleSignature), `"timestamp":"1470820198"`, `"timestamp":"14708201980000"`, 1), verify.ErrInvalidField},
		{"event with a space", strings.Replace(zegoExample(zegoExampleSignature), `"event":"compose"`, `"event":"com pose"`, 1), verify.ErrInvalidField},
		{"replay_url without host", strings.Replace(zegoExample(zegoExampleSignature), `https://example.com/a.mp4`, `https:///a.mp4`, 1), verify.ErrInvalidField},
		{"file_id negative integer", zegoExample(zegoExampleSignature, `"file_id":-5`), verify.ErrInvalidField},
		{"escaped key is the same key", zegoExample(zegoExampleSignature, `"app\u0069d":"1"`), verify.ErrDuplicateField},
		{"duplicate unknown key", zegoExample(zegoExampleSignature, `"x":1`, `"x":2`), verify.ErrDuplicateField},
		{"duplicate known key with null", zegoExample(zegoExampleSignature, `"message":"a"`, `"message":null`), verify.ErrDuplicateField},
		{"data after the object", zegoExample(zegoExampleSignature) + `{}`, verify.ErrMalformedBody},
		{"trailing comma", strings.TrimSuffix(zegoExample(zegoExampleSignature), "}") + ",}", verify.ErrMalformedBody},
		{"invalid UTF-8", zegoExample(zegoExampleSignature, "\"message\":\"\xff\""), verify.ErrMalformedBody},
		{"overlong UTF-8", zegoExample(zegoExampleSignature, "\"message\":\"\xc0\xaf\""), verify.ErrMalformedBody},
		{"raw control character", zegoExample(zegoExampleSignature, "\"message\":\"a\x01\""), verify.ErrMalformedBody},
		{"spaces between tokens", " " + strings.NewReplacer(`,"`, ` , "`, `":`, `" : `).Replace(zegoExample(zegoExampleSignature)) + " ", nil},
		{"tab, CR and LF between tokens", "\n" + strings.NewReplacer(`,"`, ",\r\n\t\"", `":`, "\"\t:\n").Replace(zegoExample(zegoExampleSignature)) + "\r\n", nil},
		{"control character between tokens", "\x01" + zegoExample(zegoExampleSignature), verify.ErrMalformedBody},
		{"vertical tab between tokens", strings.Replace(zegoExample(zegoExampleSignature), `,"`, ",\v\"", 1), verify.ErrMalformedBody},
		{"form feed after the object", zegoExample(zegoExampleSignature) + "\f", verify.ErrMalformedBody},
		{"lone surrogate", zegoExample(zegoExampleSignature, `"message":"\ud800"`), verify.ErrMalformedBody},
		{"bad escape in nested extra", zegoExample(zegoExampleSignature, `"x":["\q"]`), verify.ErrMalformedBody},
		{"32 levels is allowed", zegoExample(zegoExampleSignature, `"x":`+strings.Repeat("[", 31)+strings.Repeat("]", 31)), nil},
		{"33 levels is too deep", zegoExample(zegoExampleSignature, `"x":`+strings.Repeat("[", 32)+strings.Repeat("]", 32)), verify.ErrMalformedBody},
		{"semicolon in form", "appid=1;event=compose", verify.ErrMalformedBody},
		{"bad escape in form", "appid=1&event=%zz", verify.ErrMalformedBody},
		{"duplicate form key", "appid=1&appid=2", verify.ErrDuplicateField},
		{"stray percent beside a valid escape is kept", zegoExample(zegoExampleSignature, `"message":"100% done %41"`), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := zegoVerifier(t, "secret").Verify([]byte(tc.body))
			if tc.want == nil && err != nil || !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestNormalizedValues pins decoding details the public vectors leave open;
// the expected documents are written out by hand.
func TestNormalizedValues(t *testing.T) {
	cases := []struct {
		name, body, want string
	}{
		{
			"literal plus survives without an escape; integers; ms timestamp; extra kept decoded",
			`{"appid":1,"event":"compose","replay_url":"https://example.com/a+b.mp4","task_id":"t1","code":0,"file_id":5285890813218549789,"message":"a\"b\n\u00e9 100%","timestamp":"1470820198000","nonce":"123412","signature":"` + millisecondSignature + `","x":"%E4%BD%A0+y%","n":[1, {"k":null}],"f":1.5e3,"z":null}`,
			`{"event":"compose","app_id":1,"task_id":"t1","success":true,"code":0,"message":"a\"b\né 100%","replay_url":"https://example.com/a+b.mp4","file_id":"5285890813218549789","timestamp":1470820198,"sent_at":"2016-08-10T09:09:58Z","nonce":"123412","extra":{"x":"你 y%","n":[1, {"k":null}],"f":1.5e3,"z":null}}`,
		},
		{
			"form values are decoded once",
			"appid=1&event=compose&replay_url=https%3A%2F%2Fexample.com%2Fa%252B.mp4&task_id=t1&code=0&timestamp=1470820198&nonce=123412&signature=" + zegoExampleSignature + "&x=a+b",
			`{"event":"compose","app_id":1,"task_id":"t1","success":true,"code":0,"message":"","replay_url":"https://example.com/a%2B.mp4","file_id":"","timestamp":1470820198,"sent_at":"2016-08-10T09:09:58Z","nonce":"123412","extra":{"x":"a b"}}`,
		},
		{
			"a % written as the JSON escape \\u0025 is URL-decoded like a literal one",
			`{"appid":"1","event":"compose","replay_url":"https://example.com/a.mp4","task_id":"t1","code":"0","message":"\u002541","timestamp":"1470820198","nonce":"123412","signature":"` + zegoExampleSignature + `"}`,
			`{"event":"compose","app_id":1,"task_id":"t1","success":true,"code":0,"message":"A","replay_url":"https://example.com/a.mp4","file_id":"","timestamp":1470820198,"sent_at":"2016-08-10T09:09:58Z","nonce":"123412","extra":{}}`,
		},
		{
			"wholly encoded JSON is not decoded twice",
			"%7b%22appid%22:%221%22,%22event%22:%22compose%22,%22replay_url%22:%22https://example.com/a%2525.mp4%22,%22task_id%22:%22t1%22,%22code%22:%220%22,%22timestamp%22:%221470820198%22,%22nonce%22:%22123412%22,%22signature%22:%22" + zegoExampleSignature + "%22%7d",
			`{"event":"compose","app_id":1,"task_id":"t1","success":true,"code":0,"message":"","replay_url":"https://example.com/a%25.mp4","file_id":"","timestamp":1470820198,"sent_at":"2016-08-10T09:09:58Z","nonce":"123412","extra":{}}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := zegoVerifier(t, "secret").Verify([]byte(tc.body))
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

// TestReplayURLRule: what the handler accepts as replay_url, url.Parse
// accepts as an absolute http(s) URL with a host.
func TestReplayURLRule(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"https://vod.example.com/a/dt6.mp4?t=1&sign=a+b", true},
		{"HTTP://EXAMPLE.COM", true},
		{"http://user:pw@example.com:8080/x#frag", true},
		{"http://[::1]:80/x", true},
		{"https://example.com/a b.mp4", true},
		{"https://example.com:/x", true},
		{"ftp://example.com/a", false},
		{"https:///a.mp4", false},
		{"https://:80/a", false},
		{"https://exa mple.com/", false},
		{"https://example.com:abc/", false},
		{"https://example.com:80:90/", false},
		{"https://[::1/", false},
		{"https://a[b]/", false},
		{"https://ex%mple.com/", false},
		{"https://example.com/100%/a", false},
		{"https://example.com/a#%", false},
		{"https://example.com/a?q=100%", true},
		{"https://example.com/a%2Fb", true},
		{"https://example.com/\x01", false},
		{"https://example.com/a\x7f", false},
		{"javascript:alert(1)", false},
		{"https://" + strings.Repeat("a", 1020), false},
	} {
		t.Run(tc.url, func(t *testing.T) {
			body := strings.Replace(zegoExample(zegoExampleSignature), "https://example.com/a.mp4", strings.NewReplacer(`\`, `\\`).Replace(tc.url), 1)
			_, err := zegoVerifier(t, "secret").Verify([]byte(body))
			if got := err == nil; got != tc.want {
				t.Fatalf("accepted = %v (%v), want %v", got, err, tc.want)
			}
			if tc.want {
				if u, err := url.Parse(tc.url); err != nil || u.Host == "" {
					t.Fatalf("url.Parse disagrees: %v", err)
				}
			}
		})
	}
}

func TestTimestampWindow(t *testing.T) {
	const ts = 1470820198
	for _, tc := range []struct {
		name   string
		offset time.Duration
		want   error
	}{
		{"exactly max_age old", 300 * time.Second, nil},
		{"one second too old", 301 * time.Second, verify.ErrStaleTimestamp},
		{"exactly max_age ahead", -300 * time.Second, nil},
		{"one second too far ahead", -301 * time.Second, verify.ErrStaleTimestamp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := verify.New(verify.Options{
				Secrets: []string{"secret"},
				MaxAge:  5 * time.Minute,
				Now:     func() time.Time { return time.Unix(ts, 0).Add(tc.offset) },
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify([]byte(zegoExample(zegoExampleSignature)))
			if tc.want == nil && err != nil || !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestPerAppSecrets(t *testing.T) {
	now := func() time.Time { return time.Unix(1470820198, 0) }
	// ZEGO's worked example is signed with "secret"; the appid is not signed,
	// so the same signature serves any app.
	bodyFor := func(appID string) []byte {
		return []byte(strings.Replace(zegoExample(zegoExampleSignature), `"appid":"1"`, `"appid":"`+appID+`"`, 1))
	}
	cases := []struct {
		name  string
		opts  verify.Options
		appID string
		want  error
	}{
		{"app's own secret", verify.Options{AppSecrets: map[uint32][]string{1: {"secret"}}}, "1", nil},
		{"app blocks imply the allowlist", verify.Options{AppSecrets: map[uint32][]string{1: {"secret"}}}, "2", verify.ErrAppNotAllowed},
		{"app with a block ignores top-level secrets", verify.Options{Secrets: []string{"secret"}, AppSecrets: map[uint32][]string{1: {"other"}}}, "1", verify.ErrBadSignature},
		{"app without a block uses top-level secrets", verify.Options{Secrets: []string{"secret"}, AppIDs: []uint32{1, 2}, AppSecrets: map[uint32][]string{1: {"other"}}}, "2", nil},
		{"rotation inside an app block", verify.Options{AppSecrets: map[uint32][]string{1: {"old", "secret"}}}, "1", nil},
		{"explicit allowlist wins", verify.Options{Secrets: []string{"secret"}, AppIDs: []uint32{2}}, "1", verify.ErrAppNotAllowed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.MaxAge, tc.opts.Now = 5*time.Minute, now
			v, err := verify.New(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(bodyFor(tc.appID))
			if tc.want == nil && err != nil || !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts verify.Options
	}{
		{"no secret", verify.Options{MaxAge: time.Minute}},
		{"empty secret", verify.Options{Secrets: []string{"a", ""}, MaxAge: time.Minute}},
		{"no max age", verify.Options{Secrets: []string{"a"}}},
		{"bad event name", verify.Options{Secrets: []string{"a"}, Events: []string{"com pose"}, MaxAge: time.Minute}},
		{"app without secrets", verify.Options{AppSecrets: map[uint32][]string{1: nil}, MaxAge: time.Minute}},
		{"app with an empty secret", verify.Options{AppSecrets: map[uint32][]string{1: {""}}, MaxAge: time.Minute}},
		{"app block outside the allowlist", verify.Options{Secrets: []string{"a"}, AppIDs: []uint32{1}, AppSecrets: map[uint32][]string{3: {"b"}}, MaxAge: time.Minute}},
		{"allowed app with no secret at all", verify.Options{AppIDs: []uint32{1, 2}, AppSecrets: map[uint32][]string{1: {"b"}}, MaxAge: time.Minute}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := verify.New(tc.opts); err == nil {
				t.Fatal("New accepted bad options")
			}
		})
	}
}

func TestDedupeIDs(t *testing.T) {
	parse := func(body string) verify.Callback {
		t.Helper()
		c, err := verify.Parse([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	base := parse(zegoExample(zegoExampleSignature))
	retry := parse(strings.NewReplacer(`"nonce":"123412"`, `"nonce":"999"`, `"timestamp":"1470820198"`, `"timestamp":"1470820230"`).Replace(zegoExample(zegoExampleSignature)))
	otherTask := parse(strings.Replace(zegoExample(zegoExampleSignature), `"task_id":"t1"`, `"task_id":"t2"`, 1))
	otherApp := parse(strings.Replace(zegoExample(zegoExampleSignature), `"appid":"1"`, `"appid":"2"`, 1))
	if base.IdempotencyID() != retry.IdempotencyID() {
		t.Error("a retry of the same task has a different key")
	}
	if base.IdempotencyID() == otherTask.IdempotencyID() || base.IdempotencyID() == otherApp.IdempotencyID() {
		t.Error("different tasks or apps share a key")
	}
	// The IDs name the dedupe records in shared storage, so they must not
	// drift between versions. Expected values from coreutils:
	//   printf '1\0compose\0t1' | sha256sum | cut -c1-32
	//   printf '5bd59fd62953a8059fb7eaba95720f66d19e4517' | sha256sum | cut -c1-32
	if id := base.IdempotencyID(); hex.EncodeToString(id[:]) != "35c72942ed50c537defd0c99028a8f5c" {
		t.Errorf("IdempotencyID = %x", id)
	}
	upper := parse(zegoExample(strings.ToUpper(zegoExampleSignature)))
	for _, c := range []verify.Callback{base, upper} {
		if id := c.SignatureID(); hex.EncodeToString(id[:]) != "dc67862d7aaca589bf57fe34ac78d00d" {
			t.Errorf("SignatureID = %x", id)
		}
	}
}

func TestErrorsNeverHoldValues(t *testing.T) {
	const secretish = "s3cr3t-value"
	bodies := []string{
		zegoExample(secretish),
		strings.Replace(zegoExample(zegoExampleSignature), `"task_id":"t1"`, `"task_id":"`+secretish+` "`, 1),
		zegoExample(zegoExampleSignature, `"x":[1,`+secretish+`]`),
	}
	for _, body := range bodies {
		_, err := zegoVerifier(t, "secret").Verify([]byte(body))
		if err == nil || strings.Contains(err.Error(), secretish) {
			t.Errorf("error %q leaks a value", err)
		}
	}
}

func ExampleVerifier_Verify() {
	v, _ := verify.New(verify.Options{
		Secrets: []string{"secret"},
		MaxAge:  5 * time.Minute,
		Now:     func() time.Time { return time.Unix(1470820198, 0) },
	})
	c, err := v.Verify([]byte(`{"appid":"1","event":"compose","replay_url":"https://example.com/a.mp4","task_id":"t1","code":"0","timestamp":"1470820198","nonce":"123412","signature":"5bd59fd62953a8059fb7eaba95720f66d19e4517"}`))
	fmt.Println(verify.ReasonOf(err))
	fmt.Println(string(c.AppendJSON(nil)))
	// Output:
	// ok
	// {"event":"compose","app_id":1,"task_id":"t1","success":true,"code":0,"message":"","replay_url":"https://example.com/a.mp4","file_id":"","timestamp":1470820198,"sent_at":"2016-08-10T09:09:58Z","nonce":"123412","extra":{}}
}
