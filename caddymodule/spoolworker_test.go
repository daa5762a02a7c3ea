package caddymodule

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/certmagic"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The worker's unit tests drive a worker by hand, pass by pass, over a
// real file_system storage in a temporary folder, without a running Caddy.

// recordingChain is a deliver chain that records the documents it gets and
// answers status (200 unless set).
type recordingChain struct {
	mu        sync.Mutex
	documents []string
	status    int
	delay     time.Duration
	inFlight  atomic.Int32
	maxFlight atomic.Int32
	during    func(r *http.Request) // called while the attempt is in flight
}

func (c *recordingChain) ServeHTTP(w http.ResponseWriter, r *http.Request) error {
	n := c.inFlight.Add(1)
	defer c.inFlight.Add(-1)
	for old := c.maxFlight.Load(); n > old && !c.maxFlight.CompareAndSwap(old, n); old = c.maxFlight.Load() {
	}
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.documents = append(c.documents, string(body))
	status, delay, during := c.status, c.delay, c.during
	c.mu.Unlock()
	if status == 0 {
		status = http.StatusOK
	}
	if during != nil {
		during(r)
	}
	time.Sleep(delay)
	w.WriteHeader(status)
	return nil
}

func (c *recordingChain) got() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.documents...)
}

func (c *recordingChain) set(status int) {
	c.mu.Lock()
	c.status = status
	c.mu.Unlock()
}

func gaugeValue(t *testing.T, g prometheus.Gauge) float64 {
	t.Helper()
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}

type spoolRig struct {
	h       *Handler
	w       *spoolWorker
	storage certmagic.Storage
	chain   *recordingChain
}

// newSpoolRig provisions a handler whose spool is on storage (a fresh
// folder when nil) and served by a worker of its own, which the test
// drives with pass.
func newSpoolRig(t *testing.T, storage certmagic.Storage, spool Spool) *spoolRig {
	t.Helper()
	if storage == nil {
		storage = &certmagic.FileStorage{Path: t.TempDir()}
	}
	h := newDeliverHandler(t, nil)
	h.ctx = caddy.Context{} // no config runs in unit tests: the worker takes it as running
	h.Spool = &spool
	h.applyDefaults()
	if err := h.Spool.check(false); err != nil {
		t.Fatal(err)
	}
	rig := &spoolRig{h: h, w: newSpoolWorker(), storage: storage, chain: new(recordingChain)}
	t.Cleanup(rig.w.cancel)
	h.joinSpoolWorker(storage, rig.w, "")
	h.deliverChain = rig.chain
	return rig
}

var rigItems atomic.Uint32

// item stores a waiting item of the rig's handler; id orders names (and so
// the hex order of Idempotency-Keys) apart from arrival.
func (rig *spoolRig) item(t *testing.T, firstArrival, nextAttempt time.Time, change func(*spoolItem)) *spoolItem {
	t.Helper()
	n := rigItems.Add(1)
	var id [16]byte
	id[0], id[1], id[2] = byte(n>>16), byte(n>>8), byte(n)
	item := &spoolItem{
		ID: hex.EncodeToString(id[:]), Event: "compose", AppID: 1234567890, TaskID: fmt.Sprintf("task-%d", n),
		Document: json.RawMessage(fmt.Sprintf(`{"task_id":"task-%d"}`, n)), Scope: rig.h.topScopes[0],
		Host: "edge.example", URI: "/zego/compose", RemoteAddr: "192.0.2.1:1234",
		FirstArrival: firstArrival, NextAttempt: nextAttempt,
	}
	if change != nil {
		change(item)
	}
	if err := storeSpoolItem(context.Background(), rig.storage, item); err != nil {
		t.Fatal(err)
	}
	return item
}

func (rig *spoolRig) load(t *testing.T, item *spoolItem) *spoolItem {
	t.Helper()
	stored, err := loadSpoolItem(context.Background(), rig.storage, spoolKey(item.name()))
	if err != nil {
		t.Fatalf("item %s: %v", item.name(), err)
	}
	return stored
}

func (rig *spoolRig) spoolFiles(t *testing.T) []string {
	t.Helper()
	keys, err := rig.storage.List(context.Background(), spoolPrefix, false)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return keys
}

// TestWorkerDrainsOldestFirst: the backlog drains in order of arrival (not
// in Idempotency-Key order, as before), a few at a time, each once.
func TestWorkerDrainsOldestFirst(t *testing.T) {
	rig := newSpoolRig(t, nil, Spool{Retry: []caddy.Duration{caddy.Duration(time.Hour)}, Concurrency: 1})
	now := time.Now()
	var want []string
	items := make([]*spoolItem, 8)
	for i := range items {
		// Later names arrived earlier.
		items[i] = rig.item(t, now.Add(-time.Duration(i)*time.Minute), now, nil)
	}
	for i := len(items) - 1; i >= 0; i-- {
		want = append(want, string(items[i].Document))
	}
	rig.w.pass()
	if got := rig.chain.got(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("delivered in this order:\n%v\nwant oldest first:\n%v", got, want)
	}
	if files := rig.spoolFiles(t); len(files) != 0 {
		t.Fatalf("delivered items left in the spool: %v", files)
	}
	rig.w.pass()
	if n := len(rig.chain.got()); n != len(items) {
		t.Fatalf("%d deliveries of %d items", n, len(items))
	}
}

// TestWorkerConcurrencyIsBounded: spool { concurrency 3 } runs up to three
// redeliveries at once, never more.
func TestWorkerConcurrencyIsBounded(t *testing.T) {
	rig := newSpoolRig(t, nil, Spool{Retry: []caddy.Duration{caddy.Duration(time.Hour)}, Concurrency: 3})
	rig.chain.delay = 50 * time.Millisecond
	now := time.Now()
	for range 9 {
		rig.item(t, now, now, nil)
	}
	rig.w.pass()
	if n, most := len(rig.chain.got()), rig.chain.maxFlight.Load(); n != 9 || most != 3 {
		t.Fatalf("%d delivered, up to %d at once; want 9, 3", n, most)
	}
}

// TestWorkerSurvivesHandMadeItems: items this module never wrote (a
// negative attempts count panicked the worker and crash-looped Caddy; a
// crash-truncated item was trusted) are counted as unreadable, logged and
// left alone, and the good item beside them is delivered.
func TestWorkerSurvivesHandMadeItems(t *testing.T) {
	rig := newSpoolRig(t, nil, Spool{Retry: []caddy.Duration{caddy.Duration(time.Hour)}})
	now := time.Now()
	ctx := context.Background()
	rig.item(t, now, now, func(item *spoolItem) { item.Attempts = -5 })
	rig.item(t, now, now, func(item *spoolItem) { item.Document = json.RawMessage(`null`) })
	rig.item(t, now, now, func(item *spoolItem) { item.URI = "http://elsewhere.example/" })
	misnamed := rig.item(t, now, now, nil)
	misnamed.Scope = strings.Repeat("ab", 16)
	raw, _ := encodeSpoolItem(misnamed)
	if err := rig.storage.Store(ctx, spoolKey(misnamed.ID+"-"+rig.h.topScopes[0]), raw); err != nil {
		t.Fatal(err)
	}
	truncated := rig.item(t, now, now, nil)
	if err := rig.storage.Store(ctx, spoolKey(truncated.name()), nil); err != nil {
		t.Fatal(err)
	}
	good := rig.item(t, now, now, nil)
	rig.w.pass()
	if got := rig.chain.got(); len(got) != 1 || got[0] != string(good.Document) {
		t.Fatalf("delivered %v, want only the good item", got)
	}
	if n := gaugeValue(t, rig.h.metrics.spoolUnreadable); n != 5 {
		t.Fatalf("spool_unreadable = %v, want 5", n)
	}
	rig.w.pass() // and again: still nothing delivered, nothing panics
	if n := len(rig.chain.got()); n != 1 {
		t.Fatalf("%d deliveries after the second pass", n)
	}
}

// TestWorkerSurvivesAPanickingChain: a panic in the deliver chain is a
// failed attempt, not a dead worker.
func TestWorkerSurvivesAPanickingChain(t *testing.T) {
	rig := newSpoolRig(t, nil, Spool{Retry: []caddy.Duration{caddy.Duration(time.Hour)}})
	rig.h.deliverChain = caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { panic("a bug in a handler") })
	now := time.Now()
	item := rig.item(t, now, now, nil)
	rig.w.pass()
	stored := rig.load(t, item)
	if stored.Attempts != 1 || !strings.Contains(stored.LastError, "a bug in a handler") {
		t.Fatalf("after a panicking attempt: attempts %d, last error %q", stored.Attempts, stored.LastError)
	}
}

// TestAttemptIsCountedBeforeItIsMade: an attempt that kills Caddy still
// counts, so an item that crashes Caddy reaches a dead letter.
func TestAttemptIsCountedBeforeItIsMade(t *testing.T) {
	rig := newSpoolRig(t, nil, Spool{Retry: []caddy.Duration{caddy.Duration(time.Hour)}})
	now := time.Now()
	item := rig.item(t, now, now, nil)
	var attemptsDuring int
	rig.chain.during = func(*http.Request) { attemptsDuring = rig.load(t, item).Attempts }
	rig.w.pass()
	if attemptsDuring != 1 {
		t.Fatalf("while the attempt was in flight the item said %d attempts, want 1", attemptsDuring)
	}
}

// deleteFails is file_system storage whose Delete fails in the spool, as
// on a folder turned read-only (root, whom the tests run as, ignores a
// folder's permissions, so the fault is injected).
type deleteFails struct{ *certmagic.FileStorage }

func (s deleteFails) Delete(ctx context.Context, key string) error {
	if strings.HasPrefix(key, spoolPrefix) {
		return fmt.Errorf("remove %s: read-only file system", key)
	}
	return s.FileStorage.Delete(ctx, key)
}

// TestDeliveredItemIsNeverDeliveredAgain: an item delivered that cannot be
// removed was delivered again each time its delivery record expired; now
// its tombstone stops it, in this worker and in the next process's.
func TestDeliveredItemIsNeverDeliveredAgain(t *testing.T) {
	storage := deleteFails{&certmagic.FileStorage{Path: t.TempDir()}}
	rig := newSpoolRig(t, storage, Spool{Retry: []caddy.Duration{caddy.Duration(10 * time.Millisecond)}})
	now := time.Now()
	item := rig.item(t, now, now, nil)
	rig.w.pass()
	rig.h.dedupe = nil // the delivery record expired
	for range 3 {
		time.Sleep(20 * time.Millisecond)
		rig.w.pass()
	}
	if stored := rig.load(t, item); stored.DeliveredAt.IsZero() {
		t.Fatal("the undeletable item carries no tombstone")
	}
	// A restarted Caddy reads the tombstone from storage.
	next := newSpoolWorker()
	t.Cleanup(next.cancel)
	next.register(rig.h)
	rig.h.spooler.worker = next
	next.pass()
	if n := len(rig.chain.got()); n != 1 {
		t.Fatalf("delivered %d times, want once", n)
	}
}

// TestClockStepsNeitherDeadLetterNorHoldBack: a wall clock stepped 2 h
// ahead dead-lettered seconds-old items, and one stepped back held every
// redelivery for as long as the step. Now an item is given up only after
// its schedule's attempts, and waits no longer than its schedule's wait.
func TestClockStepsNeitherDeadLetterNorHoldBack(t *testing.T) {
	t.Run("ahead", func(t *testing.T) {
		rig := newSpoolRig(t, nil, Spool{Retry: []caddy.Duration{caddy.Duration(time.Minute)}, MaxAge: caddy.Duration(time.Hour)})
		rig.chain.set(http.StatusServiceUnavailable)
		now := time.Now()
		item := rig.item(t, now.Add(-6*time.Second), now, nil)
		rig.h.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
		rig.w.pass()
		if stored := rig.load(t, item); stored.Dead || stored.Attempts != 1 {
			t.Fatalf("after one failed attempt under a clock 2 h ahead: dead=%v attempts=%d", stored.Dead, stored.Attempts)
		}
	})
	t.Run("back", func(t *testing.T) {
		rig := newSpoolRig(t, nil, Spool{Retry: []caddy.Duration{caddy.Duration(20 * time.Millisecond)}})
		now := time.Now()
		// Scheduled under a clock 30 min ahead of this one.
		rig.item(t, now, now.Add(30*time.Minute), nil)
		rig.w.pass()
		time.Sleep(40 * time.Millisecond)
		rig.w.pass()
		if n := len(rig.chain.got()); n != 1 {
			t.Fatalf("%d deliveries: the item waited out the clock step", n)
		}
	})
}

// TestSuccessAfterFailuresMakesWaitingItemsDue: when the backend answers
// again, the items waiting out a long backoff are due at once.
func TestSuccessAfterFailuresMakesWaitingItemsDue(t *testing.T) {
	rig := newSpoolRig(t, nil, Spool{Retry: []caddy.Duration{caddy.Duration(time.Hour)}})
	now := time.Now()
	rig.item(t, now.Add(-time.Minute), now.Add(time.Hour), func(item *spoolItem) { item.Attempts = 1 })
	rig.item(t, now, now, func(item *spoolItem) { item.Attempts = 1 })
	rig.w.failing.Store(true) // the earlier attempts failed
	rig.w.pass()
	if n := len(rig.chain.got()); n != 1 {
		t.Fatalf("first pass delivered %d, want the one due", n)
	}
	rig.w.pass()
	if n := len(rig.chain.got()); n != 2 {
		t.Fatalf("after a success, the item waiting an hour was not made due (%d delivered)", n)
	}
}

// TestWorkerTakesOnlyItsOwnScopes: an item belongs to the secret that
// verified it; a handler without that secret never gets it.
func TestWorkerTakesOnlyItsOwnScopes(t *testing.T) {
	rig := newSpoolRig(t, nil, Spool{Retry: []caddy.Duration{caddy.Duration(time.Hour)}})
	now := time.Now()
	foreign := rig.item(t, now, now, func(item *spoolItem) { item.Scope = secretScope("another app's secret") })
	rig.w.pass()
	if n := len(rig.chain.got()); n != 0 {
		t.Fatalf("a handler without the item's secret delivered it (%d)", n)
	}
	if stored := rig.load(t, foreign); stored.Attempts != 0 {
		t.Fatalf("the foreign item was attempted %d times", stored.Attempts)
	}
}

// TestOrphanTemporaryFilesAreRemoved: a storage's temporary file left in
// the spool by a crash mid-write is removed once it is orphanAfter old.
func TestOrphanTemporaryFilesAreRemoved(t *testing.T) {
	folder := t.TempDir()
	rig := newSpoolRig(t, &certmagic.FileStorage{Path: folder}, Spool{})
	spoolDir := filepath.Join(folder, filepath.FromSlash(spoolPrefix))
	if err := os.MkdirAll(spoolDir, 0o700); err != nil {
		t.Fatal(err)
	}
	old, fresh := filepath.Join(spoolDir, ".item.tmp-1"), filepath.Join(spoolDir, ".item.tmp-2")
	for _, name := range []string{old, fresh} {
		if err := os.WriteFile(name, []byte("{"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	age(t, old, orphanAfter+time.Minute)
	rig.w.pass()
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the old orphan is still there: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatalf("a fresh temporary file (maybe mid-write) was removed: %v", err)
	}
}

// TestUnreadableItemIsReplacedByZEGOsRetry: "already spooled" means an
// item that loads; ZEGO's retry of a callback whose item was truncated
// replaces it, and a good item is left as it is.
func TestUnreadableItemIsReplacedByZEGOsRetry(t *testing.T) {
	rig := newSpoolRig(t, nil, Spool{})
	ctx := context.Background()
	now := time.Now()
	item := rig.item(t, now, now, nil)
	d := item.delivery(now)
	r := httptest.NewRequest(http.MethodPost, "/zego/compose", nil)
	failed := &attempt{status: http.StatusServiceUnavailable}

	if err := rig.storage.Store(ctx, spoolKey(item.name()), nil); err != nil {
		t.Fatal(err)
	}
	if !rig.h.spooler.store(r, d, failed) {
		t.Fatal("ZEGO's retry of a truncated item was not spooled")
	}
	if stored := rig.load(t, item); string(stored.Document) != string(item.Document) {
		t.Fatalf("the replaced item holds %s", stored.Document)
	}

	counted := rig.load(t, item)
	counted.Attempts = 3
	if err := storeSpoolItem(ctx, rig.storage, counted); err != nil {
		t.Fatal(err)
	}
	if !rig.h.spooler.store(r, d, failed) {
		t.Fatal("ZEGO's retry of a spooled callback was not answered as spooled")
	}
	if stored := rig.load(t, item); stored.Attempts != 3 {
		t.Fatalf("a good item was overwritten (attempts %d)", stored.Attempts)
	}
}

// TestHungAttemptDoesNotStallTheSpool: one redelivery whose backend never
// answers held up every other item (no response_header_timeout: 0 of 9
// delivered in 20 s); deliver_timeout now ends it, and the others go on.
func TestHungAttemptDoesNotStallTheSpool(t *testing.T) {
	rig := newSpoolRig(t, nil, Spool{Retry: []caddy.Duration{caddy.Duration(time.Hour)}, Concurrency: 1})
	rig.h.DeliverTimeout = caddy.Duration(300 * time.Millisecond)
	now := time.Now()
	hung := rig.item(t, now.Add(-time.Minute), now, nil) // the oldest: attempted first
	for range 9 {
		rig.item(t, now, now, nil)
	}
	rig.h.deliverChain = caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		body, _ := io.ReadAll(r.Body)
		if string(body) == string(hung.Document) {
			<-r.Context().Done()
			return caddyhttp.Error(http.StatusBadGateway, r.Context().Err())
		}
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		return rig.chain.ServeHTTP(w, r)
	})
	start := time.Now()
	rig.w.pass()
	if n := len(rig.chain.got()); n != 9 {
		t.Fatalf("%d of the 9 other items delivered after a hung attempt", n)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("the pass took %s", took)
	}
	if stored := rig.load(t, hung); !strings.Contains(stored.LastError, "deliver_timeout") {
		t.Fatalf("the hung item's last error: %q", stored.LastError)
	}
}

// TestCrashingItemBecomesADeadLetter: an item whose attempts crash Caddy
// never reached the failure that gives an item up. Once it has had its
// schedule and its last attempt recorded no result, it is a dead letter
// without one more try.
func TestCrashingItemBecomesADeadLetter(t *testing.T) {
	rig := newSpoolRig(t, nil, Spool{Retry: []caddy.Duration{caddy.Duration(time.Minute)}, MaxAge: caddy.Duration(time.Hour)})
	now := time.Now()
	item := rig.item(t, now.Add(-2*time.Hour), now, func(item *spoolItem) {
		item.Attempts = rig.h.Spool.countScheduledAttempts()
		item.LastError = "attempt 61 started at ... and " + noResult + "; before: status 503"
	})
	rig.w.pass()
	if n := len(rig.chain.got()); n != 0 {
		t.Fatalf("the crashing item was tried again (%d)", n)
	}
	if stored := rig.load(t, item); !stored.Dead {
		t.Fatalf("not a dead letter: %+v", stored)
	}
}

// TestAttemptsNeverPassTheirBound: an item at the bound of what an item
// may hold (a short retry and a long max_age get there) becomes a dead
// letter rather than an item the loader refuses as unreadable.
func TestAttemptsNeverPassTheirBound(t *testing.T) {
	rig := newSpoolRig(t, nil, Spool{Retry: []caddy.Duration{caddy.Duration(time.Minute)}, MaxAge: caddy.Duration(24 * time.Hour)})
	rig.chain.set(http.StatusServiceUnavailable)
	now := time.Now()
	item := rig.item(t, now, now, func(item *spoolItem) { item.Attempts = maxItemAttempts - 1 })
	rig.w.pass()
	if stored := rig.load(t, item); !stored.Dead || stored.Attempts != maxItemAttempts {
		t.Fatalf("at the bound: dead=%v attempts=%d", stored.Dead, stored.Attempts)
	}
}

// TestEmptySpoolLockIsTaken is finding 6 in the worker: a full disk left
// the spool's lock file empty (certmagic's create succeeded, its write
// did not), and the worker read it as another instance's hold forever:
// nothing was redelivered, even after space returned. It waits while such
// a lock may still be being written, then takes it.
func TestEmptySpoolLockIsTaken(t *testing.T) {
	storage := &certmagic.FileStorage{Path: t.TempDir()}
	rig := newSpoolRig(t, storage, Spool{Retry: []caddy.Duration{caddy.Duration(time.Hour)}})
	now := time.Now()
	rig.item(t, now, now, nil)
	filename := lockFile(storage, spoolLock)
	if err := os.MkdirAll(filepath.Dir(filename), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filename, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rig.w.pass()
	if n := len(rig.chain.got()); n != 0 {
		t.Fatalf("an empty lock written just now was taken at once (%d delivered): it could still be being written", n)
	}
	age(t, filename, brokenLockAfter+time.Second)
	rig.w.pass()
	if n := len(rig.chain.got()); n != 1 {
		t.Fatalf("an empty spool lock %s old still stops the worker (%d delivered)", brokenLockAfter+time.Second, n)
	}
}

// listPanicsOnce is a storage whose first List panics: a fault in the
// worker's own code, outside the deliver chain, which no real storage
// produces on demand.
type listPanicsOnce struct {
	*certmagic.FileStorage
	panicked atomic.Bool
}

func (s *listPanicsOnce) List(ctx context.Context, prefix string, recursive bool) ([]string, error) {
	if s.panicked.CompareAndSwap(false, true) {
		panic("listing the spool")
	}
	return s.FileStorage.List(ctx, prefix, recursive)
}

// TestWorkerSurvivesItsOwnPanic: a panic in a pass (finding 9's kind, in
// the worker rather than the chain) is logged and the worker goes on; it
// neither takes Caddy down nor stops redelivering.
func TestWorkerSurvivesItsOwnPanic(t *testing.T) {
	storage := &listPanicsOnce{FileStorage: &certmagic.FileStorage{Path: t.TempDir()}}
	rig := newSpoolRig(t, storage, Spool{Retry: []caddy.Duration{caddy.Duration(50 * time.Millisecond)}})
	now := time.Now()
	rig.item(t, now, now, nil)
	go rig.w.run()
	deadline := time.Now().Add(5 * time.Second)
	for len(rig.chain.got()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !storage.panicked.Load() || len(rig.chain.got()) != 1 {
		t.Fatalf("panicked %v, %d delivered after the panic, want 1", storage.panicked.Load(), len(rig.chain.got()))
	}
}

// TestOwnerPrefersTheSpoolingDeliverBlock: of the handlers that may take
// an item, the one whose deliver block spooled it does; after a reload
// changed that block, the only handler that may takes it; with several
// and none the spooler, none does (the item waits, never reaching a
// backend it was not routed to).
func TestOwnerPrefersTheSpoolingDeliverBlock(t *testing.T) {
	scope := secretScope("shared secret")
	handler := func(deliverID string) *Handler {
		return &Handler{topScopes: []string{scope}, Events: []string{"compose"}, deliverID: deliverID}
	}
	item := &spoolEntry{event: "compose", appID: 1234567890, scope: scope, deliver: "staging"}
	staging, prod, moved := handler("staging"), handler("prod"), handler("staging-moved")
	foreign := &Handler{topScopes: []string{secretScope("another secret")}, Events: []string{"compose"}, deliverID: "staging"}
	for name, tc := range map[string]struct {
		handlers []*Handler
		want     *Handler
	}{
		"its own, though not the newest":     {[]*Handler{staging, prod}, staging},
		"the only one, its block changed":    {[]*Handler{foreign, moved}, moved},
		"several, none its own":              {[]*Handler{moved, prod}, nil},
		"none holds the secret":              {[]*Handler{foreign}, nil},
		"an item from before the deliver id": {[]*Handler{staging, prod}, prod},
	} {
		e := *item
		if name == "an item from before the deliver id" {
			e.deliver = ""
		}
		if got := owner(tc.handlers, &e); got != tc.want {
			t.Errorf("%s: owner is %v, want %v", name, got, tc.want)
		}
	}
}

// TestWorkerLeavesTheLockToTheCLI: with items due pass after pass (a slow
// backend), the worker took the spool's lock again before the CLI's next
// try, and 'spool retry' or 'drop' waited for good. While the CLI says it
// waits, the worker's passes only read; a CLI gone stops counting after
// lockWantedFor. The CLI takes the lock and clears its request.
func TestWorkerLeavesTheLockToTheCLI(t *testing.T) {
	storage := &certmagic.FileStorage{Path: t.TempDir()}
	rig := newSpoolRig(t, storage, Spool{Retry: []caddy.Duration{caddy.Duration(time.Hour)}})
	now := time.Now()
	rig.item(t, now, now, nil)
	ctx := context.Background()
	if err := storage.Store(ctx, spoolLockWanted, []byte("now")); err != nil {
		t.Fatal(err)
	}
	rig.w.pass()
	if n := len(rig.chain.got()); n != 0 {
		t.Fatalf("the worker took the lock the CLI waits for (%d delivered)", n)
	}
	age(t, storage.Filename(spoolLockWanted), lockWantedFor+time.Second)
	rig.w.pass()
	if n := len(rig.chain.got()); n != 1 {
		t.Fatalf("a request %s old still holds the worker back (%d delivered)", lockWantedFor+time.Second, n)
	}
	unlock, err := lockSpool(ctx, storage)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if storage.Exists(ctx, spoolLockWanted) {
		t.Error("the CLI holds the lock and its request is still there")
	}
}

// spoolReadOnly is file_system storage whose spool folder turns read-only
// (Store and Delete fail there) while the rest of the storage stays
// writable, as a folder's permissions can; root, whom the tests run as,
// ignores permissions, so the fault is injected.
type spoolReadOnly struct {
	*certmagic.FileStorage
	readOnly atomic.Bool
}

func (s *spoolReadOnly) Store(ctx context.Context, key string, value []byte) error {
	if s.readOnly.Load() && strings.HasPrefix(key, spoolPrefix+"/") {
		return fmt.Errorf("write %s: read-only file system", key)
	}
	return s.FileStorage.Store(ctx, key, value)
}

func (s *spoolReadOnly) Delete(ctx context.Context, key string) error {
	if s.readOnly.Load() && strings.HasPrefix(key, spoolPrefix+"/") {
		return fmt.Errorf("remove %s: read-only file system", key)
	}
	return s.FileStorage.Delete(ctx, key)
}

// TestDeliveredInAReadOnlySpoolIsNotDeliveredAfterARestart: with the spool
// folder read-only, a delivered item can be neither removed nor marked in
// place, and every restart delivered it again. Its mark outside the spool
// folder stops the next process too; once the folder is writable again,
// the item and its mark go.
func TestDeliveredInAReadOnlySpoolIsNotDeliveredAfterARestart(t *testing.T) {
	storage := &spoolReadOnly{FileStorage: &certmagic.FileStorage{Path: t.TempDir()}}
	rig := newSpoolRig(t, storage, Spool{Retry: []caddy.Duration{caddy.Duration(10 * time.Millisecond)}})
	now := time.Now()
	item := rig.item(t, now, now, nil)
	storage.readOnly.Store(true)
	rig.w.pass()
	rig.h.dedupe = nil // memory dedupe: a restart forgets the delivery record
	restart := func() {
		next := newSpoolWorker()
		t.Cleanup(next.cancel)
		next.register(rig.h)
		rig.h.spooler.worker = next
		rig.w = next
		next.pass()
	}
	restart()
	restart()
	if n := len(rig.chain.got()); n != 1 {
		t.Fatalf("delivered %d times over two restarts, want once", n)
	}
	storage.readOnly.Store(false)
	restart()
	if keys, _ := storage.List(context.Background(), storagePrefix, true); slices.ContainsFunc(keys, func(k string) bool {
		return strings.Contains(k, item.name())
	}) {
		t.Errorf("the item or its mark is still there once the folder is writable: %v", keys)
	}
	// A mark older than an item is an earlier item's of the same name
	// (ZEGO's callback again after its delivery record expired): it does
	// not stop the new one.
	later := rig.item(t, time.Now(), time.Now(), nil)
	mark := deliveredMark(spoolKey(later.name()))
	if err := storage.Store(context.Background(), mark, []byte("earlier")); err != nil {
		t.Fatal(err)
	}
	age(t, storage.Filename(mark), time.Hour)
	restart()
	if n := len(rig.chain.got()); n != 2 {
		t.Fatalf("an item under an earlier item's mark: %d deliveries in all, want 2", n)
	}
}
