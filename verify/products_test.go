package verify_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zegoedge/caddy-zego-callback/verify"
	"github.com/zegoedge/caddy-zego-callback/verify/verifytest"
)

// productVerifier verifies every event of product with the vectors'
// secret at now.
func productVerifier(t *testing.T, product, secret string, maxAge time.Duration, now func() time.Time) *verify.Verifier {
	t.Helper()
	v, err := verify.New(verify.Options{Product: product, Secrets: []string{secret}, Events: verify.Events(product), MaxAge: maxAge, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestProductVectors: every event of every product besides rtc, from
// ZEGO's examples and signed with sha1sum, verifies on its product's
// verifier, gives the hand-written document byte for byte and the
// IdempotencyID computed with sha256sum.
func TestProductVectors(t *testing.T) {
	v := verifytest.LoadProducts(t)
	covered := map[string]bool{}
	for _, tc := range v.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			c, err := productVerifier(t, tc.Product, v.Secret, v.MaxAge(), tc.NowTime).Verify([]byte(tc.Body))
			checkOutcome(t, c, err, tc.Expect.Reason, tc.Expect.Normalized)
			if id := c.IdempotencyID(); hex.EncodeToString(id[:]) != tc.Expect.IdempotencyKey {
				t.Errorf("IdempotencyID = %x, want %s (%s)", id, tc.Expect.IdempotencyKey, tc.Expect.IdempotencyKeyCommand)
			}
			if c.Event != tc.Event || c.Product() != tc.Product {
				t.Errorf("product %q event %q, want %s %s", c.Product(), c.Event, tc.Product, tc.Event)
			}
			covered[tc.Product+" "+tc.Event] = true
		})
	}
	for _, product := range verify.Products() {
		for _, event := range verify.Events(product) {
			if !covered[product+" "+event] && !(product == verify.DefaultProduct && slices.Contains(roomAndStreamEvents, event)) {
				t.Errorf("%s %s: no vector", product, event)
			}
		}
	}
}

// TestWrongProduct: a genuine callback of another product is refused as
// wrong_product once its signature is checked (ZIM's room_create on an rtc
// route, RTC's on a zim route, ASR's ASRResult on an ai_agent route); a
// forged one is a bad signature, as on its own route.
func TestWrongProduct(t *testing.T) {
	products, events := verifytest.LoadProducts(t), verifytest.LoadEvents(t)
	find := func(set *verifytest.EventSet, product, event string) verifytest.EventCase {
		for _, tc := range set.Cases {
			if tc.Product == product && tc.Event == event {
				return tc
			}
		}
		t.Fatalf("no %s %s vector", product, event)
		return verifytest.EventCase{}
	}
	cases := []struct {
		route string
		tc    verifytest.EventCase
	}{
		{"rtc", find(products, "zim", "room_create")},
		{"zim", find(events, "", "room_create")},
		{"ai_agent", find(products, "asr", "ASRResult")},
		{"asr", find(products, "ai_agent", "Exception")},
		{"zim", find(products, "ai_agent", "ASRResult")},
		{"rtc", find(products, "ai_agent", "LLMResult")},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s on %s", c.tc.Name, c.route), func(t *testing.T) {
			verifier := productVerifier(t, c.route, products.Secret, products.MaxAge(), c.tc.NowTime)
			if _, err := verifier.Verify([]byte(c.tc.Body)); !errors.Is(err, verify.ErrWrongProduct) {
				t.Fatalf("err = %v, want wrong_product", err)
			}
			forged := productVerifier(t, c.route, "another secret", products.MaxAge(), c.tc.NowTime)
			if _, err := forged.Verify([]byte(c.tc.Body)); !errors.Is(err, verify.ErrBadSignature) {
				t.Fatalf("with another secret: err = %v, want bad_signature", err)
			}
		})
	}
}

// TestMillisecondTimestamps: the AI Agent's 13-digit timestamp is hashed
// as the digits received (the vector's signature is sha1sum's over them)
// and the window applies in seconds.
func TestMillisecondTimestamps(t *testing.T) {
	v := verifytest.LoadProducts(t)
	var tc verifytest.EventCase
	for _, c := range v.Cases {
		if c.Product == "ai_agent" && strings.HasSuffix(c.Name, "_json") && strings.Contains(c.Body, `"Timestamp":17`) {
			tc = c
			break
		}
	}
	if tc.Body == "" {
		t.Fatal("no ai_agent vector with a JSON-number timestamp")
	}
	c, err := productVerifier(t, "ai_agent", v.Secret, v.MaxAge(), tc.NowTime).Verify([]byte(tc.Body))
	if err != nil {
		t.Fatal(err)
	}
	sent := c.SentAt()
	atEdge := func() time.Time { return sent.Add(v.MaxAge()) }
	if _, err := productVerifier(t, "ai_agent", v.Secret, v.MaxAge(), atEdge).Verify([]byte(tc.Body)); err != nil {
		t.Errorf("at max_age: %v", err)
	}
	pastEdge := func() time.Time { return sent.Add(v.MaxAge() + time.Second) }
	if _, err := productVerifier(t, "ai_agent", v.Secret, v.MaxAge(), pastEdge).Verify([]byte(tc.Body)); !errors.Is(err, verify.ErrStaleTimestamp) {
		t.Errorf("past max_age: %v, want stale_timestamp", err)
	}
}

func TestProductOptions(t *testing.T) {
	if got := verify.Products(); !slices.Equal(got, []string{"rtc", "zim", "ai_agent", "asr", "cloud_recording", "cloud_player", "digital_human", "super_board"}) {
		t.Errorf("Products = %v", got)
	}
	if err := verify.CheckProduct("mini_game"); err == nil || !strings.Contains(err.Error(), "signature methods") {
		t.Errorf("mini_game: %v", err)
	}
	if err := verify.CheckProduct("zoom"); err == nil || !strings.Contains(err.Error(), "rtc, zim, ai_agent, asr, cloud_recording, cloud_player, digital_human, super_board") {
		t.Errorf("an unknown product: %v", err)
	}
	if _, err := verify.New(verify.Options{Product: "zim", Secrets: []string{"s"}, MaxAge: time.Minute}); err == nil {
		t.Error("a zim verifier without events")
	}
	if _, err := verify.New(verify.Options{Product: "zim", Secrets: []string{"s"}, MaxAge: time.Minute, Events: []string{"compose"}}); err == nil {
		t.Error("a zim verifier accepting compose")
	}
	for _, product := range verify.Products() {
		for _, event := range verify.Events(product) {
			meaning, url, ok := verify.EventDoc(product, event)
			if !ok || meaning == "" || !strings.HasPrefix(url, "https://") {
				t.Errorf("EventDoc(%s, %s) = %q, %q, %v", product, event, meaning, url, ok)
			}
			if _, ok := verify.ExampleFields(product, event); !ok {
				t.Errorf("ExampleFields(%s, %s) unknown", product, event)
			}
		}
	}
}

// TestSynchronous: only ZIM's before_send_msg waits for the backend's
// answer.
func TestSynchronous(t *testing.T) {
	v := verifytest.LoadProducts(t)
	for _, tc := range v.Cases {
		c, err := productVerifier(t, tc.Product, v.Secret, v.MaxAge(), tc.NowTime).Verify([]byte(tc.Body))
		if err != nil {
			t.Fatalf("%s: %v", tc.Name, err)
		}
		if want := tc.Product == "zim" && tc.Event == "before_send_msg"; c.Synchronous() != want {
			t.Errorf("%s: Synchronous() = %v", tc.Name, c.Synchronous())
		}
	}
}

// TestOccurrencesWithoutTheirIDKeptApart: a send_msg of the server API's
// batch send has an empty msg_id, and the AI Agent's ASRResult example has
// no Sequence; keyed on the rest alone, every later message or result
// would be dropped as a retry of the first. Two batch sends of one second
// differ in their recipients' message IDs (user_list is in the key); two
// results without a Sequence differ in their timestamp, which stands in.
// A retry of one callback keeps its key.
func TestOccurrencesWithoutTheirIDKeptApart(t *testing.T) {
	v := verifytest.LoadProducts(t)
	cases := []struct {
		product, event, emptied string
		// next is the other occurrence: a member changed, JSON text.
		nextMember, nextValue string
	}{
		{"zim", "send_msg", "msg_id", "user_list", `[{"UserId":"u2","MsgId":"857639062792568999"}]`},
		{"ai_agent", "ASRResult", "Sequence", "Timestamp", "1745502314000"},
	}
	for _, c := range cases {
		t.Run(c.product+" "+c.event, func(t *testing.T) {
			var tc verifytest.EventCase
			for _, vc := range v.Cases {
				if vc.Product == c.product && vc.Event == c.event && strings.HasSuffix(vc.Name, "_json") {
					tc = vc
				}
			}
			envelope, _ := verify.EventEnvelope(c.product, c.event)
			body := func(member, value string) []byte {
				decoder := json.NewDecoder(strings.NewReader(tc.Body))
				decoder.UseNumber()
				var fields map[string]any
				if err := decoder.Decode(&fields); err != nil {
					t.Fatal(err)
				}
				fields[c.emptied] = ""
				if member != "" {
					fields[member] = json.RawMessage(value)
				}
				timestamp := string(mustField(t, tc.Body, envelope.Timestamp))
				if member == envelope.Timestamp {
					timestamp = value
				}
				fields[envelope.Signature] = verify.Sign(v.Secret, timestamp, fields[envelope.Nonce].(string))
				out, err := json.Marshal(fields)
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			keyOf := func(body []byte) [16]byte {
				c, err := productVerifier(t, c.product, v.Secret, 24*365*time.Hour, tc.NowTime).Verify(body)
				if err != nil {
					t.Fatal(err)
				}
				return c.IdempotencyID()
			}
			sent, retried := body("", ""), body("", "")
			if keyOf(sent) != keyOf(retried) {
				t.Error("one callback sent twice has two keys")
			}
			if keyOf(sent) == keyOf(body(c.nextMember, c.nextValue)) {
				t.Errorf("two callbacks without %s, one with %s %s, share a key", c.emptied, c.nextMember, c.nextValue)
			}
		})
	}
}

// mustField is a top-level field's JSON text in body.
func mustField(t *testing.T, body, name string) json.RawMessage {
	t.Helper()
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &fields); err != nil {
		t.Fatal(err)
	}
	return fields[name]
}
