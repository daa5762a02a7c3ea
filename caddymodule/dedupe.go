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
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
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
// handler that verifies with the same secret picks up the store its
// predecessor used.
var memoryStores = caddy.NewUsagePool()

// provisionDedupe sets up one store for each secret, unless dedupe is off.
// topSecrets and appSecrets are the resolved secrets, in the verifier's
// order, so that Callback.SecretIndex picks the store of the secret that
// verified a callback.
func (h *Handler) provisionDedupe(ctx caddy.Context, topSecrets []string, appSecrets map[uint32][]string) error {
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
	// checkSettings, which Provision runs first, has checked the values.
	h.storesByScope = make(map[string]dedupeStore)
	storesOf := func(secrets []string) ([]scopedStore, error) {
		stores := make([]scopedStore, len(secrets))
		for i, secret := range secrets {
			scope := secretScope(secret)
			store, ok := h.storesByScope[scope]
			if !ok {
				var err error
				if store, err = h.newStore(ctx, scope); err != nil {
					return nil, err
				}
				h.storesByScope[scope] = store
			}
			stores[i] = scopedStore{scope, store}
		}
		return stores, nil
	}
	var err error
	if h.topStores, err = storesOf(topSecrets); err != nil {
		return err
	}
	h.appStores = make(map[uint32][]scopedStore, len(appSecrets))
	for appID, secrets := range appSecrets {
		if h.appStores[appID], err = storesOf(secrets); err != nil {
			return err
		}
	}
	return nil
}

// secretScope names the records of one secret: a callback verified with one
// secret can never answer, suppress or evict the records of a callback
// verified with another, while every handler (and every reload) using the
// same secret shares them. It is a one-way, labelled hash: the name appears
// in storage paths, the secret nowhere.
func secretScope(secret string) string {
	sum := sha256.Sum256([]byte("zego_callback dedupe scope\x00" + secret))
	return hex.EncodeToString(sum[:16])
}

// newStore opens the store of one secret's records.
func (h *Handler) newStore(ctx caddy.Context, scope string) (dedupeStore, error) {
	if h.DedupeStore == storeStorage {
		store := &storageStore{storage: ctx.Storage(), now: h.clock(), prefix: path.Join(storagePrefix, "dedupe", scope)}
		// The config's context ends when the config is unloaded.
		go store.sweepEvery(ctx, time.Duration(h.DedupeTTL))
		return store, nil
	}
	// Each secret has its own ring of dedupe_max records, so a flood through
	// one secret evicts only its own. A new dedupe_max starts a new ring.
	key := fmt.Sprintf("zego_callback/memory/%s max=%d", scope, h.DedupeMax)
	value, _, err := memoryStores.LoadOrNew(key, func() (caddy.Destructor, error) {
		return newMemoryStore(h.DedupeMax, h.clock()), nil
	})
	if err != nil {
		return nil, err
	}
	h.memoryPoolKeys = append(h.memoryPoolKeys, key)
	return value.(*memoryStore), nil
}

// scopedStore is the store of one secret's records, and its scope.
type scopedStore struct {
	scope string
	store dedupeStore
}

// storesFor returns the stores of the secrets that may verify app's
// callbacks, in the verifier's order.
func (h *Handler) storesFor(appID uint32) []scopedStore {
	if stores, ok := h.appStores[appID]; ok {
		return stores
	}
	return h.topStores
}

// Cleanup releases the memory stores no config uses any more.
func (h *Handler) Cleanup() error {
	var errs []error
	for _, key := range h.memoryPoolKeys {
		if _, err := memoryStores.Delete(key); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// claim decides whether a verified callback may be forwarded now: not a
// tampered replay of a signature already seen, not already delivered, and
// not being delivered right now. On success it marks the delivery in flight
// (d.inFlight; release clears it). A store failure never stops
// a genuine callback, as a duplicate beats a loss; it is logged at WARN.
func (h *Handler) claim(r *http.Request, d *delivery) error {
	ctx := r.Context()
	callback := &d.callback
	stores := h.storesFor(callback.AppID)
	own := stores[callback.SecretIndex()]
	d.store, d.scope = own.store, own.scope

	// The record outlives every moment at which this timestamp passes the
	// window, so the signature cannot come back with another document.
	ttl := h.verifier.ValidUntil(callback).Sub(h.clock()())
	replayed, err := d.store.claimSignature(ctx, callback.SignatureID(), documentDigest(d.doc), ttl)
	switch {
	case errors.Is(err, verify.ErrInFlight):
		return err
	case err != nil:
		h.storeFailed(r, callback, "recording the signature", err)
	case replayed:
		return verify.ErrReplayedSignature
	}
	return h.claimDelivery(ctx, r, d, stores)
}

// claimRedelivery is claim for a callback the spool redelivers: verified
// when it first arrived, its signature already recorded then. Only a
// handler that holds the secret which verified it, for its app, may take
// it: any other (another site's, after a reload or a rewrite led the
// redelivery elsewhere) refuses, so that one secret's callback can never
// reach, or be recorded by, another secret's route.
func (h *Handler) claimRedelivery(r *http.Request, d *delivery) error {
	stores := h.storesFor(d.callback.AppID)
	i := slices.IndexFunc(stores, func(s scopedStore) bool { return s.scope == d.scope })
	if i < 0 || !h.appAllowed(d.callback.AppID) {
		return errForeignRedelivery
	}
	d.store = stores[i].store
	return h.claimDelivery(r.Context(), r, d, stores)
}

// errForeignRedelivery: a redelivery reached a handler that does not hold
// the secret which verified the callback.
var errForeignRedelivery = errors.New("the route now leads to a zego_callback that does not hold the secret which verified this callback")

// claimDelivery is the delivery half of claim, shared by ZEGO's own
// callbacks and the spool's redeliveries: already delivered (under any of
// the app's secrets, so that a retry signed with a rotated secret is still
// a duplicate) or in flight stops it.
func (h *Handler) claimDelivery(ctx context.Context, r *http.Request, d *delivery, stores []scopedStore) error {
	callback := &d.callback
	if h.isDelivered(r, d, stores) {
		return errDuplicate
	}
	locked, err := d.store.tryLock(ctx, d.idempotencyID)
	switch {
	case err != nil:
		h.storeFailed(r, callback, "marking the delivery in flight", err)
		return nil
	case !locked:
		return verify.ErrInFlight
	}
	d.inFlight = true
	// Another delivery may have finished between the check and the lock.
	if h.isDelivered(r, d, stores) {
		h.release(r, d)
		return errDuplicate
	}
	return nil
}

// release clears the in-flight mark claim set, if it set one.
func (h *Handler) release(r *http.Request, d *delivery) {
	if !d.inFlight {
		return
	}
	d.inFlight = false
	// The request may be over: release the mark regardless.
	if err := d.store.unlock(context.WithoutCancel(r.Context()), d.idempotencyID); err != nil {
		h.storeFailed(r, &d.callback, "clearing the in-flight mark", err)
	}
}

// errDuplicate is claim's answer for a callback already delivered; it is
// answered 200, not rejected.
var errDuplicate = errors.New("already delivered")

// documentDigest identifies the document a signature came with.
func documentDigest(doc []byte) [16]byte {
	sum := sha256.Sum256(doc)
	return [16]byte(sum[:16])
}

func (h *Handler) isDelivered(r *http.Request, d *delivery, stores []scopedStore) bool {
	for _, s := range stores {
		delivered, err := s.store.delivered(r.Context(), d.idempotencyID)
		if err != nil {
			h.storeFailed(r, &d.callback, "reading the delivery record", err)
			continue
		}
		if delivered {
			return true
		}
	}
	return false
}

// recordDelivered remembers a delivery the upstream accepted.
func (h *Handler) recordDelivered(r *http.Request, d *delivery) {
	if err := d.store.markDelivered(context.WithoutCancel(r.Context()), d.idempotencyID, time.Duration(h.DedupeTTL)); err != nil {
		h.storeFailed(r, &d.callback, "recording the delivery", err)
	}
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
	prefix  string // one secret's records: zego_callback/dedupe/<scope>
}

const storagePrefix = "zego_callback"

// storageLockWait bounds how long tryLock waits on a lock another instance
// holds before answering in_flight.
const storageLockWait = 100 * time.Millisecond

func (s *storageStore) key(kind string, id [16]byte) string {
	return path.Join(s.prefix, kind, hex.EncodeToString(id[:]))
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
		keys, err := s.storage.List(ctx, path.Join(s.prefix, kind), false)
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
	key := s.key("signature", id)
	// Two instances may claim the same signature at once: serialize them,
	// and answer a copy that finds the lock taken at once rather than let it
	// queue on the lock for seconds.
	locked, err := tryLockStorage(ctx, s.storage, key)
	if err != nil {
		return false, err
	}
	if !locked {
		return false, verify.ErrInFlight
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
	_, found, err := s.load(ctx, s.key("delivered", id))
	return found, err
}

func (s *storageStore) markDelivered(ctx context.Context, id [16]byte, ttl time.Duration) error {
	return s.store(ctx, s.key("delivered", id), "", ttl)
}

func (s *storageStore) tryLock(ctx context.Context, id [16]byte) (bool, error) {
	return tryLockStorage(ctx, s.storage, s.key("inflight", id))
}

func (s *storageStore) unlock(ctx context.Context, id [16]byte) error {
	return s.storage.Unlock(ctx, s.key("inflight", id))
}
