package caddymodule

import (
	"cmp"
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
	// markSlack is how much longer than deliver_timeout an in-flight mark
	// holds: a mark older than that belongs to an attempt that is over (its
	// instance crashed or froze) and is taken over.
	markSlack = 5 * time.Second
)

// dedupeStore holds one secret's dedupe records and in-flight marks.
// Records are identified by 128-bit IDs.
type dedupeStore interface {
	// claim marks the delivery id in flight, after recording the signature
	// with its document digest when sig is not nil. It answers
	// verify.ErrReplayedSignature (the signature came before with another
	// document), errDuplicate (delivered already) or verify.ErrInFlight
	// (another delivery holds the mark, and is not older than staleAfter);
	// any other error is the store's failure.
	claim(ctx context.Context, id [16]byte, sig *signatureClaim, staleAfter time.Duration) error
	// recordSignature records the signature with its document digest, or
	// answers verify.ErrReplayedSignature when it came before with another.
	recordSignature(ctx context.Context, sig *signatureClaim) error
	delivered(ctx context.Context, id [16]byte) (bool, error)
	// finish records the delivery when deliveredTTL > 0 and clears the
	// mark when marked (claim set it).
	finish(ctx context.Context, id [16]byte, deliveredTTL time.Duration, marked bool) error
}

// signatureClaim is a signed triple with the document it came with.
type signatureClaim struct {
	id, digest [16]byte
	ttl        time.Duration
}

// dedupe is the duplicate and replay protection of one handler: one store
// per secret. A nil *dedupe is dedupe off.
type dedupe struct {
	ttl        time.Duration
	staleAfter time.Duration
	stores     map[string]dedupeStore // by scope
	scopesFor  func(appID uint32) []string
	validUntil func(*verify.Callback) time.Time
	now        func() time.Time
	logger     *zap.Logger
	// memoryPoolKeys are the memory stores this handler holds in
	// memoryStores, released in Cleanup.
	memoryPoolKeys []string
}

// memoryStores lets a memory store outlive config reloads: a new config's
// handler that verifies with the same secret picks up the store its
// predecessor used.
var memoryStores = caddy.NewUsagePool()

// newDedupe opens one store for each secret, or returns nil when dedupe is
// off.
func (h *Handler) newDedupe(ctx caddy.Context) (*dedupe, error) {
	if h.DedupeDisabled {
		return nil, nil
	}
	dd := &dedupe{
		ttl:        time.Duration(h.DedupeTTL),
		staleAfter: time.Duration(h.DeliverTimeout) + markSlack,
		stores:     make(map[string]dedupeStore),
		scopesFor:  h.scopesFor,
		validUntil: h.verifier.ValidUntil,
		now:        h.clock(),
		logger:     h.logger,
	}
	scopes := append([]string(nil), h.topScopes...)
	for _, appScopes := range h.appScopes {
		scopes = append(scopes, appScopes...)
	}
	for _, scope := range scopes {
		if _, ok := dd.stores[scope]; ok {
			continue
		}
		if h.DedupeStore == storeStorage {
			store := &storageStore{storage: ctx.Storage(), now: dd.now, prefix: path.Join(storagePrefix, "dedupe", scope), logger: h.logger}
			// The config's context ends when the config is unloaded.
			go store.sweepEvery(ctx, dd.ttl)
			dd.stores[scope] = store
			continue
		}
		// Each secret has its own ring of dedupe_max records, so a flood
		// through one secret evicts only its own. A new dedupe_max starts a
		// new ring.
		key := fmt.Sprintf("zego_callback/memory/%s max=%d", scope, h.DedupeMax)
		value, _, err := memoryStores.LoadOrNew(key, func() (caddy.Destructor, error) {
			return newMemoryStore(h.DedupeMax, dd.now), nil
		})
		if err != nil {
			return nil, err
		}
		dd.memoryPoolKeys = append(dd.memoryPoolKeys, key)
		dd.stores[scope] = value.(*memoryStore)
	}
	return dd, nil
}

// scopesOf names the records of each secret.
func scopesOf(secrets []string) []string {
	scopes := make([]string, len(secrets))
	for i, secret := range secrets {
		scopes[i] = secretScope(secret)
	}
	return scopes
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

// secretFingerprint names a secret for an operator (the access log, the
// CLI): the start of its scope, a labelled hash that reveals nothing.
func secretFingerprint(scope string) string { return scope[:8] }

// Cleanup releases what the handler holds beyond its config: its memory
// stores and its place at the spool's worker.
func (h *Handler) Cleanup() error {
	var errs []error
	if h.dedupe != nil {
		for _, key := range h.dedupe.memoryPoolKeys {
			if _, err := memoryStores.Delete(key); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if h.spooler != nil {
		errs = append(errs, h.spooler.close(h))
	}
	return errors.Join(errs...)
}

// claim is a delivery marked in flight; a nil *claim marks nothing.
type claim struct {
	dd    *dedupe
	store dedupeStore
	id    [16]byte
	// marked: the store holds the mark (a store failure lets the delivery
	// go ahead unmarked, as a duplicate beats a loss).
	marked bool
}

// claim decides whether ZEGO's callback may be delivered now: not a
// tampered replay of a signature already seen, not delivered already (under
// any of the app's secrets, so a retry signed with a rotated secret is
// still a duplicate), not being delivered right now. A store failure never
// stops a genuine callback; it is logged at WARN.
func (dd *dedupe) claim(r *http.Request, d *delivery) (*claim, error) {
	if dd == nil {
		return nil, nil
	}
	return dd.claimDelivery(r.Context(), d, dd.signatureOf(d), r.RemoteAddr)
}

// signatureOf is the record of d's signature. It outlives every moment at
// which the timestamp passes the window, so the signature cannot come back
// with another document.
func (dd *dedupe) signatureOf(d *delivery) *signatureClaim {
	return &signatureClaim{
		id:     d.callback.SignatureID(),
		digest: documentDigest(d.doc),
		ttl:    dd.validUntil(&d.callback).Sub(dd.now()),
	}
}

// checkSignature is the replay check for a synchronous callback: ZEGO's
// retry of one is asked again, never answered as a duplicate, but only
// within syncRetryWindow of the first ask; later, and with another
// document at any time, a captured signature is a replay, so that it
// cannot make the backend decide again and again within max_age. A store
// failure lets it through, logged at WARN, as claim does.
func (dd *dedupe) checkSignature(r *http.Request, d *delivery) error {
	if dd == nil {
		return nil
	}
	store := dd.stores[d.scope]
	if store == nil {
		return fmt.Errorf("no dedupe store for the secret that verified it")
	}
	ctx, sig := r.Context(), dd.signatureOf(d)
	err := store.recordSignature(ctx, sig)
	if err != nil && !errors.Is(err, verify.ErrReplayedSignature) && !errors.Is(err, verify.ErrInFlight) {
		dd.storeFailed(d, r.RemoteAddr, "recording the signature", err)
		return nil
	}
	if err != nil {
		return err
	}
	// Two marks beside the signature's record: asked (as long as it) and
	// the retry window.
	asked, window := syncMarks(sig.id)
	wasAsked, err := store.delivered(ctx, asked)
	if err == nil {
		var open bool
		if open, err = store.delivered(ctx, window); err == nil && wasAsked && !open {
			return verify.ErrReplayedSignature
		}
	}
	if err == nil && !wasAsked {
		err = errors.Join(store.finish(ctx, asked, sig.ttl, false), store.finish(ctx, window, syncRetryWindow, false))
	}
	if err != nil {
		dd.storeFailed(d, r.RemoteAddr, "recording the synchronous callback", err)
	}
	return nil
}

// syncRetryWindow is how long after a synchronous callback is first asked
// its signature may come again with the same document: ZEGO retries one
// at once (its Chinese page) or after 3 s (its English one). A variable,
// for tests.
var syncRetryWindow = 10 * time.Second

// syncMarks are the IDs of checkSignature's two marks for a signature, in
// the delivery records' space (a hash, as the delivery IDs are).
func syncMarks(signature [16]byte) (asked, window [16]byte) {
	a := sha256.Sum256(append([]byte("zego_callback sync asked\x00"), signature[:]...))
	w := sha256.Sum256(append([]byte("zego_callback sync window\x00"), signature[:]...))
	return [16]byte(a[:16]), [16]byte(w[:16])
}

// claimRedelivery is claim for a spool item: verified and its signature
// recorded when it first arrived.
func (dd *dedupe) claimRedelivery(ctx context.Context, d *delivery) (*claim, error) {
	if dd == nil {
		return nil, nil
	}
	return dd.claimDelivery(ctx, d, nil, "spool")
}

func (dd *dedupe) claimDelivery(ctx context.Context, d *delivery, sig *signatureClaim, from string) (*claim, error) {
	c := &claim{dd: dd, store: dd.stores[d.scope], id: d.idempotencyID}
	if c.store == nil {
		return nil, fmt.Errorf("no dedupe store for the secret that verified it")
	}
	// Another of the app's secrets may have delivered it already (a retry
	// signed with the rotated secret): one look per other secret, none in
	// the usual one-secret case.
	for _, scope := range dd.scopesFor(d.callback.AppID) {
		if scope == d.scope {
			continue
		}
		delivered, err := dd.stores[scope].delivered(ctx, d.idempotencyID)
		if err != nil {
			dd.storeFailed(d, from, "reading the delivery record", err)
		}
		if delivered {
			return nil, errDuplicate
		}
	}
	err := c.store.claim(ctx, d.idempotencyID, sig, dd.staleAfter)
	switch {
	case err == nil:
		c.marked = true
	case errors.Is(err, errDuplicate), errors.Is(err, verify.ErrInFlight), errors.Is(err, verify.ErrReplayedSignature):
		return nil, err
	default:
		dd.storeFailed(d, from, "claiming the delivery", err)
	}
	return c, nil
}

// finish records the delivery when it was accepted and clears the mark.
func (c *claim) finish(ctx context.Context, delivered bool) {
	if c == nil {
		return
	}
	ttl := time.Duration(0)
	if delivered {
		ttl = c.dd.ttl
	}
	if !c.marked && ttl == 0 {
		return
	}
	if err := c.store.finish(ctx, c.id, ttl, c.marked); err != nil {
		c.dd.logger.Warn("dedupe store failed while recording a delivery", zap.Error(err))
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

func (dd *dedupe) storeFailed(d *delivery, from, doing string, err error) {
	if c := dd.logger.Check(zapcore.WarnLevel, "dedupe store failed; delivering anyway"); c != nil {
		c.Write(zap.String("while", doing), zap.Error(err), zap.Uint32("app_id", d.callback.AppID),
			zap.String("task_id", d.callback.TaskID), zap.String("from", from))
	}
}

// storageStore keeps the records in Caddy's configured storage, so that
// every Caddy instance sharing it shares one view. Each record is one key
// holding its expiry (and the document digest for signatures); the
// in-flight mark and the signature's check-and-set are the storage's locks.
type storageStore struct {
	storage certmagic.Storage
	now     func() time.Time
	prefix  string // one secret's records: zego_callback/dedupe/<scope>
	logger  *zap.Logger
}

const storagePrefix = "zego_callback"

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
	defer recoverBackground(s.logger, "the dedupe sweeper")
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
		keys, err := listKeys(ctx, s.storage, path.Join(s.prefix, kind))
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

func (s *storageStore) claim(ctx context.Context, id [16]byte, sig *signatureClaim, staleAfter time.Duration) error {
	if sig != nil {
		if err := s.recordSignature(ctx, sig); err != nil {
			return err
		}
	}
	deliveredKey := s.key("delivered", id)
	if _, found, err := s.load(ctx, deliveredKey); err != nil || found {
		return cmp.Or(err, errDuplicate)
	}
	// A mark whose holder is gone goes stale on its own: the storage's
	// locks are kept fresh by their holder (file_system: stale after 10 s;
	// see tryLockStorage for one left empty by a full disk).
	locked, err := tryLockStorage(ctx, s.storage, s.key("inflight", id), s.logger, staleAfter)
	switch {
	case err != nil:
		return err
	case !locked:
		return verify.ErrInFlight
	}
	// Another delivery may have finished between the check and the lock.
	if _, found, err := s.load(ctx, deliveredKey); err != nil || found {
		_ = s.storage.Unlock(context.WithoutCancel(ctx), s.key("inflight", id))
		return cmp.Or(err, errDuplicate)
	}
	return nil
}

// recordSignature records the signature with its document, serializing
// two instances claiming one signature at once.
func (s *storageStore) recordSignature(ctx context.Context, sig *signatureClaim) error {
	key := s.key("signature", sig.id)
	locked, err := tryLockStorage(ctx, s.storage, key, s.logger, brokenLockAfter) // held for a read and a write
	if err != nil {
		return err
	}
	if !locked {
		return verify.ErrInFlight
	}
	defer func() {
		_ = s.storage.Unlock(context.WithoutCancel(ctx), key) // a lock left behind goes stale on its own
	}()
	seen, found, err := s.load(ctx, key)
	if err != nil {
		return err
	}
	digestHex := hex.EncodeToString(sig.digest[:])
	if found {
		if seen != digestHex {
			return verify.ErrReplayedSignature
		}
		return nil
	}
	return s.store(ctx, key, digestHex, sig.ttl)
}

func (s *storageStore) delivered(ctx context.Context, id [16]byte) (bool, error) {
	_, found, err := s.load(ctx, s.key("delivered", id))
	return found, err
}

func (s *storageStore) finish(ctx context.Context, id [16]byte, deliveredTTL time.Duration, marked bool) error {
	var recordErr, unlockErr error
	if deliveredTTL > 0 {
		recordErr = s.store(ctx, s.key("delivered", id), "", deliveredTTL)
	}
	if marked {
		unlockErr = s.storage.Unlock(ctx, s.key("inflight", id))
	}
	return errors.Join(recordErr, unlockErr)
}
