package caddymodule

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// The known answers: the first is Standard Webhooks' published example
// (its libraries' tests), both computed outside this code with
//
//	printf '%s' 'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}' |
//	  openssl dgst -sha256 -mac HMAC -macopt hexkey:<the key in hex> -binary | base64
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	// base64 of "zego-callback-rotation-key-0123"
	rotationSecret    = "whsec_emVnby1jYWxsYmFjay1yb3RhdGlvbi1rZXktMDEyMw=="
	rotationSignature = "v1,JtcFd/ObR1R2E/lPpW3p52vdazQTMMW1Fs7DsIFycXQ="
)

func TestUpstreamSignatureKnownAnswers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		secrets []string
		want    string
	}{
		{"the spec's example", []string{specSecret}, specSignature},
		{"rotation: both, current first", []string{specSecret, rotationSecret}, specSignature + " " + rotationSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			signer, err := newUpstreamSigner(caddy.NewReplacer(), tc.secrets)
			if err != nil {
				t.Fatal(err)
			}
			header := make(http.Header)
			signer.now = func() time.Time { return time.Unix(1614265330, 0) }
			signer.sign(header, "msg_p5jXN8AQM9LWM0D4loKWxJek", []byte(`{"test": 2432232314}`))
			if got := header.Get("webhook-signature"); got != tc.want {
				t.Fatalf("webhook-signature %q, want %q", got, tc.want)
			}
			if header.Get("webhook-id") != "msg_p5jXN8AQM9LWM0D4loKWxJek" || header.Get("webhook-timestamp") != "1614265330" {
				t.Fatalf("headers %v", header)
			}
		})
	}
}

func TestUpstreamSecretErrors(t *testing.T) {
	t.Setenv("ZEGO_TEST_EMPTY_UPSTREAM", "")
	const visible = "c2VjcmV0LXRoYXQtbXVzdC1ub3Qtc2hvdw" // must never appear
	for _, tc := range []struct{ name, secret, want string }{
		{"no prefix", visible + "==", "sign_upstream: secret 1 of 1 does not start with whsec_"},
		{"not base64", "whsec_" + visible + "!", "is not whsec_ followed by base64"},
		{"too short", "whsec_" + base64.StdEncoding.EncodeToString([]byte("short-key-23-bytes-long")), "decodes to 23 bytes, fewer than 24"},
		{"unset variable", "{env.ZEGO_TEST_EMPTY_UPSTREAM}", "sign_upstream: secret 1 of 1 is empty after resolving placeholders"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newUpstreamSigner(caddy.NewReplacer(), []string{tc.secret})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), visible[:12]) {
				t.Fatalf("the error shows the secret: %v", err)
			}
		})
	}
	if secret := newUpstreamSecret(); !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("upstream-secret made %q", secret)
	} else if _, err := decodeUpstreamSecret(secret); err != nil {
		t.Fatalf("upstream-secret made a secret sign_upstream refuses: %v", err)
	}
}

// TestRedeliveryDaysLaterIsSignedFresh: a spool redelivery three days
// after the callback arrived carries the callback's webhook-id and a
// signature made when it is sent, so that a backend's five-minute
// tolerance holds.
func TestRedeliveryDaysLaterIsSignedFresh(t *testing.T) {
	rig := newSpoolRig(t, nil, Spool{})
	var err error
	if rig.h.signer, err = newUpstreamSigner(caddy.NewReplacer(), []string{specSecret}); err != nil {
		t.Fatal(err)
	}
	arrived := time.Now()
	item := rig.item(t, arrived, arrived, nil)
	later := arrived.Add(72 * time.Hour)
	rig.h.signer.now = func() time.Time { return later }
	var got http.Header
	rig.chain.during = func(r *http.Request) { got = r.Header.Clone() }
	rig.w.pass()
	if got == nil {
		t.Fatal("not redelivered")
	}
	timestamp := got.Get("webhook-timestamp")
	if got.Get("webhook-id") != item.ID || got.Get("webhook-id") != got.Get("Idempotency-Key") {
		t.Fatalf("webhook-id %q, want the Idempotency-Key %q", got.Get("webhook-id"), item.ID)
	}
	if want := strconv.FormatInt(later.Unix(), 10); timestamp != want {
		t.Fatalf("webhook-timestamp %q, want %s (when it was sent)", timestamp, want)
	}
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(specSecret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(item.ID + "." + timestamp + "." + string(item.Document)))
	if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); got.Get("webhook-signature") != want {
		t.Fatalf("webhook-signature %q, want %q", got.Get("webhook-signature"), want)
	}
}
