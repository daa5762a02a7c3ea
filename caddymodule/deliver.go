package caddymodule

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
)

// DefaultDeliverTimeout bounds a delivery attempt unless deliver_timeout
// says otherwise.
const DefaultDeliverTimeout = 10 * time.Second

// DefaultSyncTimeout bounds the delivery of a synchronous callback unless
// sync_timeout says otherwise: ZEGO waits 2.5 s for before_send_msg's
// answer (its Chinese page; the English one says 3 s), and an answer that
// comes later decides nothing.
const (
	DefaultSyncTimeout = 2 * time.Second
	maxSyncTimeout     = 2500 * time.Millisecond
)

// heldBodyLimit bounds the body of a failure held back from ZEGO: past it
// the failure is not worth keeping (ZEGO only needs its status), and a
// backend's huge error page cannot grow Caddy's memory.
const heldBodyLimit = 64 << 10

// attempt is what came of one call of the deliver chain.
type attempt struct {
	answer answerRecorder // in the attempt: one allocation for both
	status int            // the chain's status; 0 when it wrote none
	err    error          // the chain's error, or why the attempt failed
	// aborted is the panic with which reverse_proxy aborts a response it
	// cannot finish; re-raised once the attempt is settled.
	aborted any
	timeout time.Duration // deliver_timeout, for describe
	// refusal is the backend's reason when it refused the callback on
	// purpose: a 4xx carrying the Zego-Refused header.
	refusal  string
	duration time.Duration // how long the chain took
}

// refusedHeader is the response header with which a backend refuses a
// callback for good: received, and not wanted.
const refusedHeader = "Zego-Refused"

// accepted: the chain answered 2xx. A 2xx status line means the backend
// accepted the document, even if the response broke off later.
func (a *attempt) accepted() bool { return a.status >= 200 && a.status < 300 }

// refused: the backend received the callback and refused it on purpose,
// so neither ZEGO nor the spool should send it again.
func (a *attempt) refused() bool { return a.refusal != "" }

// taken: the backend has had the callback, accepted or refused: it is
// recorded as delivered.
func (a *attempt) taken() bool { return a.accepted() || a.refused() }

// deliver sends the normalized document (r already carries it) through the
// deliver chain, within deliver_timeout. An accepted answer reaches w as
// the chain writes it; any other is held back in the attempt, for the
// caller to spool or to pass on.
func (h *Handler) deliver(w http.ResponseWriter, r *http.Request, d *delivery) (a *attempt) {
	timeout := time.Duration(h.DeliverTimeout)
	if d.synchronous {
		timeout = time.Duration(h.SyncTimeout)
	}
	// A delivery must not depend on the sender staying connected: if ZEGO
	// hangs up, the attempt still finishes and its outcome is recorded, so
	// ZEGO's retry is a duplicate and not a second delivery.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), timeout)
	defer cancel()
	a = &attempt{timeout: timeout}
	rec := &a.answer
	rec.ResponseWriter = w
	rec.passAll = d.synchronous
	defer func() {
		if aborted := recover(); aborted != nil {
			a.aborted, a.status = aborted, rec.status
			a.err = fmt.Errorf("the response was aborted: %v", aborted)
		}
	}()
	// A copy of the URL: a rewrite in the chain must not change the URI
	// the spool keeps, or a redelivery would be rewritten twice.
	chained := r.WithContext(ctx)
	u := *r.URL
	chained.URL = &u
	started := time.Now()
	a.err = h.deliverChain.ServeHTTP(rec, chained)
	a.duration = time.Since(started)
	a.status = rec.status
	if reasons := rec.Header().Values(refusedHeader); len(reasons) > 0 && a.status >= 400 && a.status < 500 {
		a.refusal = cmp.Or(printable([]byte(reasons[0]), 200), "refused")
	}
	switch {
	case a.err == nil && a.status == 0:
		a.err = errNoAnswer
	case a.err == nil && rec.overflowed:
		a.err = errHeldBodyTooLarge
	case a.err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && !a.accepted():
		a.err = fmt.Errorf("%w: %w", errDeliverTimeout, a.err)
	}
	return a
}

var (
	errNoAnswer         = errors.New("the deliver chain wrote no answer")
	errHeldBodyTooLarge = errors.New("the failure's body is larger than 64KiB")
	errDeliverTimeout   = errors.New("no answer within deliver_timeout")
)

// answerFailure passes a failure that was not spooled on to ZEGO, so that
// ZEGO retries: the held answer as the backend wrote it, or Caddy's error.
func (a *attempt) answerFailure(w http.ResponseWriter) error {
	rec := &a.answer
	if rec.held && !rec.overflowed {
		w.WriteHeader(rec.status)
		_, err := w.Write(rec.body)
		return err
	}
	if handlerErr, ok := errors.AsType[caddyhttp.HandlerError](a.err); ok && !rec.held {
		// Caddy answers it, through handle_errors, which takes the status
		// only from a HandlerError itself: wrapped, respond would say 200.
		return handlerErr
	}
	clear(w.Header())
	return caddyhttp.Error(http.StatusBadGateway, a.err)
}

// describe says in a line, for an operator, why an attempt failed: the
// backend's status and the start of its body, or what went wrong.
func (a *attempt) describe() string {
	switch {
	case a.status != 0 && !a.accepted():
		body := printable(a.answer.body, 200)
		if body == "" {
			return "status " + strconv.Itoa(a.status)
		}
		return "status " + strconv.Itoa(a.status) + ": " + body
	case errors.Is(a.err, errDeliverTimeout):
		return "no answer within deliver_timeout (" + a.timeout.String() + ")"
	case errors.Is(a.err, context.Canceled):
		return "the attempt was cancelled (Caddy stopping, or the config that made it replaced)"
	case errors.Is(a.err, syscall.ECONNREFUSED):
		return "connection refused by the backend"
	case errors.Is(a.err, syscall.ECONNRESET), errors.Is(a.err, syscall.EPIPE), errors.Is(a.err, io.EOF), errors.Is(a.err, io.ErrUnexpectedEOF),
		// net/http's error for a pooled connection the backend closed
		// as the request went out is not exported; its text is stable.
		// So is the text of a write to a connection the transport closed
		// on the backend's hang-up, which reaches here as text alone.
		errors.Is(a.err, net.ErrClosed), strings.HasSuffix(a.err.Error(), "http: server closed idle connection"),
		strings.HasSuffix(a.err.Error(), "use of closed network connection"):
		return "the backend closed the connection without an answer"
	case a.err != nil:
		if dialErr, ok := errors.AsType[reverseproxy.DialError](a.err); ok {
			return describeDial(dialErr.Error())
		}
		if handlerErr, ok := errors.AsType[caddyhttp.HandlerError](a.err); ok && handlerErr.Err != nil {
			return "no usable answer from the backend: " + handlerErr.Err.Error()
		}
		return a.err.Error()
	}
	return "status " + strconv.Itoa(a.status)
}

// describeDial says why reverse_proxy could not connect, naming the
// backend's address. Its DialError hides what it wraps from errors.Is, so
// this reads the dialer's text: "dial tcp 10.0.0.7:8000: connect:
// connection refused", "dial tcp: lookup backend on 127.0.0.11:53: no such
// host".
func describeDial(text string) string {
	network, rest, _ := strings.Cut(strings.TrimPrefix(text, "dial "), " ")
	addr, reason, _ := strings.Cut(rest, ": ")
	if strings.HasSuffix(network, ":") { // no address: the name did not resolve
		addr, reason = "", rest
	}
	switch {
	case addr == ":0":
		return "the backend's address is empty (a placeholder in reverse_proxy without a value?)"
	case strings.HasSuffix(reason, "connection refused"):
		return "connection refused by the backend at " + addr
	case strings.HasSuffix(reason, "i/o timeout"):
		return "no connection to the backend at " + addr + " within the dial timeout"
	case strings.HasSuffix(reason, "no such host"):
		host, _, _ := strings.Cut(strings.TrimPrefix(reason, "lookup "), " ")
		return "the backend's host name " + host + " does not resolve (DNS: no such host)"
	case addr != "":
		return "cannot connect to the backend at " + addr + ": " + reason
	}
	return "cannot connect to the backend: " + text
}

// printable is up to n bytes of b, with anything not printable as '.'.
func printable(b []byte, n int) string {
	b = bytes.TrimSpace(b[:min(len(b), n)])
	out := make([]rune, 0, len(b))
	for _, r := range string(b) {
		if !unicode.IsPrint(r) {
			r = '.'
		}
		out = append(out, r)
	}
	return string(out)
}

// answerRecorder records the deliver chain's answer: an accepted one (2xx)
// goes to the client as it is written; any other is held back, with up to
// heldBodyLimit of its body, unless passAll: a synchronous callback's
// answer is the backend's decision, whatever its status.
type answerRecorder struct {
	caddyhttp.ResponseWriterWrapper
	passAll    bool
	status     int
	held       bool
	body       []byte
	overflowed bool
}

func (rec *answerRecorder) WriteHeader(status int) {
	if rec.status != 0 {
		return
	}
	if status < 200 { // informational: not the answer
		if !rec.held {
			rec.ResponseWriterWrapper.WriteHeader(status)
		}
		return
	}
	rec.status = status
	if status < 300 || rec.passAll {
		rec.ResponseWriterWrapper.WriteHeader(status)
		return
	}
	rec.held = true
}

func (rec *answerRecorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.WriteHeader(http.StatusOK)
	}
	if !rec.held {
		return rec.ResponseWriterWrapper.Write(b)
	}
	if rec.overflowed || len(rec.body)+len(b) > heldBodyLimit {
		// The rest is dropped, not refused: a refusal would make
		// reverse_proxy abort, and ZEGO would get a reset, not the 502.
		rec.overflowed = true
		return len(b), nil
	}
	rec.body = append(rec.body, b...)
	return len(b), nil
}

// ReadFrom keeps a held answer's body in the recorder.
func (rec *answerRecorder) ReadFrom(r io.Reader) (int64, error) {
	if rec.status != 0 && !rec.held {
		return rec.ResponseWriterWrapper.ReadFrom(r)
	}
	return io.Copy(writerOnly{rec}, r)
}

// FlushError flushes only an answer that goes to the client: flushing a
// held one would send the client a 200 with no body.
func (rec *answerRecorder) FlushError() error {
	if rec.held || rec.status == 0 {
		return nil
	}
	return http.NewResponseController(rec.ResponseWriterWrapper.ResponseWriter).Flush()
}

type writerOnly struct{ io.Writer }

// forwardedClientHeaders are the only headers of ZEGO's request that reach
// the upstream: ZEGO signs none, so the upstream must act on nothing a
// client could add. User-Agent helps diagnose; the W3C trace context lets
// Caddy's tracing join the upstream's spans; X-Forwarded-* are left to
// reverse_proxy, which keeps them only from trusted_proxies and sets its
// own otherwise. Headers the operator adds belong in reverse_proxy's
// header_up.
var forwardedClientHeaders = map[string]bool{
	"User-Agent":        true,
	"Traceparent":       true,
	"Tracestate":        true,
	"X-Forwarded-For":   true,
	"X-Forwarded-Proto": true,
	"X-Forwarded-Host":  true,
}

// forwardNormalized replaces the request body with the normalized document
// and the request's headers with the ones the upstream relies on, signed
// when sign_upstream is set; keepQuery keeps the query string.
func (h *Handler) forwardNormalized(r *http.Request, d *delivery, keepQuery bool) {
	callback, doc := &d.callback, d.doc
	for name := range r.Header {
		if !forwardedClientHeaders[name] {
			delete(r.Header, name)
		}
	}
	if !keepQuery {
		r.URL.RawQuery, r.URL.ForceQuery = "", false
	}
	// Header.Set would allocate each value's slice: the six share one, and
	// the three computed values share one string. The names are already
	// canonical.
	var buf [80]byte
	computed := strconv.AppendInt(buf[:0], int64(len(doc)), 10)
	lengthEnd := len(computed)
	computed = strconv.AppendUint(computed, uint64(callback.AppID), 10)
	appEnd := len(computed)
	computed = hex.AppendEncode(computed, d.idempotencyID[:])
	text := string(computed)
	names := [...]string{"Content-Type", "Content-Length", "X-Zego-Event", "X-Zego-App-Id", "X-Zego-Task-Id", "Idempotency-Key"}
	values := [len(names)]string{
		"application/json", text[:lengthEnd], callback.Event,
		text[lengthEnd:appEnd], callback.TaskID, text[appEnd:],
	}
	shared := values[:]
	for i, name := range names {
		if shared[i] != "" { // an event without a task_id has no X-Zego-Task-Id
			r.Header[name] = shared[i : i+1 : i+1]
		}
	}
	// Signed as sent: a redelivery days later carries a fresh timestamp.
	h.signer.sign(r.Header, text[appEnd:], doc)
	r.ContentLength = int64(len(doc))
	r.TransferEncoding = nil
	// The document is the whole body: a client's trailers stay behind.
	r.Trailer = nil
	r.Body = newDocBody(doc)
	// reverse_proxy calls GetBody to resend the body on a retry.
	r.GetBody = func() (io.ReadCloser, error) { return newDocBody(doc), nil }
}

// docBody is the normalized document as a request body.
type docBody struct{ bytes.Reader }

func newDocBody(doc []byte) *docBody {
	b := new(docBody)
	b.Reset(doc)
	return b
}

func (*docBody) Close() error { return nil }

// placeholderInJSON is a placeholder in a JSON config's strings.
var placeholderInJSON = regexp.MustCompile(`\{([A-Za-z0-9_.\-]+)\}`)

// redeliveryPlaceholders are the prefixes of the placeholders a redelivery
// has as ZEGO's callback had them: the request's (rebuilt from the item),
// the callback's, the client's address (stored with the item), the
// process's, and those the handlers inside deliver set themselves.
var redeliveryPlaceholders = []string{
	"http.request.", "http.zego.", "http.vars.client_ip", "http.vars.trusted_proxy",
	"env.", "file.", "system.", "time.",
	"http.reverse_proxy.", "http.response.", "http.regexp.", "http.error.",
}

// placeholdersSetOutside names the placeholders deliver's JSON uses that
// neither a redelivery has (redeliveryPlaceholders) nor a map or vars
// handler inside deliver sets: their values come from handlers before
// zego_callback, which a redelivery does not pass.
func placeholdersSetOutside(deliverJSON []byte) []string {
	var config any
	if json.Unmarshal(deliverJSON, &config) != nil {
		return nil
	}
	setInside := map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			switch v["handler"] {
			case "map":
				destinations, _ := v["destinations"].([]any)
				for _, d := range destinations {
					if s, ok := d.(string); ok {
						setInside[strings.Trim(s, "{}")] = true
					}
				}
			case "vars":
				for key := range v {
					setInside["http.vars."+key] = true
				}
			}
			for _, member := range v {
				walk(member)
			}
		case []any:
			for _, member := range v {
				walk(member)
			}
		}
	}
	walk(config)
	var missing []string
	for _, m := range placeholderInJSON.FindAllSubmatch(deliverJSON, -1) {
		name := string(m[1])
		inherent := slices.ContainsFunc(redeliveryPlaceholders, func(prefix string) bool { return strings.HasPrefix(name, prefix) })
		if !inherent && !setInside[name] && !slices.Contains(missing, "{"+name+"}") {
			missing = append(missing, "{"+name+"}")
		}
	}
	return missing
}
