package verify

import (
	"errors"
	"strconv"
)

// Error is a rejection with a stable reason code. Every error this package
// returns wraps exactly one of the sentinels below: test with errors.Is and
// read the code with ReasonOf.
type Error struct{ reason string }

// Error returns the reason code.
func (e *Error) Error() string { return e.reason }

// Reason returns the stable, machine-readable reason code.
func (e *Error) Reason() string { return e.reason }

// The sentinel errors, one per reason code. The first three are decided at
// the HTTP level (by the Caddy handler), before a body is parsed.
var (
	// ErrMethodNotAllowed: the request method is not POST.
	ErrMethodNotAllowed = &Error{"method_not_allowed"}
	// ErrUnsupportedEncoding: a Content-Encoding other than identity.
	ErrUnsupportedEncoding = &Error{"unsupported_encoding"}
	// ErrBodyTooLarge: the body exceeds the configured limit.
	ErrBodyTooLarge = &Error{"body_too_large"}
	// ErrMalformedBody: neither a JSON object, a URL-encoded JSON object nor
	// a form; invalid JSON or UTF-8; data after the object; nesting too deep.
	ErrMalformedBody = &Error{"malformed_body"}
	// ErrMissingField: a required field is absent or null.
	ErrMissingField = &Error{"missing_field"}
	// ErrInvalidField: a field has the wrong type or format.
	ErrInvalidField = &Error{"invalid_field"}
	// ErrDuplicateField: a key is given twice.
	ErrDuplicateField = &Error{"duplicate_field"}
	// ErrAppNotAllowed: the appid is not in the allowlist.
	ErrAppNotAllowed = &Error{"app_not_allowed"}
	// ErrBadSignature: the signature matches none of the secrets.
	ErrBadSignature = &Error{"bad_signature"}
	// ErrStaleTimestamp: the timestamp is further than MaxAge from now, in
	// the past or in the future.
	ErrStaleTimestamp = &Error{"stale_timestamp"}
	// ErrEventNotAllowed: the event is not one of the allowed events.
	ErrEventNotAllowed = &Error{"event_not_allowed"}
	// ErrWrongProduct: the callback is another product's (ZIM's
	// room_create on a route that receives RTC's, say): ZEGO sends each
	// product to its own URL, so this one is misconfigured or misrouted.
	ErrWrongProduct = &Error{"wrong_product"}
	// ErrReplayedSignature: a timestamp, nonce and signature already seen
	// with another document. ZEGO signs no body field, so this is how a
	// captured signature reused on a tampered body shows. Decided by the
	// caller's replay store, keyed by Callback.SignatureID.
	ErrReplayedSignature = &Error{"replayed_signature"}
	// ErrInFlight: another delivery of the same callback is being forwarded
	// right now. Decided by the caller's replay store.
	ErrInFlight = &Error{"in_flight"}
)

// ReasonOK is the reason code of an accepted callback.
const ReasonOK = "ok"

// ReasonOf returns the reason code carried by err: ReasonOK for nil, the
// sentinel's code for errors from this package, and "" for anything else.
func ReasonOf(err error) string {
	if err == nil {
		return ReasonOK
	}
	if e, ok := err.(*Error); ok { // a sentinel itself, as most are
		return e.reason
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.reason
	}
	return ""
}

// fieldError adds which field failed, and why, to a sentinel. It never holds
// a field's value: values are attacker-controlled and may be secrets.
type fieldError struct {
	sentinel *Error
	field    string
	why      string
}

func (e *fieldError) Error() string {
	return e.sentinel.reason + ": " + e.field + ": " + e.why
}

func (e *fieldError) Unwrap() error { return e.sentinel }

func invalid(field, why string) error { return &fieldError{ErrInvalidField, field, why} }

func malformed(why string) error { return &fieldError{ErrMalformedBody, "body", why} }

// quoteKey renders an attacker-chosen key for an error message: quoted,
// ASCII only and cut short, so it cannot forge log lines or flood them.
func quoteKey(key string) string {
	const maxKeyInMessage = 40
	if len(key) > maxKeyInMessage {
		return strconv.QuoteToASCII(key[:maxKeyInMessage]) + "..."
	}
	return strconv.QuoteToASCII(key)
}
