// Package caddymodule plugs the verify package into Caddy as the HTTP
// handler http.handlers.zego_callback and the Caddyfile directive
// zego_callback.
package caddymodule

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/zegoedge/caddy-zego-callback/verify"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Defaults for the optional settings.
const (
	DefaultMaxAge  = 5 * time.Minute
	DefaultMaxBody = 64 << 10
	// A compose callback is well under 4KiB; larger limits only help floods.
	maxBodyLimit = 1 << 20
)

// Handler verifies ZEGOCLOUD server callbacks (the Media File Merge Completed
// callback, event "compose") and hands the next handler, normally
// reverse_proxy, a normalized JSON document in place of ZEGO's body.
//
// A callback that is forged, stale, from another app, for another event or
// malformed is answered with an error status (see the README's table) and
// never reaches the next handler.
//
// This handler sets these placeholders:
//
//	{http.zego.event}    the callback's event, e.g. compose
//	{http.zego.app_id}   the ZEGO AppID
//	{http.zego.task_id}  the merge task's ID
//	{http.zego.code}     ZEGO's result code (0 is success)
//	{http.zego.error}    the reason code of a rejection, e.g. bad_signature
type Handler struct {
	// Secrets are the callback secrets (ZEGO's callbacksecret) of apps
	// without an entry in Apps. A callback signed with any of them passes,
	// so a secret can be rotated. Caddy placeholders such as
	// {env.ZEGO_CALLBACK_SECRET} or {file./run/secrets/zego} are resolved
	// when the config loads. Required unless Apps covers every allowed app.
	Secrets []string `json:"secrets,omitempty"`

	// Apps are per-app secrets for edges serving several ZEGO apps: a
	// callback whose appid is listed is verified against that app's secrets
	// only. Listing apps makes them the allowlist unless AppIDs is given.
	// Default: none.
	Apps []AppSecrets `json:"apps,omitempty"`

	// AppIDs is the allowlist of ZEGO AppIDs. Default: the apps in Apps, or
	// any app when Apps is empty.
	AppIDs []uint32 `json:"app_ids,omitempty"`

	// Events are the accepted event names, or ["all"] for every event the
	// module supports (see the README's table). Default: ["compose"].
	Events []string `json:"events,omitempty"`

	// MaxAge bounds how far the callback's timestamp may be from now, in the
	// past or in the future. Default: 5m.
	MaxAge caddy.Duration `json:"max_age,omitempty"`

	// MaxBody is the largest body accepted, in bytes, at most 1MiB.
	// Default: 65536 (64KiB).
	MaxBody int64 `json:"max_body,omitempty"`

	// DedupeTTL is how long a delivered callback is remembered: a later
	// delivery of the same app, event and task is answered 200 with
	// X-Zego-Duplicate: 1 and not forwarded. Default: 10m.
	DedupeTTL caddy.Duration `json:"dedupe,omitempty"`

	// DedupeDisabled turns off duplicate and replay protection: every
	// verified callback is forwarded. Default: false.
	DedupeDisabled bool `json:"dedupe_disabled,omitempty"`

	// DedupeStore is where dedupe records live: "memory" (this process;
	// kept across config reloads) or "storage" (Caddy's configured storage,
	// shared by every instance using it). Default: "memory".
	DedupeStore string `json:"dedupe_store,omitempty"`

	// DedupeMax bounds the memory store's records; the oldest is evicted
	// first. Each callback takes two. Default: 100000.
	DedupeMax int `json:"dedupe_max,omitempty"`

	// Spool, when set, keeps callbacks the upstream did not accept in
	// Caddy's storage and redelivers them (see Spool). It needs dedupe.
	// Default: off.
	Spool *Spool `json:"spool,omitempty"`

	// KeepQuery forwards the request's query string to the upstream. ZEGO
	// signs no part of the URL, so by default the upstream gets none of it,
	// and a framework that merges query parameters into the request's (or
	// honours _method) cannot be steered by a forged query. Default: false.
	KeepQuery bool `json:"keep_query,omitempty"`

	verifier    *verify.Verifier
	allowedApps []uint32 // sorted; labels metrics
	logger      *zap.Logger
	metrics     *handlerMetrics
	// One dedupe store per secret (see secretScope): topStores follow
	// Secrets, appStores each app's own secrets, in the verifier's order.
	topStores      []scopedStore
	appStores      map[uint32][]scopedStore
	storesByScope  map[string]dedupeStore
	memoryPoolKeys []string
	spoolStorage   certmagic.Storage
	// now is the clock; nil means time.Now. Tests set it.
	now func() time.Time
}

// AppSecrets are the callback secrets of one ZEGO app.
type AppSecrets struct {
	// AppID is the ZEGO AppID. Required.
	AppID uint32 `json:"app_id"`
	// Secrets verify this app's callbacks; any one matching passes.
	// Placeholders are resolved as for Handler.Secrets. At least one.
	Secrets []string `json:"secrets"`
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.zego_callback",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision checks the settings, resolves placeholders in the secrets, sets
// defaults and builds the verifier.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	h.applyDefaults()
	// Checked before verify.New, whose errors name Go fields, not options.
	opts, err := h.verifyOptions(caddy.NewReplacer())
	if err != nil {
		return err
	}
	opts.Now = h.clock()
	verifier, err := verify.New(opts)
	if err != nil {
		return fmt.Errorf("zego_callback: %w", err)
	}
	if h.metrics, err = newHandlerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	h.verifier = verifier
	h.allowedApps = verifier.AppIDs()
	if err := h.provisionDedupe(ctx, opts.Secrets, opts.AppSecrets); err != nil {
		return err
	}
	if err := h.provisionSpool(ctx); err != nil {
		return err
	}
	h.warnAboutRisks()
	return nil
}

// resolveSecrets resolves placeholders. The secrets' text may appear in no
// message, so a failure says which one by position.
func resolveSecrets(repl *caddy.Replacer, raw []string, what string) ([]string, error) {
	secrets := make([]string, len(raw))
	for i, secret := range raw {
		secrets[i] = repl.ReplaceKnown(secret, "")
		if secrets[i] == "" {
			return nil, fmt.Errorf("%s %d of %d is empty after resolving placeholders: is its environment variable set for the Caddy process, or its file present and not empty?", what, i+1, len(raw))
		}
	}
	return secrets, nil
}

// warnAboutRisks logs settings that work but weaken the edge, once per
// distinct settings: a reload of the same config stays quiet.
func (h *Handler) warnAboutRisks() {
	settings := h.settingsWithoutSecrets()
	if len(h.verifier.AppIDs()) == 0 {
		h.warnOnce(settings, "no app_id allowlist: callbacks from any ZEGO app signed with the secret are accepted")
	}
	if time.Duration(h.MaxAge) > 15*time.Minute {
		h.warnOnce(settings, "max_age is long: a captured callback stays replayable that long", zap.Duration("max_age", time.Duration(h.MaxAge)))
	}
	if h.DedupeDisabled {
		h.warnOnce(settings, "dedupe is off: ZEGO's retries reach the upstream, and a captured signature can be replayed on a tampered body within max_age")
	}
}

func (h *Handler) clock() func() time.Time {
	if h.now != nil {
		return h.now
	}
	return time.Now
}

// Validate checks the settings that Provision does not use.
func (h *Handler) Validate() error {
	if h.MaxBody < 1 || h.MaxBody > maxBodyLimit {
		return fmt.Errorf("max_body must be from 1 to %d bytes (1MiB), not %d: e.g. 64KiB in a Caddyfile, 65536 in JSON", maxBodyLimit, h.MaxBody)
	}
	return nil
}

// ServeHTTP verifies the callback and, when it is genuine and not a
// duplicate, replaces the request body with the normalized document and
// calls next: verify, dedupe, forward, record.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	start := time.Now()
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	var d *delivery
	redelivery := redeliveryOf(r)
	if redelivery != nil {
		// The spool's own request: verified when it first arrived.
		redelivery.reached = true
		d = redelivery.delivery(start)
	} else {
		callback, err := h.verifyRequest(w, r)
		if err != nil {
			return h.reject(r, repl, &callback, err, start)
		}
		d = &delivery{
			callback:      callback,
			roomID:        callback.RoomID(),
			streamID:      callback.StreamID(),
			doc:           callback.AppendJSON(make([]byte, 0, 512)),
			idempotencyID: callback.IdempotencyID(),
			start:         start,
		}
	}
	setPlaceholders(repl, d)
	if !h.DedupeDisabled {
		var err error
		if redelivery != nil {
			err = h.claimRedelivery(r, d)
		} else {
			err = h.claim(r, d)
		}
		if errors.Is(err, errDuplicate) {
			return h.answerDuplicate(w, r, d, redelivery)
		}
		if redelivery != nil && err != nil {
			redelivery.outcome, redelivery.err = verify.ReasonOf(err), err
			if errors.Is(err, errForeignRedelivery) {
				return caddyhttp.Error(http.StatusForbidden, err)
			}
		}
		if err != nil {
			return h.reject(r, repl, &d.callback, err, start)
		}
		defer h.release(r, d)
	}
	return h.forward(w, r, d, redelivery, next)
}

// delivery is a verified callback on its way to the upstream.
type delivery struct {
	callback verify.Callback
	// The event's room and stream, kept apart from callback because a
	// redelivery rebuilds only the exported part of it.
	roomID, streamID string
	doc              []byte // the normalized document
	idempotencyID    [16]byte
	start            time.Time
	// The records of the secret that verified it; nil with dedupe off.
	store    dedupeStore
	scope    string
	inFlight bool // claim marked it in flight
}

// forward hands the normalized document to next and settles the outcome
// however next ends: with an answer, an error, or the panic reverse_proxy
// uses to abort a response it cannot finish. With the spool on, a failure
// is held back until the callback is spooled: then ZEGO gets 202.
func (h *Handler) forward(w http.ResponseWriter, r *http.Request, d *delivery, redelivery *redelivery, next caddyhttp.Handler) (err error) {
	forwardNormalized(r, d, h.KeepQuery)
	h.metrics.verifyDuration.Observe(time.Since(d.start).Seconds())
	// A webhook delivery must not depend on the sender staying connected:
	// if ZEGO hangs up, the upstream request still finishes (bounded by the
	// proxy's own timeouts) and its outcome is recorded, so ZEGO's retry is
	// a duplicate and not a second delivery.
	r = r.WithContext(context.WithoutCancel(r.Context()))
	var recorder caddyhttp.ResponseRecorder
	holdFailures := h.Spool != nil && redelivery == nil
	if holdFailures {
		buf := new(bytes.Buffer)
		recorder = caddyhttp.NewResponseRecorder(w, buf, func(status int, _ http.Header) bool { return !accepted(status) })
	} else {
		recorder = caddyhttp.NewResponseRecorder(w, nil, nil)
	}
	settled := false
	defer func() {
		if settled {
			return
		}
		if aborted := recover(); aborted != nil {
			spooled := h.settle(r, d, redelivery, recorder.Status(), fmt.Errorf("the response was aborted: %v", aborted))
			if spooled && recorder.Buffered() {
				err = answerSpooled(w) // the failure was held back: ZEGO has seen nothing yet
				return
			}
			panic(aborted)
		}
	}()
	err = next.ServeHTTP(recorder, r)
	settled = true
	status := recorder.Status()
	if h.settle(r, d, redelivery, status, err) {
		return answerSpooled(w)
	}
	if holdFailures && recorder.Status() != 0 && recorder.Buffered() {
		return recorder.WriteResponse() // not spooled: ZEGO gets the failure and retries
	}
	return err
}

func accepted(status int) bool { return status >= 200 && status < 300 }

// answerSpooled tells ZEGO the edge owns the callback now.
func answerSpooled(w http.ResponseWriter) error {
	clear(w.Header()) // the upstream's, of a failure ZEGO need not see
	w.Header().Set("X-Zego-Spooled", "1")
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// settle records what became of a forwarded callback, and spools it when
// the upstream did not accept it; it reports whether it was spooled. A 2xx
// status line means the upstream accepted it, even if the response broke
// off later.
func (h *Handler) settle(r *http.Request, d *delivery, redelivery *redelivery, status int, err error) (spooled bool) {
	outcome := outcomeForwarded
	switch {
	case accepted(status):
		if d.store != nil {
			h.recordDelivered(r, d)
		}
		if h.Spool != nil && redelivery == nil {
			h.unspool(r, d)
		}
	case h.Spool != nil && redelivery == nil && h.spoolCallback(r, d, status, err):
		outcome, spooled = outcomeSpooled, true
	default:
		outcome = outcomeUpstreamFailed
	}
	if redelivery != nil {
		redelivery.outcome, redelivery.status, redelivery.err = outcome, status, err
	}
	event := h.eventLabel(d.callback.Event)
	h.metrics.requests.WithLabelValues(event, outcome, h.appLabel(d.callback.AppID)).Inc()
	h.metrics.upstream.WithLabelValues(event, codeClass(status, err)).Inc()
	h.noteOutcome(r, &d.callback, outcome, d.start, zap.Int("upstream_status", status), zap.Error(err))
	return spooled
}

// Outcomes besides the rejection reason codes.
const (
	outcomeForwarded      = "forwarded"
	outcomeUpstreamFailed = "upstream_failed"
	outcomeDuplicate      = "duplicate"
	outcomeSpooled        = "spooled"
)

// eventLabel bounds the metric label to the configured events.
func (h *Handler) eventLabel(event string) string {
	if slices.Contains(h.Events, event) {
		return event
	}
	return unknownEvent
}

// appAllowed reports whether the AppID allowlist (if any) admits appID.
func (h *Handler) appAllowed(appID uint32) bool {
	_, listed := slices.BinarySearch(h.allowedApps, appID)
	return listed || len(h.allowedApps) == 0
}

// appLabel bounds the metric label to the AppID allowlist.
func (h *Handler) appLabel(appID uint32) string {
	if _, listed := slices.BinarySearch(h.allowedApps, appID); listed {
		return strconv.FormatUint(uint64(appID), 10)
	}
	return otherApp
}

// answerDuplicate tells ZEGO the callback arrived, without bothering the
// upstream again.
func (h *Handler) answerDuplicate(w http.ResponseWriter, r *http.Request, d *delivery, redelivery *redelivery) error {
	if redelivery != nil {
		redelivery.outcome = outcomeDuplicate
	}
	h.metrics.verifyDuration.Observe(time.Since(d.start).Seconds())
	h.metrics.requests.WithLabelValues(h.eventLabel(d.callback.Event), outcomeDuplicate, h.appLabel(d.callback.AppID)).Inc()
	h.noteOutcome(r, &d.callback, outcomeDuplicate, d.start)
	w.Header().Set("X-Zego-Duplicate", "1")
	w.WriteHeader(http.StatusOK)
	return nil
}

// verifyRequest applies the HTTP-level checks (method, encoding, size), then
// the verifier's.
func (h *Handler) verifyRequest(w http.ResponseWriter, r *http.Request) (verify.Callback, error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return verify.Callback{}, verify.ErrMethodNotAllowed
	}
	for _, header := range r.Header.Values("Content-Encoding") {
		for coding := range strings.SplitSeq(header, ",") {
			if coding = strings.TrimSpace(coding); coding != "" && !strings.EqualFold(coding, "identity") {
				return verify.Callback{}, verify.ErrUnsupportedEncoding
			}
		}
	}
	if r.ContentLength > h.MaxBody {
		return verify.Callback{}, verify.ErrBodyTooLarge
	}
	buf := bodyBuffers.Get().(*bytes.Buffer)
	defer func() {
		buf.Reset()
		bodyBuffers.Put(buf)
	}()
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, h.MaxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return verify.Callback{}, verify.ErrBodyTooLarge
		}
		return verify.Callback{}, fmt.Errorf("%w: reading the body: %v", verify.ErrMalformedBody, err)
	}
	// Verify copies what it keeps, so the buffer can be reused.
	return h.verifier.Verify(buf.Bytes())
}

// bodyBuffers recycles request body buffers between callbacks.
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// reject answers a bad callback with the status for its reason; Caddy writes
// the response, so handle_errors can shape it.
func (h *Handler) reject(r *http.Request, repl *caddy.Replacer, callback *verify.Callback, err error, start time.Time) error {
	reason := verify.ReasonOf(err)
	repl.Set("http.zego.error", reason)
	h.metrics.verifyDuration.Observe(time.Since(start).Seconds())
	h.metrics.requests.WithLabelValues(h.eventLabel(callback.Event), reason, h.appLabel(callback.AppID)).Inc()
	h.noteOutcome(r, callback, reason, start, zap.Error(err))
	return caddyhttp.Error(statusFor(err), err)
}

// statusFor maps a verify error to the HTTP status the README documents.
func statusFor(err error) int {
	switch {
	case errors.Is(err, verify.ErrMethodNotAllowed):
		return http.StatusMethodNotAllowed
	case errors.Is(err, verify.ErrUnsupportedEncoding):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, verify.ErrBodyTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, verify.ErrMalformedBody),
		errors.Is(err, verify.ErrMissingField),
		errors.Is(err, verify.ErrInvalidField),
		errors.Is(err, verify.ErrDuplicateField):
		return http.StatusBadRequest
	case errors.Is(err, verify.ErrAppNotAllowed):
		return http.StatusForbidden
	case errors.Is(err, verify.ErrBadSignature),
		errors.Is(err, verify.ErrStaleTimestamp),
		errors.Is(err, verify.ErrReplayedSignature):
		return http.StatusUnauthorized
	case errors.Is(err, verify.ErrInFlight):
		return http.StatusConflict
	case errors.Is(err, verify.ErrEventNotAllowed):
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

// forwardedClientHeaders are the only headers of ZEGO's request that reach
// the upstream: ZEGO signs none, so the upstream must act on nothing a
// client could add. User-Agent helps diagnose; the W3C trace context lets
// Caddy's tracing join the upstream's spans; X-Forwarded-* are left to
// reverse_proxy, which keeps them only from trusted_proxies and sets its
// own otherwise. Headers the operator adds belong in reverse_proxy's
// header_up, which applies after this handler.
var forwardedClientHeaders = map[string]bool{
	"User-Agent":        true,
	"Traceparent":       true,
	"Tracestate":        true,
	"X-Forwarded-For":   true,
	"X-Forwarded-Proto": true,
	"X-Forwarded-Host":  true,
}

// forwardNormalized replaces the request body with the normalized document
// and the request's headers with the ones the upstream relies on; keepQuery
// keeps the query string.
func forwardNormalized(r *http.Request, d *delivery, keepQuery bool) {
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

// setPlaceholders publishes an accepted callback's identity; the event's
// own identifiers only where it has them.
func setPlaceholders(repl *caddy.Replacer, d *delivery) {
	repl.Set("http.zego.event", d.callback.Event)
	repl.Set("http.zego.app_id", d.callback.AppID)
	repl.Set("http.zego.task_id", d.callback.TaskID)
	repl.Set("http.zego.code", d.callback.Code)
	if d.roomID != "" {
		repl.Set("http.zego.room_id", d.roomID)
	}
	if d.streamID != "" {
		repl.Set("http.zego.stream_id", d.streamID)
	}
}

// noteOutcome puts the callback's identity and outcome on Caddy's access-log
// line (the one line per request a user turns on with the log directive)
// and writes the handler's own line at DEBUG. Neither ever holds the
// secret, the signature or the body.
func (h *Handler) noteOutcome(r *http.Request, callback *verify.Callback, outcome string, start time.Time, extra ...zap.Field) {
	if fields, ok := r.Context().Value(caddyhttp.ExtraLogFieldsCtxKey).(*caddyhttp.ExtraLogFields); ok {
		fields.Add(zap.Inline(&accessLogFields{outcome, callback}))
	}
	c := h.logger.Check(zapcore.DebugLevel, "callback")
	if c == nil {
		return
	}
	c.Write(append([]zap.Field{
		zap.String("outcome", outcome),
		zap.String("event", callback.Event),
		zap.Uint32("app_id", callback.AppID),
		zap.String("task_id", callback.TaskID),
		zap.Int64("code", callback.Code),
		zap.String("remote_addr", r.RemoteAddr),
		zap.Duration("duration", time.Since(start)),
	}, extra...)...)
}

// accessLogFields are the zego_* fields of the access-log line: one field
// inlined, rather than four appended one by one.
type accessLogFields struct {
	outcome  string
	callback *verify.Callback
}

func (f *accessLogFields) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString("zego_outcome", f.outcome)
	if f.callback.Event != "" {
		enc.AddString("zego_event", f.callback.Event)
		enc.AddUint32("zego_app_id", f.callback.AppID)
	}
	if f.callback.TaskID != "" {
		enc.AddString("zego_task_id", f.callback.TaskID)
	}
	if room := f.callback.RoomID(); room != "" {
		enc.AddString("zego_room_id", room)
	}
	if stream := f.callback.StreamID(); stream != "" {
		enc.AddString("zego_stream_id", stream)
	}
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
	_ caddyfile.Unmarshaler       = (*Handler)(nil)
)
