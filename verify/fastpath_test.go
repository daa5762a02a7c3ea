package verify

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/zegoedge/caddy-zego-callback/verify/verifytest"
)

// TestPlainComposeTakesZEGOsBodies: the fast path takes the plain compose
// vectors, and leaves the callback zero for every body it refuses (that it
// agrees with the general path is TestFastPathsAgree's).
func TestPlainComposeTakesZEGOsBodies(t *testing.T) {
	taken := map[string]bool{}
	for _, tc := range verifytest.Load(t).Cases {
		var fast Callback
		if parsePlainCompose(tc.Body, &fast) {
			taken[tc.Name] = true
		} else if !reflect.DeepEqual(fast, Callback{}) {
			t.Errorf("%s: refused, but the callback is not zero: %+v", tc.Name, fast)
		}
	}
	for _, name := range []string{"tencent_success_json", "tencent_failure_60000", "forged_signature", "stale_timestamp", "app_not_allowed"} {
		if !taken[name] {
			t.Errorf("the fast path refuses %s", name)
		}
	}
}

// TestFastPathsAgree: every vector of every set, parsed as every product,
// gives the same callback, document, dedupe key and error with parse's
// fast paths as without them.
func TestFastPathsAgree(t *testing.T) {
	var bodies []string
	for _, tc := range verifytest.Load(t).Cases {
		bodies = append(bodies, tc.Body)
	}
	for _, set := range []*verifytest.EventSet{verifytest.LoadEvents(t), verifytest.LoadProducts(t)} {
		for _, tc := range set.Cases {
			bodies = append(bodies, tc.Body)
		}
	}
	// Bodies the fast paths leave early, beside ZEGO's.
	bodies = append(bodies, "{ }", "{\t}", `{"appid" :"1"}`, `{"appid":"1" ,"event":"compose"}`, `{"appid":"1","code":0}`)
	for _, body := range bodies {
		for _, p := range products {
			checkFastPathsAgree(t, p, []byte(body))
		}
	}
	if len(bodies) < 100 {
		t.Fatalf("%d vectors", len(bodies))
	}
}

// quotedDigits against its byte-wise definition and strconv: every count of
// digits up to 25 at every offset within a word, followed by a quote or by
// each byte value, at the end of the string or before more text.
func TestQuotedDigitsMatchesBytewise(t *testing.T) {
	reference := func(s string, i int) (uint64, int) {
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == len(s) || s[j] != '"' || j == i || j-i > 19 {
			return 0, -1
		}
		n, err := strconv.ParseUint(s[i:j], 10, 64)
		if err != nil {
			t.Fatalf("%q: %v", s[i:j], err)
		}
		return n, j
	}
	const digits = "9876543210123456789012345"
	for offset := range 8 {
		for count := range len(digits) + 1 {
			for c := range 256 {
				for _, tail := range []string{"", `,"x":"1"}`} {
					s := strings.Repeat("a", offset) + digits[:count] + string(rune(0)) + tail
					b := []byte(s)
					b[offset+count] = byte(c)
					s = string(b)
					wantN, wantQ := reference(s, offset)
					if n, q := quotedDigits(s, offset); n != wantN || q != wantQ {
						t.Fatalf("quotedDigits(%q, %d) = %d, %d; want %d, %d", s, offset, n, q, wantN, wantQ)
					}
				}
			}
		}
	}
	for _, s := range []string{`"`, `1`, `18446744073709551615"`, `9999999999999999999"`, `10000000000000000000"`} {
		wantN, wantQ := reference(s, 0)
		if n, q := quotedDigits(s, 0); n != wantN || q != wantQ {
			t.Errorf("quotedDigits(%q) = %d, %d; want %d, %d", s, n, q, wantN, wantQ)
		}
	}
}
