package verify

import "math/bits"

// Word-at-a-time byte tests for the long scans of the hot path (JSON string
// contents, the output's escaping, replay_url): eight bytes or more per
// step. Each test answers exactly whether any byte of the word matches,
// which is all its callers ask; it may misplace which byte.
const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
)

// load64 reads s[:8] little-endian; the compiler merges the byte loads.
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// zeroBytes has the high bit of some byte set if and only if x has a zero
// byte.
func zeroBytes(x uint64) uint64 { return (x - lowBits) &^ x & highBits }

// bytesBelow has the high bit of some byte set if and only if x has a byte
// below n (n at most 0x80).
func bytesBelow(x uint64, n byte) uint64 { return (x - uint64(n)*lowBits) &^ x & highBits }

// escapeFree reports whether s is ASCII that JSON carries as it is: no
// control character, '"' or '\'.
func escapeFree(s string) bool {
	for ; len(s) >= 8; s = s[8:] {
		x := load64(s)
		// x^0x02 maps '"' to 0x20 and keeps control characters below it.
		if x&highBits|bytesBelow(x^0x02*lowBits, 0x21)|zeroBytes(x^'\\'*lowBits) != 0 {
			return false
		}
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// visibleASCII reports whether every byte of s is from '!' to '~'.
func visibleASCII(s string) bool {
	for ; len(s) >= 8; s = s[8:] {
		x := load64(s)
		if x&highBits|bytesBelow(x, '!')|zeroBytes(x^0x7F*lowBits) != 0 {
			return false
		}
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < '!' || c > '~' {
			return false
		}
	}
	return true
}

// controlFree reports whether s has no ASCII control character (below 0x20,
// or 0x7F).
func controlFree(s string) bool {
	for ; len(s) >= 8; s = s[8:] {
		x := load64(s)
		if bytesBelow(x, 0x20)|zeroBytes(x^0x7F*lowBits) != 0 {
			return false
		}
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7F {
			return false
		}
	}
	return true
}

// printableASCII reports whether every byte of s is printable ASCII, from
// 0x20 to 0x7E: no control character, no DEL, nothing above.
func printableASCII(s string) bool {
	// Four words a step: the whole body comes through here. Adding 1 to
	// each byte carries 0x7E into nothing and 0x7F into the high bit; a byte
	// that would carry into its neighbour has the high bit already.
	for ; len(s) >= 32; s = s[32:] {
		w, x, y, z := load64(s), load64(s[8:]), load64(s[16:]), load64(s[24:])
		if (w|x|y|z|(w+lowBits)|(x+lowBits)|(y+lowBits)|(z+lowBits))&highBits|
			bytesBelow(w, 0x20)|bytesBelow(x, 0x20)|bytesBelow(y, 0x20)|bytesBelow(z, 0x20) != 0 {
			return false
		}
	}
	for ; len(s) >= 8; s = s[8:] {
		x := load64(s)
		if (x|(x+lowBits))&highBits|bytesBelow(x, 0x20) != 0 {
			return false
		}
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7F {
			return false
		}
	}
	return true
}

// plainJSON reports whether every byte of s is printable ASCII (as
// printableASCII) and none is '\\' or '%': a JSON text whose strings need no
// decoding, JSON's or URL's. One pass, four words a step, four terms a
// word. In the lowest byte out of range (no carry or borrow reaches it from
// below) one term sets the high bit: x itself for 0x80 and above, x+1 for
// 0x7F, x^0x05 - 0x21 for a control character or '%' (which x^0x05 maps
// below 0x21, and no other byte), x^'\\' - 1 for '\\'. With every byte in
// range none does.
func plainJSON(s string) bool {
	const (
		five      = 0x05 * lowBits
		below     = 0x21 * lowBits
		backslash = '\\' * lowBits
	)
	for ; len(s) >= 32; s = s[32:] {
		w, x, y, z := load64(s), load64(s[8:]), load64(s[16:]), load64(s[24:])
		if (w|(w+lowBits)|((w^five)-below)|((w^backslash)-lowBits)|
			x|(x+lowBits)|((x^five)-below)|((x^backslash)-lowBits)|
			y|(y+lowBits)|((y^five)-below)|((y^backslash)-lowBits)|
			z|(z+lowBits)|((z^five)-below)|((z^backslash)-lowBits))&highBits != 0 {
			return false
		}
	}
	for ; len(s) >= 8; s = s[8:] {
		x := load64(s)
		if (x|(x+lowBits)|((x^five)-below)|((x^backslash)-lowBits))&highBits != 0 {
			return false
		}
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7F || c == '\\' || c == '%' {
			return false
		}
	}
	return true
}

// parseDigits is the value of s, which isDigits accepted; ok is false when
// it exceeds limit, which must be below math.MaxUint64/10 so that no step
// overflows.
func parseDigits(s string, limit uint64) (n uint64, ok bool) {
	i := 0
	if len(s) >= 8 { // the first eight digits at once
		if n, i = eightDigits(load64(s)), 8; n > limit {
			return 0, false
		}
	}
	for ; i < len(s); i++ {
		if n = n*10 + uint64(s[i]-'0'); n > limit {
			return 0, false
		}
	}
	return n, true
}

// eightDigits is the value of eight ASCII digits loaded little-endian (the
// first digit, the most significant, in the lowest byte): pairs, then
// fours, then the eight, each step a multiply (as in simdjson).
func eightDigits(x uint64) uint64 {
	x -= '0' * lowBits
	x = x * (10<<8 + 1) >> 8
	x = (x & 0x00FF00FF00FF00FF) * (100<<16 + 1) >> 16
	return (x & 0x0000FFFF0000FFFF) * (10000<<32 + 1) >> 32
}

// isDigits reports whether every byte of s is a decimal digit, a word a
// step: below '0' borrows into the high bit, above '9' carries into it
// when 0x46 is added (and above 0xB9 is caught by the borrow).
func isDigits(s string) bool {
	for ; len(s) >= 8; s = s[8:] {
		x := load64(s)
		if ((x-'0'*lowBits)|(x+0x46*lowBits))&highBits != 0 {
			return false
		}
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// quoteFrom is the index of the first '"' in s at or after i, or -1; a word
// a step (strings.IndexByte costs more than a short key takes to scan).
func quoteFrom(s string, i int) int {
	rest := s[i:]
	for len(rest) >= 8 {
		// The lowest byte zeroBytes marks is exact: no borrow reaches it.
		if m := zeroBytes(load64(rest) ^ '"'*lowBits); m != 0 {
			return len(s) - len(rest) + bits.TrailingZeros64(m)/8
		}
		rest = rest[8:]
	}
	for j := 0; j < len(rest); j++ {
		if rest[j] == '"' {
			return len(s) - len(rest) + j
		}
	}
	return -1
}

// quotedDigits reads the decimal digits from s[i] to the next '"': their
// value and the quote's index, a word a step. quote is -1 when there is no
// digit, a byte before the quote is not one, or there are more than 19 (so
// that no step overflows).
func quotedDigits(s string, i int) (n uint64, quote int) {
	j := i
	for ; j+8 <= len(s); j += 8 {
		x := load64(s[j:])
		// As isDigits; the lowest byte marked is exact (nothing below it
		// borrows or carries), and every byte below it is a digit.
		nonDigits := ((x - '0'*lowBits) | (x + 0x46*lowBits)) & highBits
		if nonDigits == 0 {
			if j-i > 8 { // 24 digits or more
				return 0, -1
			}
			n = n*1e8 + eightDigits(x)
			continue
		}
		k := bits.TrailingZeros64(nonDigits) / 8
		if s[j+k] != '"' || j+k == i || j+k-i > 19 {
			return 0, -1
		}
		// The k digits, after 8-k zeros, as eight digits.
		return n*pow10[k] + eightDigits(x<<(64-8*k)|'0'*lowBits>>(8*k)), j + k
	}
	for ; j < len(s) && isDigit(s[j]); j++ {
		n = n*10 + uint64(s[j]-'0')
	}
	if j == len(s) || s[j] != '"' || j == i || j-i > 19 {
		return 0, -1
	}
	return n, j
}

// pow10 holds 10^k for k up to 7.
var pow10 = [8]uint64{1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7}

// load32 reads s[:4] little-endian.
func load32(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}
