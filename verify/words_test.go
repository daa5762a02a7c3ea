package verify

import (
	"encoding/binary"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"testing"
)

// The word-at-a-time tests against their byte-by-byte definitions: every
// byte value at every position of a string longer than four words (some
// classes take four words a step), and every pair of byte values side by
// side, within a word and across two (a borrow from one byte can reach the
// next), each in a string otherwise of the class (valid), so that one bad
// byte must be found.
func TestASCIIClassesMatchBytewise(t *testing.T) {
	classes := []struct {
		name  string
		words func(string) bool
		byte  func(byte) bool
		valid byte
	}{
		{"escapeFree", escapeFree, func(c byte) bool { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' }, 'a'},
		{"visibleASCII", visibleASCII, func(c byte) bool { return c >= '!' && c <= '~' }, 'a'},
		{"controlFree", controlFree, func(c byte) bool { return c >= 0x20 && c != 0x7F }, 'a'},
		{"printableASCII", printableASCII, func(c byte) bool { return c >= 0x20 && c < 0x7F }, 'a'},
		{"plainJSON", plainJSON, func(c byte) bool { return c >= 0x20 && c < 0x7F && c != '\\' && c != '%' }, 'a'},
		{"isDigits", isDigits, isDigit, '0'},
	}
	for _, class := range classes {
		check := func(s []byte) {
			want := true
			for _, c := range s {
				want = want && class.byte(c)
			}
			if got := class.words(string(s)); got != want {
				t.Fatalf("%s(%q) = %v, want %v", class.name, s, got, want)
			}
		}
		base := []byte(strings.Repeat(string(class.valid), 43))
		for pos := range base {
			for c := range 256 {
				s := append([]byte(nil), base...)
				s[pos] = byte(c)
				check(s)
			}
		}
		for _, pos := range []int{3, 7, 15, 31, 39} {
			for pair := range 1 << 16 {
				s := append([]byte(nil), base...)
				s[pos], s[pos+1] = byte(pair), byte(pair>>8)
				check(s)
			}
		}
		check(nil)
	}
}

// parseDigits against strconv for every length up to 20 digits, with
// digits that exercise each position, and at its limits.
func TestParseDigitsMatchesStrconv(t *testing.T) {
	for length := 1; length <= 20; length++ {
		for _, fill := range []string{"0", "9", "1234567890", "9876543210", "1000000001"} {
			s := strings.Repeat(fill, 20)[:length]
			want, err := strconv.ParseUint(s, 10, 64)
			for _, limit := range []uint64{math.MaxUint32, 1e13, 1e18} {
				got, ok := parseDigits(s, limit)
				if wantOK := err == nil && want <= limit; ok != wantOK || ok && got != want {
					t.Errorf("parseDigits(%s, %d) = %d, %v; strconv says %d, %v", s, limit, got, ok, want, err)
				}
			}
		}
	}
}

// hexWord against encoding/hex: every byte value at every position of
// eight digits, and every pair of byte values side by side.
func TestHexWordMatchesEncodingHex(t *testing.T) {
	check := func(s []byte) {
		word, ok := hexWord(load64(string(s)))
		want, err := hex.DecodeString(string(s))
		if ok != (err == nil) || ok && binary.LittleEndian.Uint32(want) != word {
			t.Fatalf("hexWord(%q) = %08x, %v; encoding/hex says %x, %v", s, word, ok, want, err)
		}
	}
	base := []byte("0a9F5e3B")
	for pos := range base {
		for c := range 256 {
			s := append([]byte(nil), base...)
			s[pos] = byte(c)
			check(s)
		}
	}
	for _, pos := range []int{0, 3, 6} {
		for pair := range 1 << 16 {
			s := append([]byte(nil), base...)
			s[pos], s[pos+1] = byte(pair), byte(pair>>8)
			check(s)
		}
	}
}
