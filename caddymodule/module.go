// Package caddymodule plugs the verify package into Caddy as the HTTP
// handler http.handlers.zego_callback and the Caddyfile directive
// zego_callback.
package caddymodule

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/zegoedge/caddy-zego-callback/verify"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Handler verifies ZEGOCLOUD server callbacks and delivers a normalized
// JSON document in place of ZEGO's body through its own deliver chain,
// normally one reverse_proxy. It is a terminal handler: it answers ZEGO
// itself and never calls the next handler of its route.
//
// A callback that is forged, stale, from another app, for another event or
// malformed is answered with an error status (the README's reason codes)
// and never reaches the deliver chain. ZEGO gets a 2xx only when the backend
// took the callback, or when it is stored in the spool. The backend takes
// a callback by answering 2xx, or refuses it for good with a 4xx carrying
// the Zego-Refused header (ZEGO then gets 200, and neither ZEGO nor the
// spool sends it again); any other answer is a failure, spooled when the
// spool is on (docs/delivery.md).
//
// The access log's line for a callback carries zego_outcome, zego_event,
// zego_app_id, zego_task_id, zego_room_id, zego_stream_id, zego_secret
// (the verifying secret's fingerprint, never the secret) and zego_refused
// (the backend's reason for a refusal).
//
// This handler sets these placeholders, for the deliver chain and the
// access log:
//
//	{http.zego.product}   the product the route receives, e.g. rtc
//	{http.zego.event}     the callback's event, e.g. compose
//	{http.zego.app_id}    the ZEGO AppID
//	{http.zego.task_id}   the event's task ID, where it has one
//	{http.zego.code}      ZEGO's result code (0 is success)
//	{http.zego.room_id}   the event's room, where it has one
//	{http.zego.stream_id} the event's stream, where it has one
//	{http.zego.error}     the reason code of a rejection, e.g. bad_signature
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

	// Product is the ZEGO product whose callbacks this handler receives:
	// rtc, zim, ai_agent, asr, cloud_recording, cloud_player, digital_human
	// or super_board (see docs/events.md). ZEGO sends each
	// product to its own URL, and the products reuse event names, so a
	// route receives one product; another product's callback is refused
	// as wrong_product. Default: rtc.
	Product string `json:"product,omitempty"`

	// Events are the accepted event names of the product, or ["all"] for
	// every event of it the module supports (see docs/events.md). Default:
	// ["compose"] for rtc; required for the other products.
	Events []string `json:"events,omitempty"`

	// MaxAge bounds how far the callback's timestamp may be from now, in the
	// past or in the future. Default: 5m.
	MaxAge caddy.Duration `json:"max_age,omitempty"`

	// MaxBody is the largest body accepted, in bytes, at most 1MiB.
	// Default: 65536 (64KiB).
	MaxBody int64 `json:"max_body,omitempty"`

	// DedupeTTL is how long a delivered (or refused) callback is
	// remembered: a later delivery of the same callback (app, event and
	// the event's key, the task for compose) is answered 200 with
	// X-Zego-Duplicate: 1 and not delivered again. Default: 10m.
	DedupeTTL caddy.Duration `json:"dedupe,omitempty"`

	// DedupeDisabled turns off duplicate and replay protection: every
	// verified callback is delivered. Default: false.
	DedupeDisabled bool `json:"dedupe_disabled,omitempty"`

	// DedupeStore is where dedupe records live: "memory" (this process;
	// kept across config reloads) or "storage" (Caddy's configured storage,
	// shared by every instance using it). Default: "memory".
	DedupeStore string `json:"dedupe_store,omitempty"`

	// DedupeMax bounds the memory store's records; the oldest is evicted
	// first. Each callback takes two. Default: 100000.
	DedupeMax int `json:"dedupe_max,omitempty"`

	// Spool, when set, keeps callbacks the deliver chain did not accept in
	// Caddy's storage and redelivers them through the same chain (see
	// Spool). It needs dedupe. Default: off.
	Spool *Spool `json:"spool,omitempty"`

	// KeepQuery forwards the request's query string to the upstream. ZEGO
	// signs no part of the URL, so by default the upstream gets none of it,
	// and a framework that merges query parameters into the request's (or
	// honours _method) cannot be steered by a forged query. Default: false.
	KeepQuery bool `json:"keep_query,omitempty"`

	// Deliver is the chain of handlers that takes the normalized document
	// to the backend, normally one reverse_proxy; its routes are those of a
	// subroute. Both ZEGO's callbacks and the spool's redeliveries go
	// through it, and through nothing else of the site. A chain that writes
	// no answer has failed. Required.
	Deliver *caddyhttp.Subroute `json:"deliver,omitempty"`

	// SignUpstream are Standard Webhooks secrets (whsec_<base64>, at least
	// 24 bytes decoded) with which every forwarded document, ZEGO's and
	// the spool's, is signed: webhook-id (the Idempotency-Key),
	// webhook-timestamp (when this attempt was sent) and webhook-signature
	// (one v1 signature per secret), so that the backend can check with
	// any Standard Webhooks library that a document came through the edge.
	// The first is the current one; more are for rotation. Placeholders
	// are resolved as for Secrets. Default: none (nothing signed).
	SignUpstream []string `json:"sign_upstream,omitempty"`

	// DeliverTimeout bounds each delivery attempt, ZEGO's and the spool's,
	// whatever the chain's own timeouts: past it the attempt has failed
	// (and is spooled, when the spool is on). Default: 10s.
	DeliverTimeout caddy.Duration `json:"deliver_timeout,omitempty"`

	// SyncTimeout bounds the delivery of a synchronous callback, whose
	// answer is the backend's decision (ZIM's before_send_msg): ZEGO waits
	// only 2.5 s for it, so this stays below that. Default: 2s.
	SyncTimeout caddy.Duration `json:"sync_timeout,omitempty"`

	// deliverSegment holds the deliver block's tokens between
	// UnmarshalCaddyfile and FinalizeUnmarshalCaddyfile.
	deliverSegment *caddyfile.Dispenser

	verifier    *verify.Verifier
	allowedApps []uint32 // sorted
	appLabels   []string // allowedApps' metric labels, in their order
	logger      *zap.Logger
	metrics     *handlerMetrics
	// The storage scope of each secret (see secretScope): topScopes follow
	// Secrets, appScopes each app's own secrets, in the verifier's order.
	topScopes []string
	appScopes map[uint32][]string
	// deliverChain is Deliver compiled once; dedupe and spooler are nil
	// when off.
	deliverChain caddyhttp.Handler
	// deliverID names the deliver block's config (the same across reloads
	// and instances while it is): the spool gives an item back to the
	// handler whose deliver block it was spooled by, not to another that
	// holds the same secret.
	deliverID string
	signer    *upstreamSigner // nil when sign_upstream is off
	dedupe    *dedupe
	spooler   *spooler
	// now is the wall clock; nil means wallClock. Tests set it.
	now func() time.Time
	// ctx is the handler's config's: the spool's worker delivers only for
	// the running config.
	ctx caddy.Context
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
// defaults and builds the verifier, the deliver chain, the dedupe stores
// and the spool.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.ctx, h.logger = ctx, ctx.Logger()
	h.applyDefaults()
	// Checked before verify.New, whose errors name Go fields, not options.
	repl := caddy.NewReplacer()
	opts, err := h.verifyOptions(repl)
	if err != nil {
		return err
	}
	if h.signer, err = newUpstreamSigner(repl, h.SignUpstream); err != nil {
		return err
	}
	if h.Deliver == nil || len(h.Deliver.Routes) == 0 {
		return errNoDeliver
	}
	opts.Now = h.clock()
	if h.verifier, err = verify.New(opts); err != nil {
		return fmt.Errorf("zego_callback: %w", err)
	}
	h.allowedApps = h.verifier.AppIDs()
	h.appLabels = make([]string, len(h.allowedApps))
	for i, appID := range h.allowedApps {
		h.appLabels[i] = strconv.FormatUint(uint64(appID), 10)
	}
	if h.metrics, err = newHandlerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	h.metrics.startSeries(h.Product, h.Events, append(slices.Clone(h.appLabels), otherApp))
	h.topScopes = scopesOf(opts.Secrets)
	h.appScopes = make(map[uint32][]string, len(opts.AppSecrets))
	for appID, secrets := range opts.AppSecrets {
		h.appScopes[appID] = scopesOf(secrets)
	}
	// Before Provision, which drops the handlers' raw JSON.
	raw, err := json.Marshal(h.Deliver)
	if err != nil {
		return fmt.Errorf("zego_callback: deliver: %w", err)
	}
	if h.Product != verify.DefaultProduct {
		// Two products' routes may share a secret and a deliver block; each
		// takes back its own items. (rtc's IDs stay as they were before
		// products, so that items spooled then keep their handler.)
		raw = append([]byte(h.Product+"\x00"), raw...)
	}
	sum := sha256.Sum256(raw)
	h.deliverID = hex.EncodeToString(sum[:8])
	if err := h.Deliver.Provision(ctx); err != nil {
		return fmt.Errorf("zego_callback: deliver: %w", err)
	}
	h.deliverChain = h.Deliver.Routes.Compile(chainEnd)
	if h.dedupe, err = h.newDedupe(ctx); err != nil {
		return err
	}
	if h.Spool != nil {
		if err := h.newSpooler(ctx.Storage()); err != nil {
			return err
		}
	}
	h.warnAboutRisks(raw)
	return nil
}

// errNoDeliver shows the one way to say where callbacks go.
var errNoDeliver = errors.New(`zego_callback needs a deliver block that says where verified callbacks go, e.g.
	route /zego/* {
		zego_callback {env.ZEGO_CALLBACK_SECRET} {
			deliver {
				reverse_proxy backend:8000
			}
		}
	}
(JSON: "deliver": {"routes": [...]}). A reverse_proxy after zego_callback in the route, the form before the deliver block, is no longer used: move it into deliver`)

// chainEnd ends the deliver chain: a chain that reaches it has written no
// answer, which counts as a failure.
var chainEnd = caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil })

// resolveSecrets resolves placeholders. The secrets' text may appear in no
// message, so a failure says which one by position.
func resolveSecrets(repl *caddy.Replacer, raw []string, what string) ([]string, error) {
	secrets := make([]string, len(raw))
	for i, secret := range raw {
		// A placeholder unknown at load would stay in the secret as its
		// own public text: the Caddyfile turns {file.NAME} without a '/'
		// or '.', and an empty {file.} from an unset {$VAR}, into a
		// request placeholder. The error holds no part of the secret.
		var err error
		if secrets[i], err = repl.ReplaceOrErr(secret, false, true); err != nil {
			return nil, fmt.Errorf("%s %d of %d holds a placeholder that Caddy cannot resolve when it loads the config: a secret takes {env.NAME} or {file./absolute/path} (in a Caddyfile, {file.NAME} without a '/' turns into a request placeholder); write a literal brace as \\{", what, i+1, len(raw))
		}
		if secrets[i] == "" {
			return nil, fmt.Errorf("%s %d of %d is empty after resolving placeholders: is its environment variable set for the Caddy process, or its file present and not empty?", what, i+1, len(raw))
		}
	}
	return secrets, nil
}

// warnAboutRisks logs settings that work but weaken the edge, once per
// distinct settings: a reload of the same config stays quiet.
func (h *Handler) warnAboutRisks(deliverJSON []byte) {
	settings := h.settingsWithoutSecrets()
	withDeliver := slices.Concat(settings, deliverJSON)
	if !bytes.Contains(deliverJSON, []byte(`"handler":"reverse_proxy"`)) {
		h.warnOnce(withDeliver, "the deliver block has no reverse_proxy: what it answers itself (a respond, say) counts as delivered, "+
			"and ZEGO is told so, though no backend got the callback")
	}
	// Only a spool redelivers, so only then can a placeholder be missing.
	if h.Spool != nil {
		if missing := placeholdersSetOutside(deliverJSON); len(missing) > 0 {
			h.warnOnce(withDeliver, "the deliver block uses placeholders that a redelivery from the spool does not have: they are set before zego_callback "+
				"(by map, vars, an auth handler or a matcher of the route), which ZEGO's callback passes and the spool's redelivery does not; set them inside deliver",
				zap.Strings("placeholders", missing))
		}
	}
	if len(h.verifier.AppIDs()) == 0 {
		h.warnOnce(settings, "no app_id allowlist: callbacks from any ZEGO app signed with the secret are accepted")
	}
	if time.Duration(h.MaxAge) > 15*time.Minute {
		h.warnOnce(settings, "max_age is long: a captured callback stays replayable that long", zap.Duration("max_age", time.Duration(h.MaxAge)))
	}
	if literal := h.literalSecrets(); len(literal) > 0 {
		h.warnOnce(settings, "a secret is written in the config itself, where anyone who can read the config, autosave.json or Caddy's admin API can read it: "+
			"name it with {env.NAME} or {file./path} instead ({$NAME} counts as written: the Caddyfile adapter puts its value in the config)",
			zap.Strings("options", literal))
	}
	if h.DedupeDisabled {
		h.warnOnce(settings, "dedupe is off: ZEGO's retries reach the upstream, and a captured signature can be replayed on a tampered body within max_age")
	}
}

// literalSecrets names the secrets, ZEGO's or sign_upstream's, written in
// the config rather than named by a placeholder: "secret #1", "app 111
// secret #2", "sign_upstream #1".
func (h *Handler) literalSecrets() []string {
	var names []string
	note := func(prefix string, secrets []string) {
		for i, secret := range secrets {
			if !strings.Contains(secret, "{") {
				names = append(names, prefix+" #"+strconv.Itoa(i+1))
			}
		}
	}
	note("secret", h.Secrets)
	for _, app := range h.Apps {
		note("app "+strconv.FormatUint(uint64(app.AppID), 10)+" secret", app.Secrets)
	}
	note("sign_upstream", h.SignUpstream)
	return names
}

func (h *Handler) clock() func() time.Time {
	if h.now != nil {
		return h.now
	}
	return wallClock
}

// wallClock is the clock of the handlers a config provisions: stepSafeNow,
// or a test's, for vectors dated years ago through a real Caddy.
var wallClock = stepSafeNow

// latestWallClock is the latest wall-clock reading stepSafeNow returned,
// in Unix nanoseconds.
var latestWallClock atomic.Int64

// stepSafeNow is the wall clock, held at the latest reading it gave when
// the clock is set back, until the clock catches up. So a backward step
// cannot reopen the replay window of a timestamp whose dedupe records were
// swept while the clock was ahead (the window's lower bound never moves
// back), nor shorten the life of a dedupe record. The price: after a step
// back by more than max_age, callbacks are refused as stale until the
// clock has caught up by the difference. A process started after a step
// back takes the clock as it finds it.
func stepSafeNow() time.Time {
	now := time.Now().Round(0) // the wall reading only
	wall := now.UnixNano()
	for {
		latest := latestWallClock.Load()
		if wall <= latest {
			return time.Unix(0, latest)
		}
		if latestWallClock.CompareAndSwap(latest, wall) {
			return now
		}
	}
}

// Validate has nothing left to check: Provision checked every setting it
// uses, in checkSettings.
func (h *Handler) Validate() error { return nil }

// ServeHTTP verifies the callback, claims it, delivers the normalized
// document through the deliver chain, then records the delivery or spools
// the callback. It never calls next: the handler answers ZEGO.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	start := time.Now()
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	callback, err := h.verifyRequest(w, r)
	if err != nil {
		return h.reject(r, repl, &callback, err, start)
	}
	d := h.newDelivery(&callback, start)
	setPlaceholders(repl, d)
	if d.synchronous {
		return h.ask(w, r, d)
	}
	claim, err := h.dedupe.claim(r, d)
	switch {
	case errors.Is(err, errDuplicate):
		return h.answerDuplicate(w, r, d)
	case err != nil:
		return h.reject(r, repl, &d.callback, err, start)
	}
	h.metrics.verifyDuration.Observe(time.Since(start).Seconds())
	h.forwardNormalized(r, d, h.KeepQuery)
	a := h.deliver(w, r, d)
	claim.finish(withoutCancel(r), a.taken())
	return h.settle(w, r, d, a)
}

// delivery is a verified callback on its way to the backend: from ZEGO's
// request, or rebuilt from a spool item.
type delivery struct {
	callback verify.Callback
	// The event's room and stream, kept apart from callback because a
	// redelivery rebuilds only the exported part of it.
	roomID, streamID string
	doc              []byte // the normalized document
	idempotencyID    [16]byte
	// scope is the storage scope of the secret that verified it.
	scope string
	start time.Time
	// product is the handler's; synchronous: ZEGO acts on the backend's
	// answer (see ask). A spool item is never synchronous.
	product     string
	synchronous bool
}

func (h *Handler) newDelivery(callback *verify.Callback, start time.Time) *delivery {
	return &delivery{
		callback:      *callback,
		roomID:        callback.RoomID(),
		streamID:      callback.StreamID(),
		doc:           callback.AppendJSON(make([]byte, 0, 512)),
		idempotencyID: callback.IdempotencyID(),
		scope:         h.scopesFor(callback.AppID)[callback.SecretIndex()],
		start:         start,
		product:       h.Product,
		synchronous:   callback.Synchronous(),
	}
}

// ask delivers a synchronous callback, whose answer is the backend's
// decision (ZIM's before_send_msg asks whether to send a chat message):
// the chain's answer reaches ZEGO as the chain writes it, whatever its
// status, within sync_timeout. It is never spooled (a late decision is
// none) and never answered as a duplicate (ZEGO's retry asks again and
// needs the answer); a signature already seen with another document is
// still refused.
func (h *Handler) ask(w http.ResponseWriter, r *http.Request, d *delivery) error {
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	if err := h.dedupe.checkSignature(r, d); err != nil {
		return h.reject(r, repl, &d.callback, err, d.start)
	}
	h.metrics.verifyDuration.Observe(time.Since(d.start).Seconds())
	h.forwardNormalized(r, d, h.KeepQuery)
	a := h.deliver(w, r, d)
	outcome := outcomeForwarded
	if a.status == 0 { // the chain wrote no answer: ZEGO gets the failure
		outcome = outcomeUpstreamFailed
	}
	event := h.eventLabel(d.callback.Event)
	h.metrics.requests.WithLabelValues(h.Product, event, outcome, h.appLabel(d.callback.AppID)).Inc()
	h.metrics.upstream.WithLabelValues(h.Product, event, codeClass(a.status, a.err), sourceZego).Inc()
	h.metrics.deliverZego.Observe(a.duration.Seconds())
	h.noteOutcome(r, &accessLogFields{outcome: outcome, product: h.Product, callback: &d.callback, secret: secretFingerprint(d.scope)},
		d.start, zap.Int("upstream_status", a.status), zap.Error(a.err))
	switch {
	case a.aborted != nil:
		panic(a.aborted)
	case outcome == outcomeForwarded:
		return nil // the backend's answer, as it wrote it
	}
	return a.answerFailure(w)
}

// settle answers ZEGO after a delivery attempt and counts it: the chain's
// own answer when it accepted, 202 once a failure is spooled, otherwise the
// failure, so that ZEGO retries.
func (h *Handler) settle(w http.ResponseWriter, r *http.Request, d *delivery, a *attempt) error {
	outcome := outcomeForwarded
	switch {
	case a.taken():
		if a.refused() {
			outcome = outcomeRefused
		}
		h.spooler.delivered(r.Context(), d)
	case h.spooler.store(r, d, a):
		outcome = outcomeSpooled
	default:
		outcome = outcomeUpstreamFailed
	}
	event := h.eventLabel(d.callback.Event)
	h.metrics.requests.WithLabelValues(h.Product, event, outcome, h.appLabel(d.callback.AppID)).Inc()
	h.metrics.upstream.WithLabelValues(h.Product, event, codeClass(a.status, a.err), sourceZego).Inc()
	h.metrics.deliverZego.Observe(a.duration.Seconds())
	h.noteOutcome(r, &accessLogFields{outcome: outcome, product: h.Product, callback: &d.callback, secret: secretFingerprint(d.scope), refusal: a.refusal},
		d.start, zap.Int("upstream_status", a.status), zap.Error(a.err))
	switch {
	case outcome == outcomeSpooled:
		return answerSpooled(w) // a failure was held back: ZEGO has seen nothing yet
	case outcome == outcomeRefused:
		return answerRefused(w) // so that ZEGO does not retry what the backend does not want
	case a.aborted != nil:
		panic(a.aborted) // reverse_proxy's abort of a response it could not finish
	case outcome == outcomeForwarded:
		return nil // the chain's answer went to ZEGO as it was written
	}
	return a.answerFailure(w)
}

// Outcomes besides the rejection reason codes.
const (
	outcomeForwarded      = "forwarded"
	outcomeUpstreamFailed = "upstream_failed"
	outcomeDuplicate      = "duplicate"
	outcomeSpooled        = "spooled"
	outcomeRefused        = "refused"
)

// answerRefused tells ZEGO the callback arrived and needs no retry: the
// backend refused it on purpose.
func answerRefused(w http.ResponseWriter) error {
	clear(w.Header()) // the backend's refusal is for the edge, not for ZEGO
	w.Header().Set("X-Zego-Refused", "1")
	w.WriteHeader(http.StatusOK)
	return nil
}

// answerSpooled tells ZEGO the edge owns the callback now.
func answerSpooled(w http.ResponseWriter) error {
	clear(w.Header()) // the upstream's, of a failure ZEGO need not see
	w.Header().Set("X-Zego-Spooled", "1")
	w.WriteHeader(http.StatusAccepted)
	return nil
}

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
	if i, listed := slices.BinarySearch(h.allowedApps, appID); listed {
		return h.appLabels[i]
	}
	return otherApp
}

// scopesFor returns the scopes of the secrets that may verify app's
// callbacks, in the verifier's order.
func (h *Handler) scopesFor(appID uint32) []string {
	if scopes, ok := h.appScopes[appID]; ok {
		return scopes
	}
	return h.topScopes
}

// answerDuplicate tells ZEGO the callback arrived, without bothering the
// backend again.
func (h *Handler) answerDuplicate(w http.ResponseWriter, r *http.Request, d *delivery) error {
	h.metrics.verifyDuration.Observe(time.Since(d.start).Seconds())
	h.metrics.requests.WithLabelValues(h.Product, h.eventLabel(d.callback.Event), outcomeDuplicate, h.appLabel(d.callback.AppID)).Inc()
	h.noteOutcome(r, &accessLogFields{outcome: outcomeDuplicate, product: h.Product, callback: &d.callback, secret: secretFingerprint(d.scope)}, d.start)
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
	// A failure that is not a rejection (a bug) still gets a reason, so
	// that no metric or log line carries an empty outcome.
	reason := cmp.Or(verify.ReasonOf(err), reasonInternal)
	repl.Set("http.zego.error", reason)
	h.metrics.verifyDuration.Observe(time.Since(start).Seconds())
	h.metrics.requests.WithLabelValues(h.Product, h.eventLabel(callback.Event), reason, h.appLabel(callback.AppID)).Inc()
	h.noteOutcome(r, &accessLogFields{outcome: reason, product: h.Product, callback: callback}, start, zap.Error(err))
	return caddyhttp.Error(statusFor(err), err)
}

// reasonInternal is the outcome of a failure that is not a rejection.
const reasonInternal = "internal_error"

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
	case errors.Is(err, verify.ErrEventNotAllowed),
		errors.Is(err, verify.ErrWrongProduct):
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

// setPlaceholders publishes an accepted callback's identity; the event's
// own identifiers only where it has them.
func setPlaceholders(repl *caddy.Replacer, d *delivery) {
	repl.Set("http.zego.product", d.product)
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
func (h *Handler) noteOutcome(r *http.Request, note *accessLogFields, start time.Time, extra ...zap.Field) {
	if fields, ok := r.Context().Value(caddyhttp.ExtraLogFieldsCtxKey).(*caddyhttp.ExtraLogFields); ok {
		fields.Add(zap.Inline(note))
	}
	c := h.logger.Check(zapcore.DebugLevel, "callback")
	if c == nil {
		return
	}
	callback := note.callback
	c.Write(append([]zap.Field{
		zap.String("outcome", note.outcome),
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
	product  string // the route's
	callback *verify.Callback
	secret   string // the verifying secret's fingerprint; "" when none verified it
	refusal  string // the backend's reason, when it refused the callback
}

func (f *accessLogFields) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString("zego_outcome", f.outcome)
	enc.AddString("zego_product", f.product)
	if f.callback.Event != "" {
		enc.AddString("zego_event", f.callback.Event)
		enc.AddUint32("zego_app_id", f.callback.AppID)
	}
	if f.secret != "" {
		enc.AddString("zego_secret", f.secret)
	}
	if f.refusal != "" {
		enc.AddString("zego_refused", f.refusal)
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

// withoutCancel keeps a delivery's bookkeeping going when ZEGO hangs up.
func withoutCancel(r *http.Request) context.Context { return context.WithoutCancel(r.Context()) }

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
	_ caddyfile.Unmarshaler       = (*Handler)(nil)
)
