package verify

import (
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"slices"
)

// Sign returns ZEGO's callback signature: the lower-case hex SHA-1 of the
// secret, timestamp and nonce sorted byte-wise as strings and concatenated.
func Sign(secret, timestamp, nonce string) string {
	sum := signatureSum(secret, timestamp, nonce)
	return hex.EncodeToString(sum[:])
}

func signatureSum(secret, timestamp, nonce string) [sha1.Size]byte {
	parts := [3]string{secret, timestamp, nonce}
	slices.Sort(parts[:])
	// Typical inputs fit the stack buffer; longer ones still work.
	var buf [160]byte
	b := append(buf[:0], parts[0]...)
	b = append(b, parts[1]...)
	b = append(b, parts[2]...)
	return sha1.Sum(b)
}

// validSignature reports whether signature, hex in either case, is the
// signature of timestamp and nonce under any of secrets. Every secret is
// tried, and the digests are compared in constant time.
func validSignature(signature, timestamp, nonce string, secrets []string) bool {
	var received [sha1.Size]byte
	if len(signature) != hex.EncodedLen(sha1.Size) {
		return false
	}
	if _, err := hex.Decode(received[:], []byte(signature)); err != nil {
		return false
	}
	match := 0
	for _, secret := range secrets {
		want := signatureSum(secret, timestamp, nonce)
		match |= subtle.ConstantTimeCompare(received[:], want[:])
	}
	return match == 1
}
