package verify

import (
	"crypto/sha1"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
)

// Sign returns ZEGO's callback signature: the lower-case hex SHA-1 of the
// secret, timestamp and nonce sorted byte-wise as strings and concatenated.
func Sign(secret, timestamp, nonce string) string {
	sum := signatureSum(secret, timestamp, nonce)
	return hex.EncodeToString(sum[:])
}

func signatureSum(secret, timestamp, nonce string) [sha1.Size]byte {
	a, b, c := sortThree(secret, timestamp, nonce)
	// Typical inputs fit the stack buffer; longer ones still work.
	var buf [160]byte
	joined := append(buf[:0], a...)
	joined = append(joined, b...)
	joined = append(joined, c...)
	return sha1.Sum(joined)
}

// sortThree orders three strings byte-wise, as PHP's SORT_STRING and Java's
// Arrays.sort do in ZEGO's samples.
func sortThree(a, b, c string) (string, string, string) {
	if less(b, a) {
		a, b = b, a
	}
	if less(c, b) {
		b, c = c, b
	}
	if less(b, a) {
		a, b = b, a
	}
	return a, b, c
}

// less is a < b, decided by the first bytes when they differ, as they
// usually do here, without calling the runtime's general comparison.
func less(a, b string) bool {
	if a != "" && b != "" && a[0] != b[0] {
		return a[0] < b[0]
	}
	return a < b
}

// matchingSecret returns the position in secrets of the one whose signature
// of timestamp and nonce is signature (hex in either case), or -1. Every
// secret is tried, and each digest is compared in full whatever the first
// difference.
func matchingSecret(signature, timestamp, nonce string, secrets []string) int {
	if len(signature) != hex.EncodedLen(sha1.Size) {
		return -1
	}
	// The received digest as five words, decoded eight digits at a time.
	var received [sha1.Size / 4]uint32
	valid := true
	for i := range received {
		var ok bool
		received[i], ok = hexWord(load64(signature[8*i:]))
		valid = valid && ok
	}
	if !valid {
		return -1
	}
	match := -1
	for i, secret := range secrets {
		want := signatureSum(secret, timestamp, nonce)
		var differ uint32
		for j, word := range received {
			differ |= word ^ binary.LittleEndian.Uint32(want[4*j:])
		}
		match = subtle.ConstantTimeSelect(subtle.ConstantTimeEq(int32(differ), 0), i, match)
	}
	return match
}

// hexWord decodes eight hex digits, either case, loaded little-endian, into
// the four bytes they spell (in memory order, as a little-endian word); ok
// is false if any byte is not a hex digit. Per byte: a digit's value is its
// low nibble, a letter's (bit 6 set) its low nibble plus 9.
func hexWord(x uint64) (word uint32, ok bool) {
	lower := x | 0x20*lowBits
	// For ASCII bytes, b + (0x80 - lo) sets the high bit exactly when b >= lo.
	digit := (x + (0x80-'0')*lowBits) &^ (x + (0x80-'9'-1)*lowBits)
	letter := (lower + (0x80-'a')*lowBits) &^ (lower + (0x80-'f'-1)*lowBits)
	if x&highBits != 0 || (digit|letter)&highBits != highBits {
		return 0, false
	}
	v := x&(0x0F*lowBits) + 9*(x>>6&lowBits)
	// Nibble pairs into bytes, then the four bytes together.
	v = (v<<4 | v>>8) & 0x00FF00FF00FF00FF
	v = (v | v>>8) & 0x0000FFFF0000FFFF
	return uint32(v | v>>16), true
}
