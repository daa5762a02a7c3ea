package verify

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
