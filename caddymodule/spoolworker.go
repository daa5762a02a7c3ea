package caddymodule

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"

	"github.com/zegoedge/caddy-zego-callback/verify"
)

// spoolWorkers holds one worker per storage, shared by every handler that
// spools to it and kept across config reloads: a reload neither restarts
// redelivery nor runs two workers over one spool in one process.
var spoolWorkers = caddy.NewUsagePool()

const (
	// spoolRescanEvery makes a pass read every item (not only the ones its
	// cache says are due) at least this often, to see what other instances
	// and the CLI changed.
	spoolRescanEvery = 30 * time.Second
	// orphanAfter is when a file in the spool that is not an item (a
	// storage's temporary file left by a crash mid-write) is removed.
	orphanAfter = time.Hour
	// maxTick bounds the wait between passes.
	maxTick = time.Second
	// spoolLock is the storage lock under which items are redelivered, or
	// changed by the CLI.
	spoolLock = spoolPrefix
	// passBudget bounds the time in which a pass starts attempts.
	passBudget = 30 * time.Second
)

// spoolWorker redelivers due items, oldest first, a few at a time. Every
// instance sharing the storage runs one; the storage's lock on the spool
// (spoolLock), held for a pass's attempts, makes each attempt one
// instance's. It delivers an item through the handler that owns it (see
// owner): the newest registered one.
type spoolWorker struct {
	ctx    context.Context
	cancel context.CancelFunc
	wake   chan struct{}
	// now is the worker's clock: the wall clock with the process's
	// monotonic reading, so waits within the process ignore clock steps.
	now func() time.Time

	mu       sync.Mutex
	handlers []*Handler // registered, oldest first

	// waiting is the number of waiting items the last pass saw, plus those
	// spooled since; recovered asks the next pass to make them all due.
	waiting   atomic.Int64
	failing   atomic.Bool
	recovered atomic.Bool

	// The run goroutine's own, and the attempts' (under cacheMu).
	cacheMu sync.Mutex
	cache   map[string]*spoolEntry
	// recorded is, for the items this process wrote last, the attempts
	// count it wrote: such an item's next attempt need not be counted
	// before it is made (see attempt).
	recorded   map[string]recordedItem
	lastRescan time.Time
	// marked: the storage holds spoolMarker; markWarned: writing it
	// failed, which was logged once.
	marked, markWarned bool
	// retryRequested is when spoolRetryRequest was last seen written.
	retryRequested time.Time
}

// spoolMarker is written by the first pass of a worker, so that the
// storage of a Caddy running with a spool holds a zego_callback folder
// before anything is spooled: the CLI takes a storage without one for
// the wrong storage (another user's, another config's), never an empty
// spool.
const spoolMarker = storagePrefix + "/README"

// spoolRetryRequest is written by the CLI after it made items due, so
// that running workers read the spool again at once.
const spoolRetryRequest = storagePrefix + "/retry-requested"

// spoolLockWanted is written by the CLI while it waits for the spool's
// lock: workers leave the lock to it, or, with items due pass after pass,
// they would take it again before the CLI's next try. It counts for
// lockWantedFor after its last write, so a CLI gone leaves no hold.
const spoolLockWanted = storagePrefix + "/lock-wanted"

const lockWantedFor = 30 * time.Second

// deliveredMark is where a delivered item that could neither be removed
// nor rewritten (a read-only spool folder) is marked delivered, outside
// the spool folder: without it a restart would deliver it again.
func deliveredMark(key string) string {
	return path.Join(storagePrefix, "delivered", path.Base(key))
}

func (w *spoolWorker) markStorage(storage certmagic.Storage, logger *zap.Logger) {
	if w.marked = storage.Exists(w.ctx, spoolMarker); w.marked {
		return
	}
	text := "This folder holds the zego_callback handler's spool (spool/) and its dedupe records.\n" +
		"Read and change it with `caddy zego-callback spool --help`, as Caddy's user.\n"
	err := storage.Store(w.ctx, spoolMarker, []byte(text))
	if w.marked = err == nil; !w.marked && !w.markWarned {
		w.markWarned = true
		logger.Warn("cannot write to the spool's storage", zap.String("key", spoolMarker), zap.Error(err))
	}
}

// spoolEntry is what the worker knows of an item between reads.
type spoolEntry struct {
	state        string // spoolWaiting, spoolDead, spoolUnreadable or spoolDelivered
	due          time.Time
	firstArrival time.Time
	// attempts and revived as last read: an attempt goes ahead under the
	// item's lock only if they are unchanged (no other instance, nor the
	// CLI, touched it meanwhile).
	attempts int
	revived  time.Time
	event    string
	appID    uint32
	scope    string
	deliver  string // the deliver block that spooled it
	// warned: the item's problem (unreadable, no owner, not removable)
	// was logged once.
	warned bool
}

// newSpoolWorker makes a worker; go w.run() starts it, and tests call
// w.pass themselves.
func newSpoolWorker() *spoolWorker {
	ctx, cancel := context.WithCancel(context.Background())
	return &spoolWorker{ctx: ctx, cancel: cancel, wake: make(chan struct{}, 1), now: time.Now,
		cache: make(map[string]*spoolEntry), recorded: make(map[string]recordedItem)}
}

// Destruct stops the worker when no config uses it any more.
func (w *spoolWorker) Destruct() error {
	w.cancel()
	return nil
}

func (w *spoolWorker) register(h *Handler) {
	w.mu.Lock()
	w.handlers = append(w.handlers, h)
	w.mu.Unlock()
	w.nudge()
}

func (w *spoolWorker) unregister(h *Handler) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.handlers = slices.DeleteFunc(w.handlers, func(other *Handler) bool { return other == h })
}

func (w *spoolWorker) registered() []*Handler {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.handlers)
}

func (w *spoolWorker) nudge() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// noteSpooled counts an item spooled on the request path.
func (w *spoolWorker) noteSpooled(key string) {
	w.waiting.Add(1)
	w.failing.Store(true)
	w.noteRecorded(key, 0)
}

// recordedItem is an item this process wrote last: its attempts count,
// and when.
type recordedItem struct {
	attempts int
	at       time.Time
}

// noteRecorded remembers that this process wrote the item at key with
// this attempts count.
func (w *spoolWorker) noteRecorded(key string, attempts int) {
	w.cacheMu.Lock()
	w.recorded[key] = recordedItem{attempts, time.Now()}
	w.cacheMu.Unlock()
}

// recordedHere reports whether this process wrote the item at key last,
// with this attempts count.
func (w *spoolWorker) recordedHere(key string, attempts int) bool {
	w.cacheMu.Lock()
	defer w.cacheMu.Unlock()
	r, ok := w.recorded[key]
	return ok && r.attempts == attempts
}

// backendAnswered is told of each callback the backend accepted on the
// request path: after failures, the waiting items need not wait out their
// backoff. It reports whether any item waits.
func (w *spoolWorker) backendAnswered() bool {
	if w.waiting.Load() == 0 {
		return false
	}
	if w.failing.CompareAndSwap(true, false) {
		w.recovered.Store(true)
		w.nudge()
	}
	return true
}

// running reports whether the handler belongs to the running config (a
// handler provisioned without one, in the unit tests, counts as running).
func (h *Handler) running() bool {
	if h.ctx.Context == nil {
		return true
	}
	// The handler's context derives from its config's: they end together.
	active := caddy.ActiveContext()
	return active.Context != nil && h.ctx.Done() == active.Done()
}

// owner is the handler that delivers the item, among those that may: they
// hold the secret that verified it, allow its app and accept its event.
// The one whose deliver block spooled it takes it; when none has that
// block any more (a reload changed it: a new backend address, say), the
// only one that may takes it. When several may and none spooled it, none
// does: the item waits rather than reach a backend it was never routed
// to. An item from before items named their deliver block goes to the
// newest, as it did then.
func owner(handlers []*Handler, e *spoolEntry) *Handler {
	var newest *Handler
	candidates := 0
	for _, h := range slices.Backward(handlers) {
		if !slices.Contains(h.scopesFor(e.appID), e.scope) || !h.appAllowed(e.appID) || !slices.Contains(h.Events, e.event) {
			continue
		}
		if h.deliverID == e.deliver {
			return h
		}
		if newest == nil {
			newest = h
		}
		candidates++
	}
	if candidates == 1 || e.deliver == "" {
		return newest
	}
	return nil
}

func (w *spoolWorker) run() {
	for w.ctx.Err() == nil {
		w.runPasses()
	}
}

// runPasses makes passes until the worker stops or a pass panics: the
// panic is logged and run starts again after a pause, never taking Caddy
// down.
func (w *spoolWorker) runPasses() {
	defer func() {
		if p := recover(); p != nil {
			logger := caddy.Log()
			if handlers := w.registered(); len(handlers) > 0 {
				logger = handlers[len(handlers)-1].logger
			}
			logger.Error("the spool's worker panicked; it starts again in a second", zap.Any("panic", p), zap.Stack("stack"))
			select {
			case <-w.ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	for {
		tick := w.pass()
		timer := time.NewTimer(tick)
		select {
		case <-w.ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		case <-w.wake:
			timer.Stop()
		}
	}
}

// pass goes once through the spool, redelivering what is due, oldest
// first, and updates the gauges; it returns the wait until the next pass.
func (w *spoolWorker) pass() time.Duration {
	// Only the running config's handlers deliver: not one being validated
	// (caddy validate provisions it), nor one whose load fails at start.
	handlers := slices.DeleteFunc(w.registered(), func(h *Handler) bool { return !h.running() })
	if len(handlers) == 0 {
		return maxTick
	}
	newest := handlers[len(handlers)-1]
	storage, logger, m := newest.spooler.storage, newest.logger, newest.metrics
	tick, concurrency, longestAttempt := maxTick, 1, time.Duration(0)
	for _, h := range handlers {
		tick = min(tick, time.Duration(h.Spool.Retry[0]))
		concurrency = max(concurrency, h.Spool.Concurrency)
		longestAttempt = max(longestAttempt, time.Duration(h.DeliverTimeout))
	}
	tick = max(tick, 10*time.Millisecond)

	// One instance redelivers at a time: the storage's lock on the spool,
	// held for the pass, makes each attempt one instance's, for one lock a
	// pass rather than one (a file and an fsync on file_system) an item,
	// and items read in the pass need no second read. Without it the pass
	// only reads, for the gauges.
	passStart := time.Now()
	locked, err := false, error(nil)
	// A request dated far ahead (another host's clock) counts as stale too.
	if info, statErr := storage.Stat(w.ctx, spoolLockWanted); statErr != nil || time.Since(info.Modified).Abs() > lockWantedFor {
		locked, err = tryLockStorage(w.ctx, storage, spoolLock, logger, passBudget+longestAttempt)
	}
	if err != nil {
		logger.Warn("cannot take the spool's lock", zap.Error(err))
	}
	if locked {
		defer func() { _ = storage.Unlock(context.WithoutCancel(w.ctx), spoolLock) }()
	}

	if !w.marked {
		w.markStorage(storage, logger)
	}

	now := w.now()
	rescan := now.Sub(w.lastRescan) >= min(spoolRescanEvery, 10*tick)
	// The CLI's retry writes spoolRetryRequest: read every item now, not
	// at the next rescan, up to 30 s later. One stat a pass, by a pass
	// that may attempt (another may hold the lock: the CLI, a peer).
	if locked {
		if info, err := storage.Stat(w.ctx, spoolRetryRequest); err == nil && !info.Modified.Equal(w.retryRequested) {
			w.retryRequested, rescan = info.Modified, true
		}
	}
	if rescan {
		w.lastRescan = now
	}
	// After a success that followed failures, every item waiting now is
	// due now: the backend is back (kept for a pass that may attempt).
	recovering := locked && w.recovered.Swap(false)
	listed := time.Now()
	keys, err := listKeys(w.ctx, storage, spoolPrefix)
	if err != nil {
		logger.Warn("cannot list the spool", zap.Error(err))
		return tick
	}
	next := make(map[string]*spoolEntry, len(keys)) // keys gone from the spool drop out
	type dueItem struct {
		key   string
		entry *spoolEntry
		item  *spoolItem // as read in this pass, or nil
		owner *Handler
	}
	var due []dueItem
	for _, key := range keys {
		if w.ctx.Err() != nil {
			return tick
		}
		if !validSpoolName(path.Base(key)) {
			w.removeOrphan(storage, logger, key, now)
			continue
		}
		w.cacheMu.Lock()
		entry := w.cache[key]
		w.cacheMu.Unlock()
		// Items are read here only when the cache cannot say (new ones, and
		// all of them at a rescan); a due item is read by its attempt, in
		// parallel.
		var item *spoolItem
		if entry == nil || rescan {
			var gone bool
			if entry, item, gone = w.refresh(storage, logger, key, entry, now); gone {
				continue
			}
		}
		if recovering && entry.state == spoolWaiting {
			entry.due = now
		}
		next[key] = entry
		if locked && (entry.state == spoolWaiting || entry.state == spoolDelivered) && !now.Before(entry.due) {
			h := owner(handlers, entry)
			if h == nil {
				if !entry.warned {
					entry.warned = true
					logger.Warn("a spooled callback waits: no zego_callback in the running config holds its secret, allows its app and accepts its event, "+
						"or several do and none has the deliver block that spooled it (put that block back, or deliver it by hand from 'spool show' and drop it)",
						zap.String("id", path.Base(key)), zap.String("event", entry.event), zap.Uint32("app_id", entry.appID))
				}
				continue
			}
			due = append(due, dueItem{key, entry, item, h})
		}
	}
	w.cacheMu.Lock()
	w.cache = next
	for key, r := range w.recorded {
		if next[key] == nil && r.at.Before(listed) { // gone from the spool, not spooled since the listing
			delete(w.recorded, key)
		}
	}
	w.cacheMu.Unlock()

	slices.SortFunc(due, func(a, b dueItem) int { return a.entry.firstArrival.Compare(b.entry.firstArrival) })
	var wg sync.WaitGroup
	slots := make(chan struct{}, concurrency)
	for _, item := range due {
		// A pass ends after passBudget, so that the lock it holds is
		// bounded (the CLI waits for it; another instance takes over a
		// lock held longer as its holder's gone) and items read in it are
		// fresh. The rest are due in the next pass.
		if w.ctx.Err() != nil || time.Since(passStart) > passBudget {
			break
		}
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			defer recoverBackground(item.owner.logger, "a spool redelivery")
			w.attempt(item.owner, item.key, item.entry, item.item)
		})
	}
	wg.Wait()
	w.updateGauges(m, now)
	if len(due) > 0 {
		// Items may have come due during a long pass: drain on at once.
		return 10 * time.Millisecond
	}
	return tick
}

func (w *spoolWorker) updateGauges(m *handlerMetrics, now time.Time) {
	w.cacheMu.Lock()
	defer w.cacheMu.Unlock()
	counts := make(map[string]int, 4)
	oldest := now
	for _, e := range w.cache {
		counts[e.state]++
		if e.state == spoolWaiting && e.firstArrival.Before(oldest) {
			oldest = e.firstArrival
		}
	}
	w.waiting.Store(int64(counts[spoolWaiting]))
	m.spoolWaiting.Set(float64(counts[spoolWaiting]))
	m.spoolDead.Set(float64(counts[spoolDead]))
	m.spoolUnreadable.Set(float64(counts[spoolUnreadable]))
	m.spoolOldest.Set(now.Sub(oldest).Seconds())
	m.spoolLastPass.SetToCurrentTime()
}

// removeOrphan removes a file in the spool that is not an item once it is
// older than orphanAfter: a storage's temporary file left by a crash.
func (w *spoolWorker) removeOrphan(storage certmagic.Storage, logger *zap.Logger, key string, now time.Time) {
	info, err := storage.Stat(w.ctx, key)
	if err != nil || !info.IsTerminal || now.Sub(info.Modified) < orphanAfter {
		return
	}
	if err := storage.Delete(w.ctx, key); err == nil {
		logger.Warn("removed a file from the spool that is not an item (a temporary file left by a crash?)", zap.String("key", key))
	}
}

// refresh reads an item into a cache entry, and returns the item when it
// is readable; gone means it left the spool.
func (w *spoolWorker) refresh(storage certmagic.Storage, logger *zap.Logger, key string, previous *spoolEntry, now time.Time) (entry *spoolEntry, item *spoolItem, gone bool) {
	item, err := loadSpoolItem(w.ctx, storage, key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, true
	}
	if previous != nil && previous.state == spoolDelivered {
		return previous, item, false // delivered: whatever storage still says
	}
	if err != nil {
		entry = &spoolEntry{state: spoolUnreadable, due: now.Add(spoolRescanEvery)}
		if previous != nil && previous.state == spoolUnreadable {
			entry.warned = previous.warned
		}
		if !entry.warned {
			entry.warned = true
			logger.Error("a spool item cannot be read: it is counted in spool_unreadable and never delivered; ZEGO's retry of it replaces it, or drop it with 'caddy zego-callback spool drop'",
				zap.String("key", key), zap.Error(err))
		}
		return entry, nil, false
	}
	if previous == nil && item.DeliveredAt.IsZero() {
		// First sight in this process (one stat an item): a run that could
		// not mark it in place may have delivered it. A mark older than
		// the item is an earlier item's of the same name.
		if info, err := storage.Stat(w.ctx, deliveredMark(key)); err == nil && !info.Modified.Before(maxTime(item.FirstArrival, item.RevivedAt)) {
			item.DeliveredAt = info.Modified
		}
	}
	entry = w.entryOf(item, now)
	// What the worker itself scheduled within this process stands: the
	// stored wall-clock time may have been moved by a clock step.
	if previous != nil && previous.state == entry.state && previous.attempts == entry.attempts && previous.revived.Equal(entry.revived) {
		entry.due, entry.warned = previous.due, previous.warned
	}
	return entry, item, false
}

// entryOf summarises a loaded item. Its wait is the stored next attempt,
// but never longer than its schedule's wait from now, so that a backward
// clock step cannot hold it back.
func (w *spoolWorker) entryOf(item *spoolItem, now time.Time) *spoolEntry {
	e := &spoolEntry{
		state: item.state(), firstArrival: item.FirstArrival, attempts: item.Attempts, revived: item.RevivedAt,
		event: item.Event, appID: item.AppID, scope: item.Scope, deliver: item.Deliver,
	}
	switch {
	case !item.DeliveredAt.IsZero():
		e.state, e.due = spoolDelivered, now
	case item.Dead:
		e.due = now.Add(spoolRescanEvery)
	default:
		longest := time.Duration(0)
		if handlers := w.registered(); len(handlers) > 0 {
			if h := owner(handlers, e); h != nil {
				longest = h.Spool.longestWait(item.Attempts)
			} else {
				longest = handlers[len(handlers)-1].Spool.longestWait(item.Attempts)
			}
		}
		e.due = now.Add(min(max(item.NextAttempt.Sub(now), 0), longest))
	}
	return e
}

// attempt redelivers the item through h's deliver chain: as read in this
// pass, or (when item is nil) as it reads now, if it is still as the cache
// knew it. The caller holds spoolLock, so no other instance changes it
// meanwhile.
func (w *spoolWorker) attempt(h *Handler, key string, entry *spoolEntry, item *spoolItem) {
	storage, logger, m := h.spooler.storage, h.logger, h.metrics
	ctx := w.ctx
	if item == nil {
		fresh, read, gone := w.refresh(storage, logger, key, entry, w.now())
		switch {
		case gone:
			w.dropEntry(key)
			return
		case read == nil, fresh.state != entry.state, fresh.attempts != entry.attempts, !fresh.revived.Equal(entry.revived):
			w.setEntry(key, fresh, time.Time{}) // unreadable, or changed by the CLI or another instance: as it stands now
			return
		}
		item = read
	}
	if entry.state == spoolDelivered || !item.DeliveredAt.IsZero() {
		w.removeDelivered(h, key, item, entry)
		return
	}

	// Counted before it is made, so that an item that crashes Caddy still
	// reaches a dead letter: unless this process wrote the item last. If
	// it crashes now, the next process counts its own first attempt, so
	// each crash but the first still counts, and a crashing item reaches a
	// dead letter all the same, for one write less per item in a drain.
	now, wallNow := w.now(), h.clock()()
	countedAfter := w.recordedHere(key, item.Attempts)
	if !countedAfter && strings.Contains(item.LastError, noResult) && h.Spool.givenUp(item, wallNow) {
		// Its last attempt recorded no result (it may crash Caddy), and it
		// has had its schedule: a dead letter, without one more try.
		w.deadLetter(h, key, item, now)
		return
	}
	item.Attempts++
	wait := h.Spool.wait(item.Attempts)
	item.NextAttempt = wallNow.Add(wait)
	lastError := item.LastError
	if !countedAfter {
		item.LastError = "attempt " + strconv.Itoa(item.Attempts) + " started at " + wallNow.UTC().Format(time.RFC3339) + " and " + noResult + "; before: " + lastError
		if err := storeSpoolItem(ctx, storage, item); err != nil {
			logger.Warn("cannot count a redelivery attempt in the spool; attempting anyway", zap.String("id", item.name()), zap.Error(err))
		}
	}
	result, delivered := h.redeliver(ctx, item)
	switch {
	case delivered:
		m.spoolAttempts.WithLabelValues(result).Inc()
		if logger.Core().Enabled(zap.DebugLevel) {
			logger.Debug("spooled callback delivered",
				zap.String("id", item.name()), zap.String("event", item.Event), zap.Uint32("app_id", item.AppID), zap.String("task_id", item.TaskID),
				zap.String("outcome", result), zap.Int("attempts", item.Attempts), zap.Duration("since_first_arrival", wallNow.Sub(item.FirstArrival)))
		}
		// The backend answers: the other waiting items need not wait out
		// their backoff.
		if w.failing.CompareAndSwap(true, false) || item.Attempts > 1 {
			w.recovered.Store(true)
			w.nudge()
		}
		item.DeliveredAt = wallNow
		w.removeDelivered(h, key, item, entry)
		return
	case result == verify.ReasonOf(verify.ErrInFlight):
		// ZEGO's own retry is being delivered right now: no attempt was
		// made; look again soon.
		item.Attempts--
		item.LastError = lastError
		wait = h.Spool.wait(0)
		item.NextAttempt = wallNow.Add(wait)
	default:
		w.failing.Store(true)
		item.LastError = result
		m.spoolAttempts.WithLabelValues("failed").Inc()
		// Given up only after a failed attempt, so a revived item gets one,
		// and only once it had the attempts its schedule makes in max_age.
		// maxItemAttempts bounds what an item may hold: past it, a dead
		// letter rather than an item the loader refuses.
		if h.Spool.givenUp(item, wallNow) || item.Attempts >= maxItemAttempts {
			w.deadLetter(h, key, item, now)
			return
		}
	}
	if err := storeSpoolItem(context.WithoutCancel(ctx), storage, item); err != nil {
		logger.Warn("cannot update a spool item", zap.String("id", item.name()), zap.Error(err))
	} else {
		w.noteRecorded(key, item.Attempts)
	}
	after := w.entryOf(item, now)
	w.setEntry(key, after, now.Add(wait))
}

// noResult marks an attempt counted before it was made, until its result
// replaces it.
const noResult = "recorded no result (Caddy stopped during it?)"

// givenUp: the item is older than max_age (from its arrival or revival)
// and has had the attempts its schedule fits into max_age.
func (s *Spool) givenUp(item *spoolItem, now time.Time) bool {
	return now.Sub(maxTime(item.FirstArrival, item.RevivedAt)) >= time.Duration(s.MaxAge) && item.Attempts >= s.scheduledAttempts
}

// deadLetter stores the item as a dead letter and logs it.
func (w *spoolWorker) deadLetter(h *Handler, key string, item *spoolItem, now time.Time) {
	item.Dead = true
	h.metrics.deadLetters.Inc()
	h.logger.Error("spooled callback given up: a dead letter; retry or drop it with 'caddy zego-callback spool'",
		zap.String("id", item.name()), zap.String("event", item.Event), zap.Uint32("app_id", item.AppID), zap.String("task_id", item.TaskID),
		zap.Int("attempts", item.Attempts), zap.Time("first_arrival", item.FirstArrival), zap.String("last_error", item.LastError))
	if err := storeSpoolItem(context.WithoutCancel(w.ctx), h.spooler.storage, item); err != nil {
		h.logger.Warn("cannot update a spool item", zap.String("id", item.name()), zap.Error(err))
	} else {
		w.noteRecorded(key, item.Attempts)
	}
	w.setEntry(key, w.entryOf(item, now), time.Time{})
}

// removeDelivered takes a delivered item out of the spool. When that
// fails, the item is marked delivered (in storage if it can be written,
// and in the worker's memory), never delivered again, and its removal is
// retried with backoff.
func (w *spoolWorker) removeDelivered(h *Handler, key string, item *spoolItem, entry *spoolEntry) {
	ctx := context.WithoutCancel(w.ctx)
	err := h.spooler.storage.Delete(ctx, key)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		if entry.state == spoolDelivered { // a retried removal: its mark, if any, goes too
			_ = h.spooler.storage.Delete(ctx, deliveredMark(key))
		}
		w.dropEntry(key)
		return
	}
	tombstone := &spoolEntry{state: spoolDelivered, firstArrival: item.FirstArrival, attempts: item.Attempts, revived: item.RevivedAt,
		event: item.Event, appID: item.AppID, scope: item.Scope, deliver: item.Deliver, warned: entry.warned && entry.state == spoolDelivered}
	if !tombstone.warned {
		tombstone.warned = true
		if storeErr := storeSpoolItem(ctx, h.spooler.storage, item); storeErr != nil {
			err = errors.Join(err, storeErr)
			if markErr := h.spooler.storage.Store(ctx, deliveredMark(key), []byte(item.DeliveredAt.UTC().Format(time.RFC3339Nano))); markErr != nil {
				err = errors.Join(err, markErr)
			}
		}
		h.logger.Warn("a spooled callback was delivered but cannot be removed from the spool; it is not delivered again, and its removal is retried",
			zap.String("id", item.name()), zap.Error(err))
	}
	backoff := time.Minute
	if entry.state == spoolDelivered {
		backoff = min(2*max(entry.due.Sub(entry.firstArrival)/64, time.Minute), time.Hour)
	}
	w.setEntry(key, tombstone, w.now().Add(backoff))
}

func (w *spoolWorker) setEntry(key string, e *spoolEntry, due time.Time) {
	if !due.IsZero() {
		e.due = due
	}
	w.cacheMu.Lock()
	w.cache[key] = e
	w.cacheMu.Unlock()
}

func (w *spoolWorker) dropEntry(key string) {
	w.cacheMu.Lock()
	delete(w.cache, key)
	delete(w.recorded, key)
	w.cacheMu.Unlock()
}

// redeliver is the spool's delivery attempt: the same claim, deliver chain
// and record as ZEGO's callback, from a request the worker makes. It
// returns the outcome (forwarded, duplicate, in_flight or why it failed)
// and whether the item is delivered.
func (h *Handler) redeliver(ctx context.Context, item *spoolItem) (outcome string, delivered bool) {
	d := item.delivery(time.Now())
	d.product = h.Product
	claim, err := h.dedupe.claimRedelivery(ctx, d)
	switch {
	case errors.Is(err, errDuplicate):
		return outcomeDuplicate, true
	case err != nil:
		return verify.ReasonOf(err), false
	}
	w := &discardResponse{header: make(http.Header)}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, item.URI, http.NoBody)
	if err != nil {
		claim.finish(ctx, false)
		return err.Error(), false
	}
	r.Host, r.RequestURI, r.RemoteAddr = item.Host, item.URI, item.RemoteAddr
	if r.RemoteAddr == "" {
		r.RemoteAddr = "127.0.0.1:0"
	}
	repl := caddy.NewReplacer()
	r = caddyhttp.PrepareRequest(r, repl, w, &caddyhttp.Server{})
	if item.ClientIP != "" {
		caddyhttp.SetVar(r.Context(), caddyhttp.ClientIPVarKey, item.ClientIP)
	}
	setPlaceholders(repl, d)
	h.forwardNormalized(r, d, true) // the URI was stored as the first attempt had it
	a := h.deliver(w, r, d)
	claim.finish(context.WithoutCancel(ctx), a.taken())
	h.metrics.upstream.WithLabelValues(h.Product, h.eventLabel(d.callback.Event), codeClass(a.status, a.err), sourceSpool).Inc()
	h.metrics.deliverSpool.Observe(a.duration.Seconds())
	switch {
	case a.refused():
		return outcomeRefused, true
	case a.accepted():
		return outcomeForwarded, true
	}
	return a.describe(), false
}

// discardResponse is where a redelivery's answer goes.
type discardResponse struct{ header http.Header }

func (d *discardResponse) Header() http.Header         { return d.header }
func (d *discardResponse) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardResponse) WriteHeader(int)             {}

// recoverBackground, deferred at the top of a background goroutine, turns
// its panic into an ERROR line: a background task's bug must not take Caddy
// down.
func recoverBackground(logger *zap.Logger, what string) {
	if p := recover(); p != nil {
		logger.Error(what+" panicked", zap.Any("panic", p), zap.Stack("stack"))
	}
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
