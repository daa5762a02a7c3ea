package verify_test

import (
	"errors"
	"testing"
	"time"

	"github.com/zegoedge/caddy-zego-callback/verify"
)

// TestSecretIndex: callers keep the records of different secrets apart by
// the secret that verified a callback, so it must name the right one, among
// the top-level secrets and inside an app's own.
func TestSecretIndex(t *testing.T) {
	now := func() time.Time { return time.Unix(1470820198, 0) }
	for _, tc := range []struct {
		name string
		opts verify.Options
		want int
	}{
		{"only secret", verify.Options{Secrets: []string{"secret"}}, 0},
		{"second of two", verify.Options{Secrets: []string{"new-secret", "secret"}}, 1},
		{"first of three", verify.Options{Secrets: []string{"secret", "a", "b"}}, 0},
		{"third inside the app's own", verify.Options{Secrets: []string{"secret"}, AppSecrets: map[uint32][]string{1: {"a", "b", "secret"}}}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.MaxAge, tc.opts.Now = 5*time.Minute, now
			v, err := verify.New(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			c, err := v.Verify([]byte(zegoExample(zegoExampleSignature)))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.SecretIndex(); got != tc.want {
				t.Fatalf("SecretIndex() = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestValidUntil: the window compares whole seconds, so the worked example
// (timestamp 1470820198) with MaxAge 1s passes up to 1470820199.999… and
// fails from 1470820200; ValidUntil must be exactly that first failing
// moment, whatever fraction of a second MaxAge has.
func TestValidUntil(t *testing.T) {
	const ts = 1470820198
	for _, maxAge := range []time.Duration{time.Second, 1500 * time.Millisecond, 5 * time.Minute} {
		var clock time.Time
		v, err := verify.New(verify.Options{Secrets: []string{"secret"}, MaxAge: maxAge, Now: func() time.Time { return clock }})
		if err != nil {
			t.Fatal(err)
		}
		clock = time.Unix(ts, 0)
		c, err := v.Verify([]byte(zegoExample(zegoExampleSignature)))
		if err != nil {
			t.Fatal(err)
		}
		until := v.ValidUntil(&c)
		clock = until.Add(-time.Nanosecond)
		if _, err := v.Verify([]byte(zegoExample(zegoExampleSignature))); err != nil {
			t.Errorf("max_age %s: a nanosecond before ValidUntil (%s) the callback fails: %v", maxAge, until, err)
		}
		clock = until
		if _, err := v.Verify([]byte(zegoExample(zegoExampleSignature))); err == nil {
			t.Errorf("max_age %s: at ValidUntil (%s) the callback still passes", maxAge, until)
		}
	}
}

// TestDigitsRejectSpaces: a timestamp of a space and seven zeros is not
// digits (found by FuzzParse: a word-at-a-time check written without
// parentheses took the space for a digit, and the fast path then copied it
// into the document as a number).
func TestDigitsRejectSpaces(t *testing.T) {
	body := `{"appid":"1","event":"compose","replay_url":"https://example.com/a.mp4","task_id":"t1","code":"0","timestamp":" 0000000","nonce":"123412","signature":"` + zegoExampleSignature + `"}`
	if _, err := verify.Parse([]byte(body)); !errors.Is(err, verify.ErrInvalidField) {
		t.Fatalf("err = %v, want invalid_field", err)
	}
}
