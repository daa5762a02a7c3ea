package caddymodule_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"

	"github.com/zegoedge/caddy-zego-callback/verify"
)

// field is one member of a callback as raw JSON text, in sending order.
type field struct{ key, raw string }

type callbackFields []field

// genuineFields is a callback signed now with dedupeSecret.
func genuineFields(taskID string) callbackFields {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	nonce := uniqueNonce("555")
	return callbackFields{
		{"appid", `"1234567890"`}, {"event", `"compose"`},
		{"replay_url", `"https://vod.example.com/a/dt6.mp4"`}, {"task_id", strconv.Quote(taskID)},
		{"file_id", `"5285890813218549789"`}, {"code", `"0"`}, {"message", `"SUCCESS"`},
		{"timestamp", strconv.Quote(ts)}, {"nonce", strconv.Quote(nonce)},
		{"signature", strconv.Quote(verify.Sign(dedupeSecret, ts, nonce))},
	}
}

func (f callbackFields) with(key, raw string) callbackFields {
	out := append(callbackFields(nil), f...)
	for i := range out {
		if out[i].key == key {
			out[i].raw = raw
			return out
		}
	}
	return append(out, field{key, raw})
}

func (f callbackFields) without(key string) callbackFields {
	var out callbackFields
	for _, kv := range f {
		if kv.key != key {
			out = append(out, kv)
		}
	}
	return out
}

// resigned signs the fields' timestamp and nonce again (after changing them).
func (f callbackFields) resigned() callbackFields {
	var ts, nonce string
	for _, kv := range f {
		switch kv.key {
		case "timestamp":
			ts = strings.Trim(kv.raw, `"`)
		case "nonce":
			nonce = strings.Trim(kv.raw, `"`)
		}
	}
	return f.with("signature", strconv.Quote(verify.Sign(dedupeSecret, ts, nonce)))
}

func (f callbackFields) json() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, kv := range f {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(kv.key) + ":" + kv.raw)
	}
	b.WriteByte('}')
	return b.String()
}

// form sends the fields' string values as a form.
func (f callbackFields) form() string {
	values := url.Values{}
	for _, kv := range f {
		var s string
		if err := json.Unmarshal([]byte(kv.raw), &s); err != nil {
			s = kv.raw
		}
		values.Set(kv.key, s)
	}
	return values.Encode()
}

type hostileCase struct {
	name   string
	body   string
	method string
	header map[string]string
	// chunked sends the body without a Content-Length.
	chunked bool
	status  int
	// upstreamWants, for accepted cases, checks the forwarded document.
	upstreamWants func(doc map[string]any) error
}

func wantValue(key string, want any) func(map[string]any) error {
	return func(doc map[string]any) error {
		if fmt.Sprint(doc[key]) != fmt.Sprint(want) {
			return fmt.Errorf("%s = %v, want %v", key, doc[key], want)
		}
		return nil
	}
}

func wantExtra(key string, want any) func(map[string]any) error {
	return func(doc map[string]any) error {
		extra, _ := doc["extra"].(map[string]any)
		if fmt.Sprint(extra[key]) != fmt.Sprint(want) {
			return fmt.Errorf("extra[%q] = %v, want %v", key, extra[key], want)
		}
		return nil
	}
}

func hostileCases() []hostileCase {
	g := genuineFields(newTaskID())
	genuine := g.json()
	nested := func(depth int) string { return strings.Repeat("[", depth) + strings.Repeat("]", depth) }
	manyKeys := func(n int, duplicate bool) callbackFields {
		f := genuineFields(newTaskID())
		for i := range n {
			f = append(f, field{"k" + strconv.Itoa(i), "0"})
		}
		if duplicate {
			f = append(f, field{"k7", "1"})
		}
		return f
	}
	upper := genuineFields(newTaskID())
	ms := genuineFields(newTaskID()).with("timestamp", strconv.Quote(strconv.FormatInt(time.Now().UnixMilli(), 10))).resigned()
	cases := []hostileCase{
		{name: "genuine JSON", body: genuine, status: 200, upstreamWants: wantValue("file_id", "5285890813218549789")},
		{name: "body exactly max_body", body: genuine + strings.Repeat(" ", DefaultMaxBodyForTests-len(genuine)), status: 200},
		{name: "body one byte over max_body", body: genuine + strings.Repeat(" ", DefaultMaxBodyForTests-len(genuine)+1), status: 413},
		{name: "chunked body under the limit", body: genuine, chunked: true, status: 200},
		{name: "chunked body over the limit", body: genuine + strings.Repeat(" ", 2*DefaultMaxBodyForTests), chunked: true, status: 413},
		{name: "long header value", body: genuineFields(newTaskID()).json(), header: map[string]string{"X-Long": strings.Repeat("a", 8_000)}, status: 200},
		{name: "very long header value, refused by Caddy", body: genuine, header: map[string]string{"X-Long": strings.Repeat("a", 2_000_000)}, status: 431},
		{name: "gzip encoding", body: genuine, header: map[string]string{"Content-Encoding": "gzip"}, status: 415},
		{name: "identity encoding", body: genuine, header: map[string]string{"Content-Encoding": "identity"}, status: 200},
		{name: "spoofed X-Zego-Event header", body: genuine, header: map[string]string{"X-Zego-Event": "forged"}, status: 200, upstreamWants: wantValue("event", "compose")},
		{name: "GET", body: "", method: http.MethodGet, status: 405},
		{name: "PUT", body: genuine, method: http.MethodPut, status: 405},
		{name: "DELETE", body: "", method: http.MethodDelete, status: 405},
		{name: "PATCH", body: genuine, method: http.MethodPatch, status: 405},
		{name: "OPTIONS", body: "", method: http.MethodOptions, status: 405},
		{name: "form", body: genuineFields(newTaskID()).form(), status: 200},
		{name: "wholly URL-encoded JSON", body: url.QueryEscape(genuineFields(newTaskID()).json()), status: 200},
		{name: "wholly URL-encoded JSON, lower-case %7b", body: "%7b" + url.QueryEscape(genuineFields(newTaskID()).json())[3:], status: 200},
		{name: "surrounding white space", body: "\r\n\t " + genuineFields(newTaskID()).json() + " \n", status: 200},
		{name: "byte order mark", body: "\xef\xbb\xbf" + genuine, status: 400},
		{name: "empty body", body: "", status: 400},
		{name: "white space only", body: " \n\t", status: 400},
		{name: "JSON null", body: "null", status: 400},
		{name: "JSON array", body: "[" + genuine + "]", status: 400},
		{name: "JSON string", body: strconv.Quote(genuine), status: 400},
		{name: "truncated JSON", body: genuine[:len(genuine)/2], status: 400},
		{name: "trailing garbage", body: genuine + "x", status: 400},
		{name: "two objects", body: genuine + genuine, status: 400},
		{name: "trailing comma", body: strings.TrimSuffix(genuine, "}") + ",}", status: 400},
		{name: "single quotes", body: strings.ReplaceAll(genuine, `"`, `'`), status: 400},
		{name: "extra nested 32 levels", body: g.with("deep", nested(31)).json(), status: 200},
		{name: "extra nested 33 levels", body: g.with("deep", nested(32)).json(), status: 400},
		{name: "extra nested 100000 levels", body: g.with("deep", nested(30_000)).json(), status: 400},
		{name: "5000 distinct keys", body: manyKeys(5000, false).json(), status: 200, upstreamWants: wantExtra("k4999", 0)},
		{name: "5000 keys, one repeated", body: manyKeys(5000, true).json(), status: 400},
		{name: "Cyrillic look-alike appid key", body: genuineFields(newTaskID()).with("аppid", `"1"`).json(), status: 200, upstreamWants: wantExtra("аppid", "1")},
		{name: "appid key with a zero-width space", body: genuineFields(newTaskID()).with("appid\u200b", `"1"`).json(), status: 200, upstreamWants: wantValue("app_id", 1234567890)},
		{name: "upper-case APPID key", body: genuineFields(newTaskID()).with("APPID", `"1"`).json(), status: 200, upstreamWants: wantValue("app_id", 1234567890)},
		{name: "appid repeated through an escape", body: strings.TrimSuffix(genuine, "}") + `,"app\u0069d":"1"}`, status: 400},
		{name: "raw NUL in a string", body: g.with("message", "\"a\x00b\"").json(), status: 400},
		{name: "escaped NUL in task_id", body: g.with("task_id", `"t\u0000"`).json(), status: 400},
		{name: "escaped NUL in message", body: genuineFields(newTaskID()).with("message", `"a\u0000b"`).json(), status: 200, upstreamWants: wantValue("message", "a\x00b")},
		{name: "overlong UTF-8", body: g.with("message", "\"\xc0\xaf\"").json(), status: 400},
		{name: "invalid UTF-8 byte", body: g.with("message", "\"\xff\"").json(), status: 400},
		{name: "lone surrogate", body: g.with("message", `"\ud800"`).json(), status: 400},
		{name: "emoji in extra", body: genuineFields(newTaskID()).with("note", `"\ud83d\ude00 ok"`).json(), status: 200, upstreamWants: wantExtra("note", "😀 ok")},
		{name: "signature of 39 hex digits", body: g.with("signature", strconv.Quote(strings.Trim(g[9].raw, `"`)[:39])).json(), status: 401},
		{name: "signature of 41 hex digits", body: g.with("signature", strconv.Quote(strings.Trim(g[9].raw, `"`)+"0")).json(), status: 401},
		{name: "signature in upper case", body: upper.with("signature", strings.ToUpper(upper[9].raw)).json(), status: 200},
		{name: "signature not hex", body: g.with("signature", `"zz`+strings.Trim(g[9].raw, `"`)[2:]+`"`).json(), status: 401},
		{name: "signature as a number", body: g.with("signature", "12345").json(), status: 400},
		{name: "signature missing", body: g.without("signature").json(), status: 400},
		{name: "signature null", body: g.with("signature", "null").json(), status: 400},
		{name: "signed with another secret", body: g.with("signature", strconv.Quote(verify.Sign("other", strings.Trim(g[7].raw, `"`), strings.Trim(g[8].raw, `"`)))).json(), status: 401},
		{name: "literal + without escapes is kept", body: genuineFields(newTaskID()).with("replay_url", `"https://a.example/x+y.mp4"`).json(), status: 200, upstreamWants: wantValue("replay_url", "https://a.example/x+y.mp4")},
		{name: "%2B decodes to +", body: genuineFields(newTaskID()).with("replay_url", `"https%3A%2F%2Fa.example%2Fx%2By.mp4"`).json(), status: 200, upstreamWants: wantValue("replay_url", "https://a.example/x+y.mp4")},
		{name: "%252B decodes once to %2B", body: genuineFields(newTaskID()).with("replay_url", `"https://a.example/x%252By.mp4"`).json(), status: 200, upstreamWants: wantValue("replay_url", "https://a.example/x%2By.mp4")},
		{name: "+ beside an escape is a space", body: genuineFields(newTaskID()).with("message", `"a+b%21"`).json(), status: 200, upstreamWants: wantValue("message", "a b!")},
		{name: "form + is a space", body: genuineFields(newTaskID()).form() + "&note=a+b", status: 200, upstreamWants: wantExtra("note", "a b")},
		{name: "form %2B is +", body: genuineFields(newTaskID()).form() + "&note=a%2Bb", status: 200, upstreamWants: wantExtra("note", "a+b")},
		{name: "appid as a JSON integer", body: genuineFields(newTaskID()).with("appid", "1234567890").json(), status: 200, upstreamWants: wantValue("app_id", 1234567890)},
		{name: "appid as a fraction", body: g.with("appid", "1234567890.0").json(), status: 400},
		{name: "appid of another app", body: g.with("appid", `"42"`).json(), status: 403},
		{name: "timestamp in milliseconds", body: ms.json(), status: 200},
		{name: "timestamp of 14 digits", body: g.with("timestamp", `"17557000000000"`).resigned().json(), status: 400},
		{name: "negative timestamp", body: g.with("timestamp", "-1").json(), status: 400},
		{name: "code not a number", body: g.with("code", `"abc"`).json(), status: 400},
		{name: "code over 64 bits", body: g.with("code", `"99999999999999999999"`).json(), status: 400},
		{name: "file_id as a 19-digit integer", body: genuineFields(newTaskID()).with("file_id", "5285890813218549789").json(), status: 200, upstreamWants: wantValue("file_id", "5285890813218549789")},
		{name: "task_id of 256 characters", body: g.with("task_id", strconv.Quote(strings.Repeat("t", 256))).json(), status: 200},
		{name: "task_id of 257 characters", body: g.with("task_id", strconv.Quote(strings.Repeat("t", 257))).json(), status: 400},
		{name: "nonce of 65 characters", body: g.with("nonce", strconv.Quote(strings.Repeat("7", 65))).resigned().json(), status: 400},
		{name: "replay_url of 1024 bytes", body: genuineFields(newTaskID()).with("replay_url", strconv.Quote("https://a.example/"+strings.Repeat("a", 1024-18))).json(), status: 200},
		{name: "replay_url of 1025 bytes", body: g.with("replay_url", strconv.Quote("https://a.example/"+strings.Repeat("a", 1025-18))).json(), status: 400},
		{name: "big number in extra kept exactly", body: genuineFields(newTaskID()).with("big", "12345678901234567890123").json(), status: 200, upstreamWants: func(doc map[string]any) error { return nil }},
	}
	return cases
}

// DefaultMaxBodyForTests mirrors the handler's documented default.
const DefaultMaxBodyForTests = 64 << 10

// TestHostileInput throws malformed, oversized and tricky requests at a
// real Caddy. Each case checks the status, that a rejection reached no
// upstream, and that Caddy still serves afterwards.
func TestHostileInput(t *testing.T) {
	up := newUpstream(t)
	tester := startSites(t, dedupeSecret, "", hostileSite(up))
	cases := hostileCases()
	if len(cases) < 60 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(up.received())
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			var body io.Reader = strings.NewReader(tc.body)
			if tc.chunked {
				body = io.MultiReader(strings.NewReader(tc.body)) // hides the length: sent chunked
			}
			req, err := http.NewRequest(method, fmt.Sprintf("http://localhost:%d/zego/compose", httpPort), body)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := tester.Client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			answer, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d (%q), want %d", resp.StatusCode, answer, tc.status)
			}
			got := up.received()
			if tc.status != 200 {
				if len(got) != before {
					t.Fatal("a rejected request reached the upstream")
				}
			} else {
				if len(got) != before+1 {
					t.Fatalf("upstream got %d requests, want 1", len(got)-before)
				}
				var doc map[string]any
				dec := json.NewDecoder(bytes.NewReader(got[len(got)-1].body))
				dec.UseNumber()
				if err := dec.Decode(&doc); err != nil {
					t.Fatalf("upstream got invalid JSON: %v", err)
				}
				if tc.upstreamWants != nil {
					if err := tc.upstreamWants(doc); err != nil {
						t.Fatal(err)
					}
				}
			}
			assertHealthy(t, tester)
		})
	}
}

// TestHostileConnections covers what a well-behaved client cannot send: a
// Content-Length larger than the body, and a client that goes away mid-body.
func TestHostileConnections(t *testing.T) {
	up := newUpstream(t)
	tester := startSites(t, dedupeSecret, "", hostileSite(up))
	genuine := genuineFields(newTaskID()).json()
	raw := func(contentLength int, sent string, closeWrite bool) string {
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", httpPort))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /zego/compose HTTP/1.1\r\nHost: localhost:%d\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", httpPort, contentLength, sent)
		if !closeWrite {
			return ""
		}
		_ = conn.(*net.TCPConn).CloseWrite()
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		answer, _ := io.ReadAll(conn)
		status, _, _ := strings.Cut(string(answer), "\r\n")
		return status
	}
	t.Run("declared length larger than the body", func(t *testing.T) {
		if status := raw(len(genuine)+100, genuine, true); status != "HTTP/1.1 400 Bad Request" {
			t.Fatalf("got %q", status)
		}
	})
	t.Run("client disconnects mid-body", func(t *testing.T) {
		raw(len(genuine), genuine[:len(genuine)/2], false)
	})
	time.Sleep(100 * time.Millisecond) // let Caddy see the closed connections
	if n := len(up.received()); n != 0 {
		t.Fatalf("upstream got %d requests from broken bodies", n)
	}
	assertHealthy(t, tester)
}

// hostileSite is the vectors' configuration, proxying to up, plus a health
// route.
func hostileSite(up *upstream) site {
	return site{
		options:  "app_id 1234567890\ndedupe off",
		upstream: up.URL,
		extra:    `respond /health "ok"`,
		noErrors: true,
	}
}

func assertHealthy(t *testing.T, tester *caddytest.Tester) {
	t.Helper()
	resp, err := tester.Client.Get(fmt.Sprintf("http://localhost:%d/health", httpPort))
	if err != nil {
		t.Fatalf("Caddy is not healthy: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("health answered %d", resp.StatusCode)
	}
}
