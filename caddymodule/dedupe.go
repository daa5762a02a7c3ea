package caddymodule

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/zegoedge/caddy-zego-callback/verify"
)

// Dedupe defaults.
const (
	DefaultDedupeTTL = 10 * time.Minute // ZEGO's retries span about a minute
	DefaultDedupeMax = 100_000
	storeMemory      = "memory"
	storeStorage     = "storage"
)

// dedupeStore holds the two dedupe records and the in-flight marks.
// Records are identified by 128-bit IDs.
type dedupeStore interface {
	// claimSignature records that a signed triple came with the document
	// digest, and reports whether it came before with another document.
	claimSignature(ctx context.Context, id, digest [16]byte, ttl time.Duration) (replayed bool, err error)
	delivered(ctx context.Context, id [16]byte) (bool, error)
	markDelivered(ctx context.Context, id [16]byte, ttl time.Duration) error
	// tryLock marks a delivery in flight; false means another holds it.
	tryLock(ctx context.Context, id [16]byte) (bool, error)
	unlock(ctx context.Context, id [16]byte) error
}

// memoryStores lets a memory store outlive config reloads: a new config's
// handler with the same identity picks up the store its predecessor used.
var memoryStores = caddy.NewUsagePool()

// provisionDedupe sets up the store, unless dedupe is off.
func (h *Handler) provisionDedupe(ctx caddy.Context) error {
	if h.DedupeDisabled {
		return nil
	}
	if h.DedupeTTL == 0 {
		h.DedupeTTL = caddy.Duration(DefaultDedupeTTL)
	}
	if h.DedupeStore == "" {
		h.DedupeStore = storeMemory
	}
	if h.DedupeMax == 0 {
		h.DedupeMax = DefaultDedupeMax
	}
	// Checked here, not in Validate: the stores below need sane values.
	if time.Duration(h.DedupeTTL) < time.Second {
		return fmt.Errorf("dedupe must be at least 1s, not %s", time.Duration(h.DedupeTTL))
	}
	if h.DedupeMax < 0 {
		return fmt.Errorf("dedupe_max must be positive, not %d", h.DedupeMax)
	}
	switch h.DedupeStore {
	case storeMemory:
		h.memoryPoolKey = h.dedupeIdentity()
		value, _, err := memoryStores.LoadOrNew(h.memoryPoolKey, func() (caddy.Destructor, error) {
			return newMemoryStore(h.DedupeMax, h.clock()), nil
		})
		if err != nil {
			return err
		}
		h.store = value.(*memoryStore)
	case storeStorage:
		store := &storageStore{storage: ctx.Storage(), now: h.clock()}
		// The config's context ends when the config is unloaded.
		go store.sweepEvery(ctx, time.Duration(h.DedupeTTL))
		h.store = store
	default:
		return fmt.Errorf("dedupe_store must be %s or %s, not %q", storeMemory, storeStorage, h.DedupeStore)
	}
	return nil
}

// dedupeIdentity names the memory store across reloads. Records are keyed
// by app, event and task, or by signature, so every handler in the process
// can share one store: editing secrets, app_id or events in a reload keeps
// the records. Only a new dedupe_max starts a new store.
func (h *Handler) dedupeIdentity() string {
	return fmt.Sprintf("zego_callback/memory max=%d", h.DedupeMax)
}

// Cleanup releases the memory store when no config uses it any more.
func (h *Handler) Cleanup() error {
	if h.memoryPoolKey != "" {
		_, err := memoryStores.Delete(h.memoryPoolKey)
		return err
	}
	return nil
}

// deliverOnce forwards a verified callback unless it is a tampered replay,
// already delivered, or being delivered right now. A store failure never
// stops a genuine callback: it is forwarded, as a duplicate beats a loss.
func (h *Handler) deliverOnce(w http.ResponseWriter, r *http.Request, repl *caddy.Replacer, d *delivery, next caddyhttp.Handler) error {
	ctx := r.Context()
	callback, start := &d.callback, d.start
	signatureID := callback.SignatureID()
	deliveryID := d.idempotencyID
	digest := sha256.Sum256(d.doc)

	replayed, err := h.store.claimSignature(ctx, signatureID, [16]byte(digest[:16]), 2*time.Duration(h.MaxAge))
	if err != nil {
		h.storeFailed(r, callback, "recording the signature", err)
	} else if replayed {
		return h.reject(r, repl, callback, verify.ErrReplayedSignature, start)
	}
	if h.isDelivered(r, callback, deliveryID) {
		return h.answerDuplicate(w, r, callback, start)
	}
	locked, err := h.store.tryLock(ctx, deliveryID)
	switch {
	case err != nil:
		h.storeFailed(r, callback, "marking the delivery in flight", err)
	case !locked:
		return h.reject(r, repl, callback, verify.ErrInFlight, start)
	default:
		defer func() {
			// The request may be over: release the mark regardless.
			if err := h.store.unlock(context.WithoutCancel(ctx), deliveryID); err != nil {
				h.storeFailed(r, callback, "clearing the in-flight mark", err)
			}
		}()
		// Another delivery may have finished between the check and the lock.
		if h.isDelivered(r, callback, deliveryID) {
			return h.answerDuplicate(w, r, callback, start)
		}
	}

	status, err := h.forward(w, r, d, next)
	if err != nil {
		return err
	}
	if status >= 200 && status < 300 {
		if err := h.store.markDelivered(context.WithoutCancel(ctx), deliveryID, time.Duration(h.DedupeTTL)); err != nil {
			h.storeFailed(r, callback, "recording the delivery", err)
		}
	}
	return nil
}

func (h *Handler) isDelivered(r *http.Request, callback *verify.Callback, id [16]byte) bool {
	delivered, err := h.store.delivered(r.Context(), id)
	if err != nil {
		h.storeFailed(r, callback, "reading the delivery record", err)
		return false
	}
	return delivered
}

// answerDuplicate tells ZEGO the callback arrived, without bothering the
// upstream again.
func (h *Handler) answerDuplicate(w http.ResponseWriter, r *http.Request, callback *verify.Callback, start time.Time) error {
	h.metrics.verifyDuration.Observe(time.Since(start).Seconds())
	h.metrics.requests.WithLabelValues(h.eventLabel(callback.Event), outcomeDuplicate).Inc()
	h.logCallback("duplicate callback answered without forwarding", r, callback, outcomeDuplicate, start)
	w.Header().Set("X-Zego-Duplicate", "1")
	w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) storeFailed(r *http.Request, callback *verify.Callback, doing string, err error) {
	if c := h.logger.Check(zapcore.WarnLevel, "dedupe store failed; forwarding anyway"); c != nil {
		c.Write(zap.String("while", doing), zap.Error(err), zap.Uint32("app_id", callback.AppID),
			zap.String("task_id", callback.TaskID), zap.String("remote_addr", r.RemoteAddr))
	}
}

// storageStore keeps the records in Caddy's configured storage, so that
// every Caddy instance sharing it shares one view. Each record is one key
// holding its expiry (and the document digest for signatures); locks are
// the storage's own.
type storageStore struct {
	storage certmagic.Storage
	now     func() time.Time
}

const storagePrefix = "zego_callback"

// storageLockWait bounds how long tryLock waits on a lock another instance
// holds before answering in_flight.
const storageLockWait = 100 * time.Millisecond

func storageKey(kind string, id [16]byte) string {
	return path.Join(storagePrefix, kind, hex.EncodeToString(id[:]))
}

// load reads a record; expired or absent records read as not found.
func (s *storageStore) load(ctx context.Context, key string) (digest string, found bool, err error) {
	value, err := s.storage.Load(ctx, key)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	expiresText, digest, _ := strings.Cut(string(value), " ")
	expires, err := strconv.ParseInt(expiresText, 10, 64)
	if err != nil {
		return "", false, fmt.Errorf("record %s is corrupt", key)
	}
	if expires <= s.now().UnixNano() {
		return "", false, nil
	}
	return digest, true, nil
}

// sweepEvery deletes expired records every interval until ctx ends; reads
// ignore them anyway, this only frees the space.
func (s *storageStore) sweepEvery(ctx context.Context, interval time.Duration) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			s.sweep(ctx)
		}
	}
}

func (s *storageStore) sweep(ctx context.Context) {
	for _, kind := range []string{"signature", "delivered"} {
		keys, err := s.storage.List(ctx, path.Join(storagePrefix, kind), false)
		if err != nil {
			continue // nothing stored yet, or the storage is down: try next time
		}
		for _, key := range keys {
			if _, live, err := s.load(ctx, key); err == nil && !live {
				_ = s.storage.Delete(ctx, key) // best effort: next sweep retries
			}
		}
	}
}

func (s *storageStore) store(ctx context.Context, key, digest string, ttl time.Duration) error {
	value := strconv.FormatInt(s.now().Add(ttl).UnixNano(), 10) + " " + digest
	return s.storage.Store(ctx, key, []byte(value))
}

func (s *storageStore) claimSignature(ctx context.Context, id, digest [16]byte, ttl time.Duration) (bool, error) {
	key := storageKey("signature", id)
	// Two instances may claim the same signature at once: serialize them.
	if err := s.storage.Lock(ctx, key); err != nil {
		return false, err
	}
	defer func() {
		_ = s.storage.Unlock(context.WithoutCancel(ctx), key) // a lock left behind goes stale on its own
	}()
	seen, found, err := s.load(ctx, key)
	if err != nil {
		return false, err
	}
	digestHex := hex.EncodeToString(digest[:])
	if found {
		return seen != digestHex, nil
	}
	return false, s.store(ctx, key, digestHex, ttl)
}

func (s *storageStore) delivered(ctx context.Context, id [16]byte) (bool, error) {
	_, found, err := s.load(ctx, storageKey("delivered", id))
	return found, err
}

func (s *storageStore) markDelivered(ctx context.Context, id [16]byte, ttl time.Duration) error {
	return s.store(ctx, storageKey("delivered", id), "", ttl)
}

func (s *storageStore) tryLock(ctx context.Context, id [16]byte) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, storageLockWait)
	defer cancel()
	key := storageKey("inflight", id)
	var err error
	if locker, ok := s.storage.(certmagic.TryLocker); ok {
		var locked bool
		if locked, err = locker.TryLock(ctx, key); err == nil {
			return locked, nil
		}
	} else {
		err = s.storage.Lock(ctx, key)
		if err == nil {
			return true, nil
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return false, nil // another instance holds it
	}
	return false, err
}

func (s *storageStore) unlock(ctx context.Context, id [16]byte) error {
	return s.storage.Unlock(ctx, storageKey("inflight", id))
}
