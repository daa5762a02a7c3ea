package verify_test

import (
	"cmp"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/zegoedge/caddy-zego-callback/verify"
	"github.com/zegoedge/caddy-zego-callback/verify/verifytest"
)

func benchmarkCase(b *testing.B, name string) {
	v := verifytest.Load(b)
	verifier := vectorVerifier(b, v)
	var tc *verifytest.Case
	for i := range v.Cases {
		if v.Cases[i].Name == name {
			tc = &v.Cases[i]
		}
	}
	if tc == nil {
		b.Fatalf("no vector %s", name)
	}
	body := []byte(tc.Body)
	out := make([]byte, 0, 1024)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		c, err := verifier.Verify(body)
		if verify.ReasonOf(err) != tc.Expect.Reason {
			b.Fatalf("%s: %v", name, err)
		}
		if err == nil {
			out = c.AppendJSON(out[:0])
		}
	}
}

// BenchmarkVerifyCompose is the whole path for a JSON callback: parse,
// decode, check, verify, and write the normalized document.
func BenchmarkVerifyCompose(b *testing.B) { benchmarkCase(b, "tencent_success_json") }

func BenchmarkVerifyForm(b *testing.B) { benchmarkCase(b, "form_urlencoded") }

func BenchmarkVerifyEncodedJSON(b *testing.B) { benchmarkCase(b, "whole_body_url_encoded_json") }

// BenchmarkVerifyEncodedValues: compose with ZEGO's URL-encoded values,
// which the fast compose path leaves to the decoder (read flat).
func BenchmarkVerifyEncodedValues(b *testing.B) { benchmarkCase(b, "json_with_url_encoded_values") }

// BenchmarkRejectForged is the rejection path for a forged signature.
func BenchmarkRejectForged(b *testing.B) { benchmarkCase(b, "forged_signature") }

// BenchmarkBaselineStdlib is the straightforward approach, for comparison in
// the same run: encoding/json into a map, the same signature check, and
// json.Marshal of the output. It is not a product path.
func BenchmarkBaselineStdlib(b *testing.B) {
	v := verifytest.Load(b)
	body := []byte(v.Cases[0].Body)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var fields map[string]any
		if err := json.Unmarshal(body, &fields); err != nil {
			b.Fatal(err)
		}
		ts, _ := fields["timestamp"].(string)
		nonce, _ := fields["nonce"].(string)
		if verify.Sign(v.Secret, ts, nonce) != fields["signature"] {
			b.Fatal("signature mismatch")
		}
		delete(fields, "signature")
		if _, err := json.Marshal(fields); err != nil {
			b.Fatal(err)
		}
	}
}

// benchmarkProduct is the whole path for a product's JSON vector of event:
// parse, verify, write the document.
func benchmarkProduct(b *testing.B, product, event, shape string) {
	var tc *verifytest.EventCase
	var secret string
	var maxAge time.Duration
	for _, v := range []*verifytest.EventSet{verifytest.LoadProducts(b), verifytest.LoadEvents(b)} {
		for i := range v.Cases {
			if c := &v.Cases[i]; cmp.Or(c.Product, verify.DefaultProduct) == product && c.Event == event && tc == nil && strings.HasSuffix(c.Name, event+"_"+shape) {
				tc, secret, maxAge = c, v.Secret, v.MaxAge()
			}
		}
	}
	if tc == nil {
		b.Fatalf("no %s %s vector", product, event)
	}
	verifier, err := verify.New(verify.Options{Product: product, Secrets: []string{secret}, Events: []string{event}, MaxAge: maxAge, Now: tc.NowTime})
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(tc.Body)
	out := make([]byte, 0, 1024)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		c, err := verifier.Verify(body)
		if err != nil {
			b.Fatal(err)
		}
		out = c.AppendJSON(out[:0])
	}
}

// BenchmarkVerifyAIAgentASRResult: the AI Agent's most frequent callback.
func BenchmarkVerifyAIAgentASRResult(b *testing.B) {
	benchmarkProduct(b, "ai_agent", "ASRResult", "json")
}

// BenchmarkVerifyZIMSendMsg: ZIM's most frequent callback.
func BenchmarkVerifyZIMSendMsg(b *testing.B) { benchmarkProduct(b, "zim", "send_msg", "json") }

// BenchmarkVerifyRoomLogin: an RTC event in ZEGO's URL-encoded values,
// all strings, which the decoder reads flat.
func BenchmarkVerifyRoomLogin(b *testing.B) {
	benchmarkProduct(b, verify.DefaultProduct, "room_login", "json_url_encoded_values")
}
