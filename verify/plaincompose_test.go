package verify

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/zegoedge/caddy-zego-callback/verify/verifytest"
)

// TestPlainComposeAgrees: the fast path takes the plain compose vectors, and
// for every vector it takes, the general path gives the same callback.
func TestPlainComposeAgrees(t *testing.T) {
	taken := map[string]bool{}
	for _, tc := range verifytest.Load(t).Cases {
		var fast Callback
		if !parsePlainCompose(tc.Body, &fast) {
			if !reflect.DeepEqual(fast, Callback{}) {
				t.Errorf("%s: refused, but the callback is not zero: %+v", tc.Name, fast)
			}
			continue
		}
		taken[tc.Name] = true
		var f rawFields
		var general Callback
		if err := decodeBody(tc.Body, &f); err != nil {
			t.Fatalf("%s: the fast path takes it, the general path says %v", tc.Name, err)
		}
		if err := f.callback(&general); err != nil || !reflect.DeepEqual(fast, general) {
			t.Errorf("%s: the fast path gives %+v, the general path %+v (%v)", tc.Name, fast, general, err)
		}
	}
	for _, name := range []string{"tencent_success_json", "tencent_failure_60000", "forged_signature", "stale_timestamp", "app_not_allowed"} {
		if !taken[name] {
			t.Errorf("the fast path refuses %s", name)
		}
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
