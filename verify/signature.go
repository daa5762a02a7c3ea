package verify

import (
	"crypto/sha1"
	"crypto/subtle"
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
	if a > b {
		a, b = b, a
	}
	if b > c {
		b, c = c, b
	}
	if a > b {
		a, b = b, a
	}
	return a, b, c
}

// matchingSecret returns the position in secrets of the one whose signature
// of timestamp and nonce is signature (hex in either case), or -1. Every
// secret is tried, and the digests are compared in constant time.
func matchingSecret(signature, timestamp, nonce string, secrets []string) int {
	var received [sha1.Size]byte
	if len(signature) != hex.EncodedLen(sha1.Size) {
		return -1
	}
	if _, err := hex.Decode(received[:], []byte(signature)); err != nil {
		return -1
	}
	match := -1
	for i, secret := range secrets {
		want := signatureSum(secret, timestamp, nonce)
		match = subtle.ConstantTimeSelect(subtle.ConstantTimeCompare(received[:], want[:]), i, match)
	}
	return match
}
