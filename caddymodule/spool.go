package caddymodule

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"

	"github.com/zegoedge/caddy-zego-callback/verify"
)

// Spool keeps verified callbacks that the upstream did not accept in Caddy's
// storage and redelivers them, through the route they came in on, until the
// upstream accepts them or MaxAge passes. ZEGO is answered 202 Accepted with
// X-Zego-Spooled: 1 once the callback is stored, and stops retrying.
type Spool struct {
	// Retry are the waits between redelivery attempts; the last one
	// repeats. Default: 10s 1m 5m 30m 2h 6h.
	Retry []caddy.Duration `json:"retry,omitempty"`

	// MaxAge is how long after a callback first arrived it is redelivered;
	// after that it becomes a dead letter, kept in storage until someone
	// retries or drops it with the CLI. Default: 72h.
	MaxAge caddy.Duration `json:"max_age,omitempty"`
}

// Spool defaults.
var defaultSpoolRetry = []time.Duration{10 * time.Second, time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 6 * time.Hour}

const (
	DefaultSpoolMaxAge = 72 * time.Hour
	// spoolPrefix holds one key per spooled callback (see spoolItem.name).
	spoolPrefix = storagePrefix + "/spool"
	// spoolRescanEvery makes a pass read every item (not only the ones its
	// cache says are due) at least this often, to see what other instances
	// and the CLI changed; with short retry waits, ten passes.
	spoolRescanEvery = 30 * time.Second
)

// spoolItem is one spooled callback as stored: everything needed to
// redeliver it without verifying it again, and its delivery history.
type spoolItem struct {
	ID     string `json:"id"` // the Idempotency-Key
	Event  string `json:"event"`
	AppID  uint32 `json:"app_id"`
	TaskID string `json:"task_id,omitempty"`
	// For the placeholders of the redelivery, as for the first attempt.
	Code     int64           `json:"code,omitempty"`
	RoomID   string          `json:"room_id,omitempty"`
	StreamID string          `json:"stream_id,omitempty"`
	Document json.RawMessage `json:"document"`
	// Headers are the ones the upstream got: Idempotency-Key and X-Zego-*.
	Headers map[string]string `json:"headers"`
	// Scope names the dedupe records of the secret that verified it.
	Scope string `json:"scope"`
	// Where it came in: Caddy's server name, the Host, and the request URI
	// (escaped path and query) as received, before any rewrite.
	Server       string    `json:"server"`
	Host         string    `json:"host"`
	URI          string    `json:"uri"`
	FirstArrival time.Time `json:"first_arrival"`
	// RevivedAt is when the CLI last retried it; max_age counts from the
	// later of the two.
	RevivedAt   time.Time `json:"revived_at,omitzero"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt"`
	LastError   string    `json:"last_error,omitempty"`
	Dead        bool      `json:"dead,omitempty"`
}

func (item *spoolItem) state() string {
	if item.Dead {
		return spoolDead
	}
	return spoolWaiting
}

// name is the item's name in the spool and in the CLI: its Idempotency-Key
// and the scope of the secret that verified it, so that a callback verified
// with one secret can never stand in for, or block, another's (as with the
// dedupe records).
func (item *spoolItem) name() string { return item.ID + "-" + item.Scope }

func spoolKey(name string) string { return path.Join(spoolPrefix, name) }

// itemKey is the key of the item a user named, or errNotSpoolName.
func itemKey(name string) (string, error) {
	if !validSpoolName(name) {
		return "", errNotSpoolName
	}
	return spoolKey(name), nil
}

var errNotSpoolName = errors.New("not a spool item's name: copy it from 'spool list' (its Idempotency-Key, '-', and 32 more hex digits)")

// validSpoolName reports whether name is an item's name: two 32-digit hex
// strings joined by '-'. The CLI takes names from its user, and a name like
// ../../certificates/... must not reach another key.
func validSpoolName(name string) bool {
	id, scope, found := strings.Cut(name, "-")
	return found && isHex128(id) && isHex128(scope)
}

func isHex128(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 16
}

// provisionSpool sets the defaults and starts this handler's redelivery
// worker, which stops when the config is unloaded.
func (h *Handler) provisionSpool(ctx caddy.Context) error {
	if h.Spool == nil {
		return nil
	}
	if h.DedupeDisabled {
		return errors.New("spool needs dedupe: a spooled callback and ZEGO's late retry of it must not both reach the upstream; remove 'dedupe off'")
	}
	if err := h.Spool.setDefaults(); err != nil {
		return err
	}
	h.spoolStorage = ctx.Storage()
	worker := &spoolWorker{h: h, ctx: ctx, storage: h.spoolStorage}
	go worker.run()
	return nil
}

// setDefaults fills in the defaults and checks the settings.
func (s *Spool) setDefaults() error {
	if len(s.Retry) == 0 {
		for _, wait := range defaultSpoolRetry {
			s.Retry = append(s.Retry, caddy.Duration(wait))
		}
	}
	for _, wait := range s.Retry {
		if time.Duration(wait) <= 0 {
			return fmt.Errorf("spool: every retry wait must be positive, not %s (e.g. retry 10s 1m 5m)", time.Duration(wait))
		}
	}
	if s.MaxAge == 0 {
		s.MaxAge = caddy.Duration(DefaultSpoolMaxAge)
	}
	if s.MaxAge < 0 {
		return fmt.Errorf("spool: max_age must be positive, not %s (e.g. max_age 72h)", time.Duration(s.MaxAge))
	}
	return nil
}

// spoolCallback stores a callback the upstream did not accept, unless it is
// already spooled (ZEGO's retry of a callback the edge owns already). It
// reports whether the edge now owns the delivery.
func (h *Handler) spoolCallback(r *http.Request, d *delivery, status int, upstreamErr error) bool {
	ctx := context.WithoutCancel(r.Context())
	id := hex.EncodeToString(d.idempotencyID[:])
	key := spoolKey(id + "-" + d.scope)
	// Stat, not Exists: Exists reports a key it cannot check (the storage is
	// down) as present, and this must be sure before answering 2xx.
	if _, err := h.spoolStorage.Stat(ctx, key); err == nil {
		return true
	}
	now := h.clock()()
	item := &spoolItem{
		ID: id, Event: d.callback.Event, AppID: d.callback.AppID, TaskID: d.callback.TaskID,
		Code: d.callback.Code, RoomID: d.roomID, StreamID: d.streamID,
		Document: d.doc, Headers: make(map[string]string),
		Scope: d.scope, Host: r.Host,
		FirstArrival: now, NextAttempt: now.Add(h.spoolWait(0)),
		LastError: failureText(status, upstreamErr),
	}
	if server, ok := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server); ok {
		item.Server = server.Name()
	}
	// The URI the callback came in on, before handle_path, uri or this
	// handler rewrote it: the one that leads through the route again.
	item.URI = r.RequestURI
	if original, ok := r.Context().Value(caddyhttp.OriginalRequestCtxKey).(http.Request); ok {
		item.URI = original.RequestURI
	}
	for name, values := range r.Header {
		if name == "Idempotency-Key" || strings.HasPrefix(name, zegoHeaderPrefix) {
			item.Headers[name] = values[0]
		}
	}
	value, err := encodeSpoolItem(item)
	if err == nil {
		err = h.spoolStorage.Store(ctx, key, value)
	}
	if err != nil {
		h.logger.Error("could not spool a callback the upstream did not accept; ZEGO gets the upstream's failure and retries",
			zap.String("task_id", item.TaskID), zap.Uint32("app_id", item.AppID), zap.String("upstream", item.LastError), zap.Error(err))
		return false
	}
	h.metrics.spooled.Inc()
	h.logger.Warn("callback spooled: the upstream did not accept it; the edge redelivers it",
		zap.String("event", item.Event), zap.Uint32("app_id", item.AppID), zap.String("task_id", item.TaskID),
		zap.String("upstream", item.LastError), zap.Time("next_attempt", item.NextAttempt))
	return true
}

// unspool removes a callback from the spool once ZEGO's own retry of it was
// delivered (its 202 was lost, say), so the worker cannot deliver it again
// after the delivery record has expired. Best effort: the worker's delivery
// record check still stands behind it.
func (h *Handler) unspool(r *http.Request, d *delivery) {
	key := spoolKey(hex.EncodeToString(d.idempotencyID[:]) + "-" + d.scope)
	_ = h.spoolStorage.Delete(context.WithoutCancel(r.Context()), key)
}

// zegoHeaderPrefix marks the headers this handler sets for the upstream.
const zegoHeaderPrefix = "X-Zego-"

// spoolWait is the wait after the given number of failed attempts, with up
// to a tenth more or less at random, so that a returning upstream is not
// hit by every item in the same second.
func (h *Handler) spoolWait(failures int) time.Duration {
	wait := time.Duration(h.Spool.Retry[min(failures, len(h.Spool.Retry)-1)])
	return wait + time.Duration((rand.Float64()-0.5)*0.2*float64(wait))
}

func failureText(status int, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("status %d", status)
}

// redelivery marks a request the spool worker makes in-process: a context
// value, which no network client can set. The handler fills in the result.
type redelivery struct {
	item    *spoolItem
	reached bool // the handler saw the request: the route still leads to it
	outcome string
	status  int
	err     error
}

type redeliveryKey struct{}

// redeliveryOf returns the spool's marker, or nil for a request from the
// network.
func redeliveryOf(r *http.Request) *redelivery {
	marker, _ := r.Context().Value(redeliveryKey{}).(*redelivery)
	return marker
}

// delivery rebuilds the verified callback the item holds.
func (rd *redelivery) delivery(start time.Time) *delivery {
	item := rd.item
	d := &delivery{
		callback: verify.Callback{Event: item.Event, AppID: item.AppID, TaskID: item.TaskID, Code: item.Code},
		roomID:   item.RoomID,
		streamID: item.StreamID,
		doc:      item.Document,
		start:    start,
		scope:    item.Scope,
	}
	id, _ := hex.DecodeString(item.ID) // 16 bytes: loadSpoolItem checked
	d.idempotencyID = [16]byte(id)
	return d
}

// spoolWorker redelivers due items, one at a time, so a backlog of any size
// is never loaded at once. Every instance sharing the storage runs one;
// the storage's lock on an item makes each attempt one instance's.
type spoolWorker struct {
	h       *Handler
	ctx     caddy.Context
	storage certmagic.Storage
	// cache holds what the last read of each item said, so a pass reads
	// only due items (and, every rescan, all of them) and still counts
	// every item for the gauges.
	cache      map[string]spoolEntry
	lastRescan time.Time
	rescan     time.Duration
}

// spoolEntry is what the worker knows of an item between reads.
type spoolEntry struct {
	due   time.Time // when to read it again
	state string    // spoolWaiting, spoolDead or spoolUnreadable
	since time.Time // its first arrival, for the oldest-waiting gauge
}

const (
	spoolWaiting    = "waiting"
	spoolDead       = "dead"
	spoolUnreadable = "unreadable"
)

func (w *spoolWorker) entryOf(item *spoolItem, now time.Time) spoolEntry {
	if item.Dead {
		return spoolEntry{due: now.Add(w.rescan), state: spoolDead}
	}
	return spoolEntry{due: item.NextAttempt, state: spoolWaiting, since: item.FirstArrival}
}

func (w *spoolWorker) run() {
	tick := min(time.Duration(w.h.Spool.Retry[0]), time.Second)
	w.rescan = min(spoolRescanEvery, 10*tick)
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-ticker.C:
			w.pass()
		}
	}
}

// pass goes once through the spool, redelivering what is due, and updates
// the spool's gauges.
func (w *spoolWorker) pass() {
	now := w.h.clock()()
	rescan := now.Sub(w.lastRescan) >= w.rescan
	if rescan {
		w.lastRescan = now
	}
	keys, err := w.storage.List(w.ctx, spoolPrefix, false)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		w.h.logger.Warn("cannot list the spool", zap.Error(err))
		return
	}
	next := make(map[string]spoolEntry, len(keys)) // keys gone from the spool drop out
	waiting, dead := 0, 0
	oldest := now
	for _, key := range keys {
		if w.ctx.Err() != nil {
			return
		}
		if !validSpoolName(path.Base(key)) {
			continue // not an item: a storage's temporary file mid-write
		}
		entry, known := w.cache[key]
		if !known || rescan || !now.Before(entry.due) {
			var gone bool
			if entry, gone = w.refresh(key, now); gone {
				continue
			}
		}
		next[key] = entry
		switch entry.state {
		case spoolWaiting:
			waiting++
			oldest = minTime(oldest, entry.since)
		case spoolDead:
			dead++
		}
	}
	w.cache = next
	m := w.h.metrics
	m.spoolWaiting.Set(float64(waiting))
	m.spoolDead.Set(float64(dead))
	m.spoolOldest.Set(now.Sub(oldest).Seconds())
}

// refresh reads an item and, when it is due, makes an attempt; gone means
// it left the spool.
func (w *spoolWorker) refresh(key string, now time.Time) (entry spoolEntry, gone bool) {
	item, err := loadSpoolItem(w.ctx, w.storage, key)
	if errors.Is(err, fs.ErrNotExist) {
		return spoolEntry{}, true
	}
	if err != nil {
		w.h.logger.Error("skipping a spool item that cannot be read", zap.String("key", key), zap.Error(err))
		return spoolEntry{due: now.Add(w.rescan), state: spoolUnreadable}, false
	}
	if item.Dead || now.Before(item.NextAttempt) {
		return w.entryOf(item, now), false
	}
	after, gone := w.attempt(key)
	if gone {
		return spoolEntry{}, true
	}
	if after == nil { // not attempted here (another instance holds it): look again next pass
		return spoolEntry{due: now, state: spoolWaiting, since: item.FirstArrival}, false
	}
	return w.entryOf(after, now), false
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func loadSpoolItem(ctx context.Context, storage certmagic.Storage, key string) (*spoolItem, error) {
	value, err := storage.Load(ctx, key)
	if err != nil {
		return nil, err
	}
	item := new(spoolItem)
	if err := json.Unmarshal(value, item); err != nil {
		return nil, fmt.Errorf("not a spool item: %w", err)
	}
	if !isHex128(item.ID) || !isHex128(item.Scope) || len(item.Document) == 0 {
		return nil, errors.New("not a spool item: no Idempotency-Key, scope or document")
	}
	return item, nil
}

// attempt takes the item's lock and redelivers it if it is still due. It
// returns the item as it stands afterwards, nil when no attempt was made
// here; gone means the item left the spool.
func (w *spoolWorker) attempt(key string) (after *spoolItem, gone bool) {
	locked, err := tryLockStorage(w.ctx, w.storage, key)
	if err != nil || !locked {
		return nil, false // another instance has it, or the storage is down: next pass
	}
	defer func() { _ = w.storage.Unlock(context.WithoutCancel(w.ctx), key) }()
	// Read again under the lock: another instance may have delivered it.
	item, err := loadSpoolItem(w.ctx, w.storage, key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, true
	}
	if err != nil {
		return nil, false
	}
	now := w.h.clock()()
	if item.Dead || now.Before(item.NextAttempt) {
		return item, false
	}
	m, logger := w.h.metrics, w.h.logger
	result := w.redeliver(item)
	item.Attempts++
	switch {
	case result.outcome == outcomeForwarded || result.outcome == outcomeDuplicate:
		if err := w.storage.Delete(context.WithoutCancel(w.ctx), key); err != nil {
			logger.Warn("delivered a spooled callback but could not remove it; the delivery record stops a second delivery", zap.String("id", item.name()), zap.Error(err))
		}
		m.spoolAttempts.WithLabelValues(result.outcome).Inc()
		logger.Info("spooled callback delivered",
			zap.String("id", item.name()), zap.String("event", item.Event), zap.Uint32("app_id", item.AppID), zap.String("task_id", item.TaskID),
			zap.String("outcome", result.outcome), zap.Int("attempts", item.Attempts), zap.Duration("since_first_arrival", now.Sub(item.FirstArrival)))
		return nil, true
	case result.outcome == verify.ReasonOf(verify.ErrInFlight), errors.Is(result.err, errNoRunningConfig):
		// ZEGO's own retry is being forwarded right now, or Caddy is still
		// starting: no attempt was made; look again soon.
		item.Attempts--
		item.NextAttempt = now.Add(w.h.spoolWait(0))
	default:
		item.LastError = result.describe()
		item.NextAttempt = now.Add(w.h.spoolWait(item.Attempts))
		m.spoolAttempts.WithLabelValues("failed").Inc()
		// Given up only after a failed attempt, so a revived item gets one.
		if now.Sub(maxTime(item.FirstArrival, item.RevivedAt)) >= time.Duration(w.h.Spool.MaxAge) {
			item.Dead = true
			m.deadLetters.Inc()
			logger.Error("spooled callback given up: a dead letter; retry or drop it with 'caddy zego-callback spool'",
				zap.String("id", item.name()), zap.String("event", item.Event), zap.Uint32("app_id", item.AppID), zap.String("task_id", item.TaskID),
				zap.Int("attempts", item.Attempts), zap.Time("first_arrival", item.FirstArrival), zap.String("last_error", item.LastError))
		}
	}
	if err := storeSpoolItem(context.WithoutCancel(w.ctx), w.storage, item); err != nil {
		logger.Warn("cannot update a spool item", zap.String("id", item.name()), zap.Error(err))
	}
	return item, false
}

func storeSpoolItem(ctx context.Context, storage certmagic.Storage, item *spoolItem) error {
	value, err := encodeSpoolItem(item)
	if err != nil {
		return err
	}
	return storage.Store(ctx, spoolKey(item.name()), value)
}

// encodeSpoolItem writes the item as JSON, its document byte for byte:
// json.Marshal would HTML-escape the document's & < > (a signed CDN URL's
// query), and the redelivery would not be the document first forwarded.
func encodeSpoolItem(item *spoolItem) ([]byte, error) {
	var buf bytes.Buffer
	encoder := json.NewEncoder(&buf)
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(item); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// listSpool calls fn with every readable item in the spool, one at a time;
// unreadable keys are passed with their error.
func listSpool(ctx context.Context, storage certmagic.Storage, fn func(key string, item *spoolItem, err error) error) error {
	keys, err := storage.List(ctx, spoolPrefix, false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	slices.Sort(keys)
	for _, key := range keys {
		if !validSpoolName(path.Base(key)) {
			continue // not an item: a storage's temporary file mid-write
		}
		item, err := loadSpoolItem(ctx, storage, key)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := fn(key, item, err); err != nil {
			return err
		}
	}
	return nil
}

// retrySpoolItem makes an item, waiting or dead, due now: a running Caddy
// redelivers it on its next pass over the whole spool.
func retrySpoolItem(ctx context.Context, storage certmagic.Storage, name string, now time.Time) error {
	key, err := itemKey(name)
	if err != nil {
		return err
	}
	if err := storage.Lock(ctx, key); err != nil {
		return err
	}
	defer func() { _ = storage.Unlock(context.WithoutCancel(ctx), key) }()
	item, err := loadSpoolItem(ctx, storage, key)
	if err != nil {
		return err
	}
	item.Dead = false
	item.NextAttempt, item.RevivedAt = now, now
	return storeSpoolItem(ctx, storage, item)
}

// redeliver sends the item through the server it came in on, in-process, so
// that the user's route and reverse_proxy settings apply unchanged.
func (w *spoolWorker) redeliver(item *spoolItem) (result *redelivery) {
	result = &redelivery{item: item}
	// The running config's, never w.ctx.App: while a config is still being
	// provisioned, that would load a second http app beside it. After a
	// reload, the new config's routes apply.
	app, err := caddy.ActiveContext().AppIfConfigured("http")
	if err != nil {
		result.err = fmt.Errorf("%w: %v", errNoRunningConfig, err)
		return result
	}
	server := app.(*caddyhttp.App).Servers[item.Server]
	if server == nil {
		result.err = fmt.Errorf("the server %q it came in on is no longer configured", item.Server)
		return result
	}
	ctx := context.WithValue(w.ctx, redeliveryKey{}, result)
	// The request line as it came in, parsed as the server parses one.
	target, err := url.ParseRequestURI(item.URI)
	if err != nil {
		result.err = err
		return result
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "/", http.NoBody)
	if err != nil {
		result.err = err
		return result
	}
	req.URL, req.Host, req.RequestURI = target, item.Host, item.URI
	req.RemoteAddr = "127.0.0.1:0" // the edge itself
	defer func() {
		if aborted := recover(); aborted != nil && result.outcome == "" {
			result.err = fmt.Errorf("aborted: %v", aborted)
		}
	}()
	server.ServeHTTP(discardResponse{header: make(http.Header)}, req)
	if !result.reached {
		result.err = fmt.Errorf("the route at %s%s no longer leads to zego_callback", item.Host, item.URI)
	}
	return result
}

// errNoRunningConfig: no config is running yet (Caddy is starting): the
// attempt is not made, and not counted.
var errNoRunningConfig = errors.New("no running config")

func (rd *redelivery) describe() string {
	if rd.err != nil {
		return rd.err.Error()
	}
	if rd.status != 0 {
		return fmt.Sprintf("status %d", rd.status)
	}
	return rd.outcome
}

// discardResponse is where a redelivery's answer goes: the handler reports
// the outcome through the marker.
type discardResponse struct{ header http.Header }

func (d discardResponse) Header() http.Header         { return d.header }
func (d discardResponse) Write(b []byte) (int, error) { return len(b), nil }
func (d discardResponse) WriteHeader(int)             {}

// tryLockStorage takes the storage's lock on key, or reports at once
// (within storageLockWait for storages without TryLock) that another holds
// it.
func tryLockStorage(ctx context.Context, storage certmagic.Storage, key string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, storageLockWait)
	defer cancel()
	var err error
	if locker, ok := storage.(certmagic.TryLocker); ok {
		var locked bool
		if locked, err = locker.TryLock(ctx, key); err == nil {
			return locked, nil
		}
	} else {
		err = storage.Lock(ctx, key)
		if err == nil {
			return true, nil
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return false, nil // another instance holds it
	}
	return false, err
}
