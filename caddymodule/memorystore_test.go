package caddymodule

import (
	"context"
	"errors"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"

	"github.com/zegoedge/caddy-zego-callback/verify"
)

// manualClock is a clock the test moves by hand.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func id(b byte) [16]byte { return [16]byte{b} }

// markDelivered records a delivery without a mark, as a claim's finish
// does.
func markDelivered(s dedupeStore, ctx context.Context, id [16]byte, ttl time.Duration) error {
	return s.finish(ctx, id, ttl, false)
}

// claimsMade gives each claimSignature its own delivery, so that only the
// signature record decides.
var claimsMade atomic.Uint32

// claimSignature claims a fresh delivery with a signature and clears its
// mark; replayed reports the store's verdict on the signature.
func claimSignature(s dedupeStore, ctx context.Context, sigID, digest [16]byte, ttl time.Duration) (replayed bool, err error) {
	delivery := [16]byte{0xff, 0xfe}
	n := claimsMade.Add(1)
	delivery[2], delivery[3], delivery[4] = byte(n), byte(n>>8), byte(n>>16)
	err = s.claim(ctx, delivery, &signatureClaim{id: sigID, digest: digest, ttl: ttl}, time.Minute)
	if errors.Is(err, verify.ErrReplayedSignature) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return false, s.finish(ctx, delivery, 0, true)
}

// stores returns both store kinds on one manual clock, the storage store on
// a real file_system storage in a temporary folder.
func stores(t *testing.T, max int) (map[string]dedupeStore, *manualClock) {
	clock := &manualClock{now: time.Unix(1755570000, 0)}
	return map[string]dedupeStore{
		"memory":  newMemoryStore(max, clock.Now),
		"storage": &storageStore{storage: &certmagic.FileStorage{Path: t.TempDir()}, now: clock.Now, logger: zap.NewNop()},
	}, clock
}

func TestStoreRecordsExpire(t *testing.T) {
	all, clock := stores(t, 10)
	for name, s := range all {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if err := markDelivered(s, ctx, id(1), time.Minute); err != nil {
				t.Fatal(err)
			}
			if replayed, err := claimSignature(s, ctx, id(2), id(7), 2*time.Minute); replayed || err != nil {
				t.Fatalf("first claim: replayed=%v err=%v", replayed, err)
			}
			if ok, err := s.delivered(ctx, id(1)); !ok || err != nil {
				t.Fatalf("fresh delivery record not found: %v", err)
			}
			if ok, _ := s.delivered(ctx, id(3)); ok {
				t.Fatal("an unknown key reads as delivered")
			}
			clock.advance(time.Minute)
			if ok, _ := s.delivered(ctx, id(1)); ok {
				t.Fatal("a delivery record outlived its TTL")
			}
			if replayed, _ := claimSignature(s, ctx, id(2), id(8), 2*time.Minute); !replayed {
				t.Fatal("a live signature record accepted another document")
			}
			clock.advance(time.Minute)
			if replayed, _ := claimSignature(s, ctx, id(2), id(8), 2*time.Minute); replayed {
				t.Fatal("an expired signature record still rejects")
			}
			clock.advance(-2 * time.Minute) // share the clock with the next store
		})
	}
}

func TestStoreSignatureBinding(t *testing.T) {
	all, _ := stores(t, 10)
	for name, s := range all {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			for i, tc := range []struct {
				digest   byte
				replayed bool
			}{{1, false}, {1, false}, {2, true}, {1, false}} {
				replayed, err := claimSignature(s, ctx, id(9), id(tc.digest), time.Minute)
				if err != nil || replayed != tc.replayed {
					t.Fatalf("claim %d with digest %d: replayed=%v err=%v, want %v", i, tc.digest, replayed, err, tc.replayed)
				}
			}
		})
	}
}

func TestStoreInFlight(t *testing.T) {
	all, _ := stores(t, 10)
	for name, s := range all {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if err := s.claim(ctx, id(1), nil, time.Minute); err != nil {
				t.Fatalf("first claim: %v", err)
			}
			if err := s.claim(ctx, id(1), nil, time.Minute); !errors.Is(err, verify.ErrInFlight) {
				t.Fatalf("second claim of a key in flight: %v, want ErrInFlight", err)
			}
			if err := s.claim(ctx, id(2), nil, time.Minute); err != nil {
				t.Fatalf("another key: %v", err)
			}
			if err := s.finish(ctx, id(1), 0, true); err != nil {
				t.Fatal(err)
			}
			if err := s.claim(ctx, id(1), nil, time.Minute); err != nil {
				t.Fatalf("claim after a failed delivery finished: %v", err)
			}
			if err := s.finish(ctx, id(1), time.Minute, true); err != nil {
				t.Fatal(err)
			}
			if err := s.claim(ctx, id(1), nil, time.Minute); !errors.Is(err, errDuplicate) {
				t.Fatalf("claim after a delivery: %v, want errDuplicate", err)
			}
		})
	}
}

// TestMemoryStoreStaleMarkIsTaken: a mark older than staleAfter belongs to
// an attempt that is over (deliver_timeout bounds every attempt), so it
// answers no one 409.
func TestMemoryStoreStaleMarkIsTaken(t *testing.T) {
	s := newMemoryStore(10, time.Now)
	ctx := context.Background()
	if err := s.claim(ctx, id(1), nil, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.claim(ctx, id(1), nil, time.Minute); !errors.Is(err, verify.ErrInFlight) {
		t.Fatalf("fresh mark: %v, want ErrInFlight", err)
	}
	time.Sleep(20 * time.Millisecond)
	if err := s.claim(ctx, id(1), nil, 10*time.Millisecond); err != nil {
		t.Fatalf("a mark older than staleAfter still blocks: %v", err)
	}
}

func TestMemoryStoreEvictsOldestFirst(t *testing.T) {
	clock := &manualClock{now: time.Unix(1755570000, 0)}
	s := newMemoryStore(3, clock.Now)
	ctx := context.Background()
	for b := byte(1); b <= 4; b++ {
		_ = markDelivered(s, ctx, id(b), time.Hour)
	}
	if s.len() != 3 {
		t.Fatalf("%d records held, bound is 3", s.len())
	}
	if ok, _ := s.delivered(ctx, id(1)); ok {
		t.Fatal("the oldest record survived eviction")
	}
	for b := byte(2); b <= 4; b++ {
		if ok, _ := s.delivered(ctx, id(b)); !ok {
			t.Fatalf("record %d was evicted before the oldest", b)
		}
	}
	// Rewriting a key keeps its place in the ring rather than taking a new slot.
	_ = markDelivered(s, ctx, id(4), time.Hour)
	_ = markDelivered(s, ctx, id(5), time.Hour)
	if ok, _ := s.delivered(ctx, id(2)); ok {
		t.Fatal("record 2 should be the one evicted by record 5")
	}
	if ok, _ := s.delivered(ctx, id(4)); !ok {
		t.Fatal("record 4 was lost when rewritten")
	}
}

func TestMemoryStoreReclaimsExpiredOnRead(t *testing.T) {
	clock := &manualClock{now: time.Unix(1755570000, 0)}
	s := newMemoryStore(10, clock.Now)
	ctx := context.Background()
	_ = markDelivered(s, ctx, id(1), time.Second)
	clock.advance(2 * time.Second)
	_, _ = s.delivered(ctx, id(1))
	if s.len() != 0 {
		t.Fatalf("expired record still indexed: %d", s.len())
	}
}

// TestMemoryStoreConcurrent runs under -race in CI: many goroutines, one
// key, exactly one lock holder at a time.
func TestMemoryStoreConcurrent(t *testing.T) {
	s := newMemoryStore(1000, time.Now)
	ctx := context.Background()
	var holders, maxHolders, acquired atomic.Int32
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			for i := range 200 {
				_, _ = claimSignature(s, ctx, id(byte(i)), id(byte(g%2)), time.Minute)
				_ = markDelivered(s, ctx, id(byte(g)), time.Minute)
				_, _ = s.delivered(ctx, id(byte(i)))
				if s.claim(ctx, id(255), nil, time.Minute) == nil { // a key no goroutine records as delivered
					acquired.Add(1)
					n := holders.Add(1)
					if n > maxHolders.Load() {
						maxHolders.Store(n)
					}
					runtime.Gosched()
					holders.Add(-1)
					_ = s.finish(ctx, id(255), 0, true)
				}
			}
		})
	}
	wg.Wait()
	if maxHolders.Load() != 1 || acquired.Load() == 0 {
		t.Fatalf("lock held by up to %d at once, acquired %d times", maxHolders.Load(), acquired.Load())
	}
}

// TestStorageStoreFailsLoudly: a storage that cannot write reports errors,
// which the handler turns into "forward anyway".
func TestStorageStoreFailsLoudly(t *testing.T) {
	ctx := context.Background()
	s := &storageStore{storage: &certmagic.FileStorage{Path: brokenStoragePath(t)}, now: time.Now, logger: zap.NewNop()}
	if _, err := claimSignature(s, ctx, id(1), id(1), time.Minute); err == nil {
		t.Error("claimSignature on a broken storage returned no error")
	}
	if err := markDelivered(s, ctx, id(1), time.Minute); err == nil {
		t.Error("markDelivered on a broken storage returned no error")
	}
	if err := s.claim(ctx, id(1), nil, time.Minute); err == nil || errors.Is(err, verify.ErrInFlight) {
		t.Errorf("claim on a broken storage: %v, want the storage's error", err)
	}
}

// brokenStoragePath is a real folder path that cannot be created: its
// parent is a regular file.
func brokenStoragePath(t *testing.T) string {
	file := t.TempDir() + "/not-a-folder"
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	return file + "/storage"
}

// BenchmarkMemoryStoreFill fills a store with 100,000 delivery records and
// reports the heap each one costs.
func BenchmarkMemoryStoreFill(b *testing.B) {
	const entries = 100_000
	ctx := context.Background()
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := newMemoryStore(entries, time.Now)
		for i := range entries {
			var key [16]byte
			key[0], key[1], key[2] = byte(i), byte(i>>8), byte(i>>16)
			_ = markDelivered(s, ctx, key, time.Hour)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/entries, "bytes/entry")
		runtime.KeepAlive(s)
	}
}

func TestStorageStoreSweepDeletesExpired(t *testing.T) {
	ctx := context.Background()
	clock := &manualClock{now: time.Unix(1755570000, 0)}
	folder := t.TempDir()
	s := &storageStore{storage: &certmagic.FileStorage{Path: folder}, now: clock.Now, prefix: "zego_callback/dedupe/scope"}
	_ = markDelivered(s, ctx, id(1), time.Minute)
	_ = markDelivered(s, ctx, id(2), time.Hour)
	_, _ = claimSignature(s, ctx, id(3), id(3), time.Minute)
	clock.advance(2 * time.Minute)
	s.sweep(ctx)
	for kind, want := range map[string]int{"delivered": 1, "signature": 0} {
		entries, err := os.ReadDir(folder + "/zego_callback/dedupe/scope/" + kind)
		if err != nil || len(entries) != want {
			t.Errorf("%s: %d records left (%v), want %d", kind, len(entries), err, want)
		}
	}
}
