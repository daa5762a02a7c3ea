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

// Spool keeps verified callbacks that the deliver chain did not accept in
// Caddy's storage and redelivers them through the same chain until it
// accepts them or MaxAge passes. ZEGO is answered 202 Accepted with
// X-Zego-Spooled: 1 once the callback is stored, and stops retrying.
type Spool struct {
	// Retry are the waits between redelivery attempts; the last one
	// repeats. Default: 10s 1m 5m 30m 2h 6h.
	Retry []caddy.Duration `json:"retry,omitempty"`

	// MaxAge is how long after a callback first arrived it is redelivered;
	// after that, and once it has had the attempts Retry fits into MaxAge,
	// it becomes a dead letter, kept in storage until someone retries or
	// drops it with the CLI. Default: 72h.
	MaxAge caddy.Duration `json:"max_age,omitempty"`

	// Concurrency is how many redeliveries run at once. The worker is one
	// per storage, shared by the handlers spooling to it: it runs as many
	// as the largest Concurrency among them. Default: 4.
	Concurrency int `json:"concurrency,omitempty"`

	// scheduledAttempts is how many attempts Retry fits into MaxAge.
	scheduledAttempts int
}

// Spool defaults.
var defaultSpoolRetry = []time.Duration{10 * time.Second, time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 6 * time.Hour}

const (
	DefaultSpoolMaxAge      = 72 * time.Hour
	DefaultSpoolConcurrency = 4
	// spoolPrefix holds one key per spooled callback (see spoolItem.name).
	spoolPrefix = storagePrefix + "/spool"
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
	// Scope names the secret that verified it: only a handler holding that
	// secret redelivers it.
	Scope string `json:"scope"`
	// Deliver names the deliver block that spooled it (Handler.deliverID):
	// of the handlers holding its secret, that one redelivers it.
	Deliver string `json:"deliver,omitempty"`
	// The request as it reached the handler: Host, the request URI after
	// any rewrite before the handler (and without the query unless
	// keep_query), and ZEGO's address, so the deliver chain sees a
	// redelivery as it saw the first attempt.
	Host       string `json:"host"`
	URI        string `json:"uri"`
	RemoteAddr string `json:"remote_addr,omitempty"`
	// ClientIP is the client's address as the server determined it (past
	// trusted proxies), for {client_ip} in the deliver chain.
	ClientIP     string    `json:"client_ip,omitempty"`
	FirstArrival time.Time `json:"first_arrival"`
	// RevivedAt is when the CLI last retried it; max_age counts from the
	// later of the two.
	RevivedAt time.Time `json:"revived_at,omitzero"`
	// Attempts counts the spool's redelivery attempts (ZEGO's own first
	// one is not among them), each counted before it is made.
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt"`
	LastError   string    `json:"last_error,omitempty"`
	Dead        bool      `json:"dead,omitempty"`
	// DeliveredAt marks an item delivered that could not be removed: it is
	// never delivered again, and its removal is retried.
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
}

func (item *spoolItem) state() string {
	if item.Dead {
		return spoolDead
	}
	return spoolWaiting
}

const (
	spoolWaiting    = "waiting"
	spoolDead       = "dead"
	spoolUnreadable = "unreadable"
	spoolDelivered  = "delivered"
)

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

var errNotSpoolName = errors.New("not a spool item's name: copy it from 'spool list --json' or 'spool show --task TASK_ID', or give --task TASK_ID instead (a name is the Idempotency-Key, '-', and 32 more hex digits)")

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

// Bounds of a stored item: anything else was not written by this module.
const (
	maxItemAttempts = 1 << 20
	maxItemText     = 2048
)

// validate checks that the item stored at key is one this module wrote:
// every field in range, its name its key's.
func (item *spoolItem) validate(key string) error {
	switch {
	case !isHex128(item.ID) || !isHex128(item.Scope):
		return errors.New("no Idempotency-Key or scope")
	case path.Base(key) != item.name():
		return errors.New("its id and scope are not its name")
	case item.Attempts < 0 || item.Attempts > maxItemAttempts:
		return fmt.Errorf("attempts %d out of range", item.Attempts)
	case len(item.Deliver) > 64 || len(item.ClientIP) > 64:
		return errors.New("a deliver block's name or a client address too long")
	case item.Event == "" || len(item.Event) > 64 || len(item.TaskID) > maxItemText || len(item.RoomID) > maxItemText || len(item.StreamID) > maxItemText:
		return errors.New("no event, or an identifier too long")
	case len(item.Document) == 0 || item.Document[0] != '{' || len(item.Document) > maxBodyLimit*2 || !json.Valid(item.Document):
		return errors.New("no document, or not a JSON object")
	case !strings.HasPrefix(item.URI, "/") || len(item.URI) > maxItemText || len(item.Host) > 255 || len(item.RemoteAddr) > 64:
		return errors.New("no request URI, or a URI, host or address too long")
	case item.FirstArrival.IsZero() || item.NextAttempt.IsZero():
		return errors.New("no first arrival or next attempt")
	}
	return nil
}

// loadSpoolItem reads and validates the item at key; fs.ErrNotExist when
// there is none, errUnreadableItem wrapped when it is not one.
func loadSpoolItem(ctx context.Context, storage certmagic.Storage, key string) (*spoolItem, error) {
	value, err := storage.Load(ctx, key)
	if err != nil {
		return nil, err
	}
	item := new(spoolItem)
	if err := json.Unmarshal(value, item); err != nil {
		return nil, fmt.Errorf("%w: %v", errUnreadableItem, err)
	}
	if err := item.validate(key); err != nil {
		return nil, fmt.Errorf("%w: %v", errUnreadableItem, err)
	}
	return item, nil
}

var errUnreadableItem = errors.New("not a spool item")

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

// delivery rebuilds the verified callback the item holds.
func (item *spoolItem) delivery(start time.Time) *delivery {
	d := &delivery{
		callback: verify.Callback{Event: item.Event, AppID: item.AppID, TaskID: item.TaskID, Code: item.Code},
		roomID:   item.RoomID,
		streamID: item.StreamID,
		doc:      item.Document,
		scope:    item.Scope,
		start:    start,
	}
	id, _ := hex.DecodeString(item.ID) // 16 bytes: validate checked
	d.idempotencyID = [16]byte(id)
	return d
}

// spooler is a handler's spool at run time: its storage and its place at
// the storage's worker. A nil *spooler is the spool off.
type spooler struct {
	config  *Spool
	storage certmagic.Storage
	worker  *spoolWorker
	poolKey string
	logger  *zap.Logger
	metrics *handlerMetrics
	now     func() time.Time
	// deliverID is the handler's, recorded in each item.
	deliverID string
}

// newSpooler joins the worker of storage, starting it when it is the
// first to use it.
func (h *Handler) newSpooler(storage certmagic.Storage) error {
	poolKey := "zego_callback spool worker " + storageName(storage)
	value, _, err := spoolWorkers.LoadOrNew(poolKey, func() (caddy.Destructor, error) {
		w := newSpoolWorker()
		go w.run()
		return w, nil
	})
	if err != nil {
		return err
	}
	h.joinSpoolWorker(storage, value.(*spoolWorker), poolKey)
	return nil
}

// joinSpoolWorker gives the handler its spooler on storage, served by w
// (held in spoolWorkers under poolKey, unless it is ""), and registers
// it: from then on w's goroutine reads the handler.
func (h *Handler) joinSpoolWorker(storage certmagic.Storage, w *spoolWorker, poolKey string) {
	h.Spool.scheduledAttempts = h.Spool.countScheduledAttempts()
	h.spooler = &spooler{config: h.Spool, storage: storage, worker: w, poolKey: poolKey, logger: h.logger, metrics: h.metrics, now: h.clock(), deliverID: h.deliverID}
	w.register(h)
}

// storageName tells storages apart for the worker pool: FileStorage and
// most others name themselves; any other is taken to be its own.
func storageName(storage certmagic.Storage) string {
	if named, ok := storage.(fmt.Stringer); ok {
		return fmt.Sprintf("%T %s", storage, named)
	}
	return fmt.Sprintf("%T %p", storage, storage)
}

func (s *spooler) close(h *Handler) error {
	s.worker.unregister(h)
	if s.poolKey == "" {
		return nil // a worker of its own (tests)
	}
	_, err := spoolWorkers.Delete(s.poolKey)
	return err
}

// store keeps a callback the deliver chain did not accept, unless it is
// spooled already (ZEGO's retry of a callback the edge owns already). It
// reports whether the edge owns the delivery now.
func (s *spooler) store(r *http.Request, d *delivery, a *attempt) bool {
	if s == nil {
		return false
	}
	ctx := withoutCancel(r)
	now := s.now()
	clientIP, _ := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string)
	item := &spoolItem{
		ID: hex.EncodeToString(d.idempotencyID[:]), Event: d.callback.Event, AppID: d.callback.AppID, TaskID: d.callback.TaskID,
		Code: d.callback.Code, RoomID: d.roomID, StreamID: d.streamID, Document: d.doc, Scope: d.scope, Deliver: s.deliverID,
		Host: r.Host, URI: r.URL.RequestURI(), RemoteAddr: r.RemoteAddr, ClientIP: clientIP,
		FirstArrival: now, NextAttempt: now.Add(s.config.wait(0)),
		LastError: a.describe(),
	}
	key := spoolKey(item.name())
	// "Already spooled" only for an item that loads and validates; an
	// unreadable one (a crash mid-write) is replaced by this good copy.
	existing, err := loadSpoolItem(ctx, s.storage, key)
	switch {
	case err == nil && existing.DeliveredAt.IsZero():
		return true
	case err == nil:
		return false // delivered, and not yet removed: ZEGO's retry is a duplicate; the failure stands
	case errors.Is(err, errUnreadableItem):
		err = s.replaceUnreadable(ctx, key, item)
	case errors.Is(err, fs.ErrNotExist):
		err = storeSpoolItem(ctx, s.storage, item)
	}
	if err != nil {
		s.logger.Error("could not spool a callback the backend did not accept; ZEGO gets the failure and retries",
			zap.String("event", item.Event), zap.String("task_id", item.TaskID), zap.Uint32("app_id", item.AppID), zap.String("upstream", item.LastError), zap.Error(err))
		return false
	}
	s.metrics.spooled.Inc()
	s.worker.noteSpooled(key)
	s.logger.Warn("callback spooled: the backend did not accept it; the edge redelivers it",
		zap.String("event", item.Event), zap.Uint32("app_id", item.AppID), zap.String("task_id", item.TaskID),
		zap.String("upstream", item.LastError), zap.Time("next_attempt", item.NextAttempt))
	return true
}

// replaceUnreadable writes item over an unreadable one. No worker
// attempts an unreadable item, and one that reads this one half-written
// takes it for unreadable until its next read.
func (s *spooler) replaceUnreadable(ctx context.Context, key string, item *spoolItem) error {
	s.logger.Warn("replacing an unreadable spool item with ZEGO's retry of it", zap.String("id", key))
	return storeSpoolItem(ctx, s.storage, item)
}

// delivered takes a callback that ZEGO's own retry delivered out of the
// spool (its 202 was lost, say), so the worker cannot deliver it again, and
// tells the worker the backend answers again.
func (s *spooler) delivered(ctx context.Context, d *delivery) {
	if s == nil {
		return
	}
	if s.worker.backendAnswered() {
		key := spoolKey(hex.EncodeToString(d.idempotencyID[:]) + "-" + d.scope)
		_ = s.storage.Delete(context.WithoutCancel(ctx), key) // best effort: the delivery record stands behind it
	}
}

// wait is the wait after the given number of attempts, with up to a tenth
// more or less at random, so that a returning backend is not hit by every
// item in the same second.
func (s *Spool) wait(attempts int) time.Duration {
	wait := s.baseWait(attempts)
	return wait + time.Duration((rand.Float64()-0.5)*0.2*float64(wait))
}

// baseWait is the schedule's wait after the given number of attempts.
func (s *Spool) baseWait(attempts int) time.Duration {
	return time.Duration(s.Retry[min(max(attempts, 0), len(s.Retry)-1)])
}

// longestWait bounds any wait wait can return after attempts.
func (s *Spool) longestWait(attempts int) time.Duration {
	return s.baseWait(attempts) * 11 / 10
}

// countScheduledAttempts is how many attempts the schedule makes within
// max_age: an item is given up only after that many, so that a clock step
// cannot age it past max_age before its time.
func (s *Spool) countScheduledAttempts() int {
	var elapsed time.Duration
	n := 0
	for elapsed <= time.Duration(s.MaxAge) && n < maxItemAttempts {
		elapsed += s.baseWait(n)
		n++
	}
	return max(n-1, 1)
}

// listSpool calls fn with every item in the spool, one at a time, in name
// order; unreadable keys are passed with their error.
func listSpool(ctx context.Context, storage certmagic.Storage, fn func(key string, item *spoolItem, err error) error) error {
	keys, err := listKeys(ctx, storage, spoolPrefix)
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

// lockSpool takes the spool's lock for the CLI, asking workers to leave
// it (spoolLockWanted) while it waits: they may hold it for up to a
// pass's bound (30 s and deliver_timeout) first.
func lockSpool(ctx context.Context, storage certmagic.Storage) (unlock func(), err error) {
	wanted := func() { _ = storage.Store(ctx, spoolLockWanted, []byte(time.Now().UTC().Format(time.RFC3339Nano))) }
	wanted()
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		ticker := time.NewTicker(lockWantedFor / 3)
		defer ticker.Stop()
		for {
			select {
			case <-stop:
				return
			case <-ticker.C:
				wanted()
			}
		}
	}()
	err = storage.Lock(ctx, spoolLock)
	close(stop)
	<-stopped // or a refresh under way would write the request back
	_ = storage.Delete(context.WithoutCancel(ctx), spoolLockWanted)
	if err != nil {
		return nil, err
	}
	return func() { _ = storage.Unlock(context.WithoutCancel(ctx), spoolLock) }, nil
}

// retrySpoolItems makes items, waiting or dead, due now, under one hold
// of the spool's lock (a worker mid-attempt would write them back), and
// asks running workers to read the spool again: they redeliver the items
// within a second or two. It returns the keys it made due before any
// error.
func retrySpoolItems(ctx context.Context, storage certmagic.Storage, keys []string, now time.Time) (done []string, err error) {
	unlock, err := lockSpool(ctx, storage)
	if err != nil {
		return nil, err
	}
	defer unlock()
	defer func() {
		if len(done) == 0 {
			return
		}
		stamp := []byte(now.UTC().Format(time.RFC3339Nano))
		if requestErr := storage.Store(ctx, spoolRetryRequest, stamp); requestErr != nil && err == nil {
			err = fmt.Errorf("the items are due now, but running Caddy instances may take 30 s to see it: %w", requestErr)
		}
	}()
	for _, key := range keys {
		item, err := loadSpoolItem(ctx, storage, key)
		if err != nil {
			return done, fmt.Errorf("spool item %s: %w", path.Base(key), err)
		}
		item.Dead = false
		item.NextAttempt, item.RevivedAt = now, now
		if err := storeSpoolItem(ctx, storage, item); err != nil {
			return done, fmt.Errorf("spool item %s: %w", path.Base(key), err)
		}
		done = append(done, key)
	}
	return done, nil
}
