package caddymodule

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// The edge signs what it forwards with Standard Webhooks
// (https://www.standardwebhooks.com, spec: github.com/standard-webhooks):
// ZEGO's signature covers no body, and the edge forwards a document it
// rebuilt, so this is how a backend knows a document came through the
// edge. Any Standard Webhooks library verifies it.

const (
	upstreamSecretPrefix = "whsec_"
	// minUpstreamKey is the least key length accepted, in bytes: the
	// libraries generate 24 to 32.
	minUpstreamKey = 24
	// upstreamKeyBytes is the length of a key upstream-secret makes.
	upstreamKeyBytes = 32
)

// upstreamSigner signs forwarded documents with one or more keys; nil
// signs nothing.
type upstreamSigner struct {
	// macs are one pool of HMAC-SHA256 states per key, the first the
	// current one: a state costs several allocations to make.
	macs []*sync.Pool
	// now dates each signature: the wall clock itself (the backend's
	// library compares it with its own), not the handler's step-safe one.
	now func() time.Time
}

// newUpstreamSigner resolves the sign_upstream secrets' placeholders and
// decodes them, or returns nil when there are none. No message holds a
// secret.
func newUpstreamSigner(repl *caddy.Replacer, raw []string) (*upstreamSigner, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	secrets, err := resolveSecrets(repl, raw, "sign_upstream: secret")
	if err != nil {
		return nil, err
	}
	s := &upstreamSigner{macs: make([]*sync.Pool, len(secrets)), now: time.Now}
	for i, secret := range secrets {
		key, err := decodeUpstreamSecret(secret)
		if err != nil {
			return nil, fmt.Errorf("sign_upstream: secret %d of %d %w (%s); make one with 'caddy zego-callback upstream-secret'", i+1, len(secrets), err, notShown)
		}
		s.macs[i] = &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}
	}
	return s, nil
}

// decodeUpstreamSecret decodes a whsec_<base64> secret.
func decodeUpstreamSecret(secret string) ([]byte, error) {
	encoded, found := strings.CutPrefix(secret, upstreamSecretPrefix)
	if !found {
		return nil, fmt.Errorf("does not start with %s", upstreamSecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil, fmt.Errorf("is not %s followed by base64", upstreamSecretPrefix)
	}
	if len(key) < minUpstreamKey {
		return nil, fmt.Errorf("decodes to %d bytes, fewer than %d", len(key), minUpstreamKey)
	}
	return key, nil
}

// newUpstreamSecret makes a fresh random secret in Standard Webhooks' form.
func newUpstreamSecret() string {
	key := make([]byte, upstreamKeyBytes)
	_, _ = rand.Read(key) // never fails (crypto/rand)
	return upstreamSecretPrefix + base64.StdEncoding.EncodeToString(key)
}

// sign sets webhook-id, webhook-timestamp (now, unix seconds) and
// webhook-signature: one v1 signature of "<id>.<timestamp>.<body>" per
// key, space-separated.
func (s *upstreamSigner) sign(header http.Header, id string, body []byte) {
	if s == nil {
		return
	}
	sent := s.now()
	var buf [128]byte
	prefix := append(append(buf[:0], id...), '.')
	idEnd := len(prefix) - 1
	prefix = strconv.AppendInt(prefix, sent.Unix(), 10)
	timestampEnd := len(prefix)
	prefix = append(prefix, '.')
	signatures := make([]byte, 0, len(s.macs)*48)
	var sum [sha256.Size]byte
	for i, pool := range s.macs {
		mac := pool.Get().(hash.Hash)
		mac.Reset()
		mac.Write(prefix)
		mac.Write(body)
		if i > 0 {
			signatures = append(signatures, ' ')
		}
		signatures = append(signatures, "v1,"...)
		signatures = base64.StdEncoding.AppendEncode(signatures, mac.Sum(sum[:0]))
		pool.Put(mac)
	}
	// The spec's names are lower-case; HTTP's are case-insensitive, and Go
	// sends them canonical. The three values share one slice.
	values := []string{id, string(prefix[idEnd+1 : timestampEnd]), string(signatures)}
	header["Webhook-Id"] = values[0:1:1]
	header["Webhook-Timestamp"] = values[1:2:2]
	header["Webhook-Signature"] = values[2:3:3]
}
