package verify

import (
	"encoding/json"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/zegoedge/caddy-zego-callback/verify/verifytest"
)

func addVectorSeeds(f *testing.F) {
	v := verifytest.Load(f)
	for _, tc := range v.Cases {
		f.Add([]byte(tc.Body))
	}
	f.Add([]byte(`{"x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`))
	f.Add([]byte("{ }")) // the fast path stops at once; the general path reads an empty object
	f.Add([]byte("{\t}"))
	f.Add([]byte(`{"appid":"1\u0000","message":"\ud83d\ude00\u2028"}`))
	f.Add([]byte(`{"appid":"1","event":"compose","replay_url":"https://a.example/b","task_id":"t","code":"0","timestamp":"1","nonce":"1","signature":"s","x":null,"y":"100% %41"}`))
	f.Add([]byte(`{"appid":"1","event":"compose","replay_url":"https://a.example/b","task_id":"t","code":"0","timestamp":"1","nonce":"1","signature":"s","message":"\u002541"}`))
	for _, tc := range verifytest.LoadEvents(f).Cases {
		f.Add([]byte(tc.Body))
	}
	for _, tc := range verifytest.LoadProducts(f).Cases {
		f.Add([]byte(tc.Body))
	}
	f.Add([]byte(`{"AppId":1,"Event":"ASRResult","Timestamp":1745502313000,"Nonce":"1","Signature":"s","AgentInstanceId":"1","Data":{"Text":"a%20b","Round":"7","x":[{"y":null}],"Text2":"\ud83d\ude00"}}`))
	f.Add([]byte(`{"appid":1,"event":"room_logout","code":null,"timestamp":1,"nonce":"1","signature":"s","room_id":"r","room_seq":18446744073709551615,"user_account":"u","session_id":"0","reason":"7","x":["\ud83d\ude00",1e308]}`))
	f.Add([]byte(`{"appid":"1","event":"stream_create","timestamp":"1","nonce":"1","signature":"s","stream_sid":"s","rtmp_url":["a%2Fb","\u0025"],"pic_url":"[\"x\"]","stream_attr":{"cid":0}}`))
}

// parseReasons are the only reasons Parse may give.
var parseReasons = map[string]bool{
	"malformed_body": true, "missing_field": true, "invalid_field": true, "duplicate_field": true, "wrong_product": true,
}

// normalizedDoc mirrors the normalized document for checking it with
// encoding/json, independently of AppendJSON.
type normalizedDoc struct {
	Event     string         `json:"event"`
	AppID     uint32         `json:"app_id"`
	TaskID    string         `json:"task_id"`
	Success   bool           `json:"success"`
	Code      int64          `json:"code"`
	Message   string         `json:"message"`
	ReplayURL string         `json:"replay_url"`
	FileID    string         `json:"file_id"`
	Timestamp int64          `json:"timestamp"`
	SentAt    string         `json:"sent_at"`
	Nonce     string         `json:"nonce"`
	Extra     map[string]any `json:"extra"`
}

// checkOtherProducts: parsed as any product other than rtc, any bytes
// either fail with a documented reason or give a valid JSON document that
// names the callback's product and event.
func checkOtherProducts(t *testing.T, body []byte) {
	for _, p := range products[1:] {
		var c Callback
		switch err := parse(body, p, true, &c); {
		case err == nil, err == errForeign:
			out := c.AppendJSON(nil)
			var doc struct{ Product, Event string }
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatalf("%s: invalid JSON %q: %v", p.name, out, err)
			}
			if c.Product() != DefaultProduct && doc.Product != c.Product() || doc.Event != c.Event {
				t.Fatalf("%s: document %s for a %s %s", p.name, out, c.Product(), c.Event)
			}
		case !parseReasons[ReasonOf(err)]:
			t.Fatalf("%s: undocumented error %v", p.name, err)
		}
	}
}

// FuzzParse: any bytes either fail with a documented reason, or give a
// document that is valid JSON, carries the callback's values, and obeys
// the field rules.
func FuzzParse(f *testing.F) {
	addVectorSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		checkOtherProducts(t, body)
		for _, p := range products {
			checkFastPathsAgree(t, p, body)
		}
		c, err := Parse(body)
		if err != nil {
			if !parseReasons[ReasonOf(err)] {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		out := c.AppendJSON(nil)
		if !json.Valid(out) {
			t.Fatalf("invalid JSON: %q", out)
		}
		if c.event != nil {
			checkEventDocument(t, &c, out)
			return
		}
		var doc normalizedDoc
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Event != c.Event || doc.AppID != c.AppID || doc.TaskID != c.TaskID || doc.Code != c.Code ||
			doc.Message != c.Message || doc.ReplayURL != c.ReplayURL || doc.FileID != c.FileID ||
			doc.Timestamp != c.Timestamp || doc.Nonce != c.Nonce || doc.Success != (c.Code == 0) {
			t.Fatalf("document %s does not carry the callback %+v", out, c)
		}
		if doc.Extra == nil || len(doc.Extra) != len(c.extra) {
			t.Fatalf("extra has %d keys, want %d: %s", len(doc.Extra), len(c.extra), out)
		}
		switch {
		case !isToken(c.Event, maxEventBytes, false), !isToken(c.Nonce, maxNonceBytes, true),
			!isVisibleASCII(c.TaskID, maxTaskIDBytes), c.FileID != "" && !isVisibleASCII(c.FileID, maxFileIDBytes),
			c.Code == 0 && c.ReplayURL == "", c.ReplayURL != "" && !isHTTPURL(c.ReplayURL),
			!utf8.ValidString(c.Message):
			t.Fatalf("a field rule does not hold: %+v", c)
		}
		if c.ReplayURL != "" {
			u, err := url.Parse(c.ReplayURL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				t.Fatalf("replay_url %q passes, but url.Parse says %v", c.ReplayURL, err)
			}
		}
		if doc.SentAt != c.SentAt().Format("2006-01-02T15:04:05Z07:00") {
			t.Fatalf("sent_at %s", doc.SentAt)
		}
	})
}

// checkEventDocument: the document of an event other than compose parses
// with encoding/json, carries the envelope, every field of the event's
// table (and the name beside each enumeration), in the table's order, with
// the type its rule promises, and extra with every leftover field.
func checkEventDocument(t *testing.T, c *Callback, out []byte) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var envelope struct {
		Event     string `json:"event"`
		AppID     uint32 `json:"app_id"`
		Timestamp int64  `json:"timestamp"`
		SentAt    string `json:"sent_at"`
		Nonce     string `json:"nonce"`
		Extra     map[string]any
	}
	if err := json.Unmarshal(out, &envelope); err != nil {
		t.Fatal(err)
	}
	if envelope.Event != c.Event || envelope.AppID != c.AppID || envelope.Timestamp != c.Timestamp || envelope.Nonce != c.Nonce ||
		envelope.SentAt != c.SentAt().Format("2006-01-02T15:04:05Z07:00") || len(envelope.Extra) != len(c.extra) {
		t.Fatalf("document %s does not carry the callback %+v", out, c)
	}
	want := 6 // event, app_id, timestamp, sent_at, nonce, extra
	for j := range c.event.spec.fields {
		rule := &c.event.spec.fields[j]
		raw, ok := doc[rule.name]
		if !ok {
			t.Fatalf("%s missing from %s", rule.name, out)
		}
		want++
		var err error
		switch rule.kind {
		case ruleUint, ruleEnum:
			var n *uint64
			if err = json.Unmarshal(raw, &n); err == nil && (n == nil) == c.event.values[j].present {
				t.Fatalf("%s: %s, present %v", rule.name, raw, c.event.values[j].present)
			}
			if n != nil && rule.kind == ruleUint && *n > rule.max {
				t.Fatalf("%s: %d above %d", rule.name, *n, rule.max)
			}
			if rule.kind == ruleEnum {
				if _, ok := doc[rule.name+"_name"]; !ok {
					t.Fatalf("%s_name missing", rule.name)
				}
				want++
			}
		case ruleStrings:
			var list []string
			if err = json.Unmarshal(raw, &list); err == nil && (list == nil || len(list) > rule.itemLimit()) {
				t.Fatalf("%s: %s", rule.name, raw)
			}
		case ruleInt, ruleNumber:
			var n *json.Number
			if err = json.Unmarshal(raw, &n); err == nil && (n == nil) == c.event.values[j].present {
				t.Fatalf("%s: %s, present %v", rule.name, raw, c.event.values[j].present)
			}
		case ruleObject:
			var object map[string]json.RawMessage
			if err = json.Unmarshal(raw, &object); err == nil && (object == nil) == c.event.values[j].present {
				t.Fatalf("%s: %s, present %v", rule.name, raw, c.event.values[j].present)
			}
		case ruleObjects:
			var list []map[string]json.RawMessage
			if err = json.Unmarshal(raw, &list); err == nil && (list == nil || len(list) > rule.itemLimit()) {
				t.Fatalf("%s: %s", rule.name, raw)
			}
		default:
			var s string
			if err = json.Unmarshal(raw, &s); err == nil && rule.kind != ruleJSONText && len(s) > int(rule.max) && rule.max > 0 {
				t.Fatalf("%s: longer than %d", rule.name, rule.max)
			}
			if err == nil && rule.kind == ruleBigID && s != "" && !isDigits(s) {
				t.Fatalf("%s: %q", rule.name, s)
			}
			if err == nil && rule.kind == ruleURL && s != "" {
				if u, perr := url.Parse(s); perr != nil || u.Host == "" {
					t.Fatalf("%s %q passes, but url.Parse says %v", rule.name, s, perr)
				}
			}
		}
		if err != nil {
			t.Fatalf("%s: %v in %s", rule.name, err, out)
		}
	}
	if len(doc) != want {
		t.Fatalf("%d keys, want %d: %s", len(doc), want, out)
	}
}

// checkFastPathsAgree holds parse's fast paths to its general path: for
// product p, body gives the same callback, document, dedupe key and error
// either way (the fast path's strings may be clean, the general path's
// never are).
func checkFastPathsAgree(t testing.TB, p *product, body []byte) {
	t.Helper()
	var fast, general Callback
	fastErr, generalErr := parse(body, p, true, &fast), parse(body, p, false, &general)
	if ReasonOf(fastErr) != ReasonOf(generalErr) || (fastErr == errForeign) != (generalErr == errForeign) {
		t.Fatalf("%s: the fast path says %v, the general path %v", p.name, fastErr, generalErr)
	}
	if fastErr != nil && fastErr != errForeign {
		return
	}
	if got, want := string(fast.AppendJSON(nil)), string(general.AppendJSON(nil)); got != want {
		t.Fatalf("%s: the fast path writes %s, the general path %s", p.name, got, want)
	}
	if fast.IdempotencyID() != general.IdempotencyID() {
		t.Fatalf("%s: the fast path's dedupe key differs from the general path's", p.name)
	}
	general.clean = fast.clean
	if !reflect.DeepEqual(fast, general) {
		t.Fatalf("%s: the fast path gives %+v, the general path %+v", p.name, fast, general)
	}
}

// FuzzSignRoundTrip: a signature verifies for what it signs, and flipping
// one character of the signature, timestamp or nonce makes it fail, unless
// the flip leaves the sorted concatenation (what is hashed) unchanged.
func FuzzSignRoundTrip(f *testing.F) {
	f.Add("secret", "1470820198", "123412", uint(0))
	f.Add("a1b2c3d4e5f60718293a4b5c6d7e8f90", "1755569993", "98765", uint(7))
	f.Fuzz(func(t *testing.T, secret, timestamp, nonce string, at uint) {
		signature := Sign(secret, timestamp, nonce)
		if matchingSecret(signature, timestamp, nonce, []string{secret}) < 0 {
			t.Fatal("a fresh signature does not verify")
		}
		if matchingSecret(strings.ToUpper(signature), timestamp, nonce, []string{secret}) < 0 {
			t.Fatal("upper-case hex does not verify")
		}
		i := int(at % uint(len(signature)))
		flipped := []byte(signature)
		flipped[i] = "0123456789abcdef"[(strings.IndexByte("0123456789abcdef", flipped[i])+1)%16]
		if matchingSecret(string(flipped), timestamp, nonce, []string{secret}) >= 0 {
			t.Fatal("a flipped signature verifies")
		}
		hashed := func(s, ts, n string) string {
			parts := []string{s, ts, n}
			sort.Strings(parts)
			return strings.Join(parts, "")
		}
		if timestamp != "" {
			j := int(at % uint(len(timestamp)))
			ts := []byte(timestamp)
			ts[j]++
			if (matchingSecret(signature, string(ts), nonce, []string{secret}) >= 0) != (hashed(secret, string(ts), nonce) == hashed(secret, timestamp, nonce)) {
				t.Fatal("a flipped timestamp changes the verdict wrongly")
			}
		}
		if nonce != "" {
			j := int(at % uint(len(nonce)))
			n := []byte(nonce)
			n[j]++
			if (matchingSecret(signature, timestamp, string(n), []string{secret}) >= 0) != (hashed(secret, timestamp, string(n)) == hashed(secret, timestamp, nonce)) {
				t.Fatal("a flipped nonce changes the verdict wrongly")
			}
		}
	})
}

// FuzzEncodings: the same fields of any supported event sent as JSON
// (values URL-encoded, as ZEGO documents), as wholly URL-encoded JSON and as
// a form give the same document, or the same reason.
func FuzzEncodings(f *testing.F) {
	f.Add(uint32(1234567890), "1400341231-EditMedia-0d8b6f0a5c457f5722e6b27796ce1f2ctt0", "https://vod.example.com/a/dt6.mp4?t=1&sign=a+b", "SUCCESS", "0", "1755569980", "1849207315", "5285890813218549789", uint8(0))
	f.Add(uint32(1), "112037345", "", "source file error", "60000", "1755569995", "158273", "", uint8(0))
	// Every other event: its example fields, the first five of them
	// replaced by the fuzzed strings.
	for i, event := range Events(DefaultProduct)[1:] {
		example, _ := ExampleFields(DefaultProduct, event)
		values := make([]string, 5)
		for j := range values {
			if j < len(example) {
				values[j] = example[j].Value
			}
		}
		f.Add(uint32(1), values[0], values[1], values[2], values[3], "1499676978", "350176", values[4], uint8(i+1))
	}
	f.Add(uint32(7), "r%2F1", `["a","\u00e9"]`, "", "100% %41", "1499676978", "1", "9007199254740993", uint8(4))
	f.Fuzz(func(t *testing.T, appID uint32, taskID, replayURL, message, code, timestamp, nonce, fileID string, eventIndex uint8) {
		events := Events(DefaultProduct)
		event := events[int(eventIndex)%len(events)]
		fields := [][2]string{
			{"appid", strconv.FormatUint(uint64(appID), 10)}, {"event", "compose"}, {"replay_url", replayURL},
			{"task_id", taskID}, {"file_id", fileID}, {"code", code}, {"message", message},
			{"timestamp", timestamp}, {"nonce", nonce}, {"signature", "0123456789abcdef0123456789abcdef01234567"},
		}
		if event != DefaultEvent {
			fields = [][2]string{
				{"appid", strconv.FormatUint(uint64(appID), 10)}, {"event", event},
				{"timestamp", timestamp}, {"nonce", nonce}, {"signature", "0123456789abcdef0123456789abcdef01234567"},
			}
			fuzzed := []string{taskID, replayURL, message, code, fileID}
			example, _ := ExampleFields(DefaultProduct, event)
			for j, field := range example {
				if j < len(fuzzed) {
					field.Value = fuzzed[j]
				}
				fields = append(fields, [2]string{field.Name, field.Value})
			}
		}
		for _, kv := range fields {
			if !utf8.ValidString(kv[1]) {
				return // JSON cannot carry it as the form can
			}
		}
		plain := jsonBody(fields, func(s string) string { return s })
		valueEncoded := jsonBody(fields, func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") })
		form := url.Values{}
		for _, kv := range fields {
			form.Set(kv[0], kv[1])
		}
		shapes := map[string]string{
			"JSON, values URL-encoded": valueEncoded,
			"wholly URL-encoded JSON":  url.QueryEscape(plain),
			"form":                     form.Encode(),
		}
		var wantDoc, wantReason, first string
		for name, body := range shapes {
			c, err := Parse([]byte(body))
			doc := ""
			if err == nil {
				doc = string(c.AppendJSON(nil))
			}
			if first == "" {
				first, wantDoc, wantReason = name, doc, ReasonOf(err)
				continue
			}
			if doc != wantDoc || ReasonOf(err) != wantReason {
				t.Fatalf("%s gives %q (%v) but %s gives %q (%s)", name, doc, err, first, wantDoc, wantReason)
			}
		}
	})
}

func jsonBody(fields [][2]string, encode func(string) string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, kv := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		key, _ := json.Marshal(kv[0])
		value, _ := json.Marshal(encode(kv[1]))
		b.Write(key)
		b.WriteByte(':')
		b.Write(value)
	}
	b.WriteByte('}')
	return b.String()
}
