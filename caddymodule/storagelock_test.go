package caddymodule

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/zegoedge/caddy-zego-callback/verify"
)

// lockFile is where file_system keeps the lock on key.
func lockFile(storage *certmagic.FileStorage, key string) string {
	return filepath.Join(storage.Path, "locks", certmagic.StorageKeys.Safe(key)+".lock")
}

// age sets a file's times d into the past, as if d had passed since it was
// last written.
func age(t *testing.T, filename string, d time.Duration) {
	t.Helper()
	then := time.Now().Add(-d)
	if err := os.Chtimes(filename, then, then); err != nil {
		t.Fatal(err)
	}
}

// TestBrokenLockFilesAreTaken: a lock file that holds no lock — empty, as
// a full disk leaves it, or corrupt — blocks its key only until it is
// brokenLockAfter old, then is removed (logged at WARN) and the lock is
// taken. A lock another holder keeps fresh is never taken.
func TestBrokenLockFilesAreTaken(t *testing.T) {
	for name, content := range map[string]string{"empty": "", "corrupt": "{\"created\": tru"} {
		t.Run(name, func(t *testing.T) {
			storage := &certmagic.FileStorage{Path: t.TempDir()}
			core, logs := observer.New(zap.WarnLevel)
			logger := zap.New(core)
			ctx := context.Background()
			const key = "zego_callback/dedupe/scope/inflight/00"
			filename := lockFile(storage, key)
			if err := os.MkdirAll(filepath.Dir(filename), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filename, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			if locked, err := tryLockStorage(ctx, storage, key, logger, time.Minute); locked {
				t.Fatalf("a broken lock written just now was taken at once (err %v): it could still be being written", err)
			}
			age(t, filename, brokenLockAfter+time.Second)
			locked, err := tryLockStorage(ctx, storage, key, logger, time.Minute)
			if !locked || err != nil {
				t.Fatalf("a broken lock %s old was not taken: %v %v", brokenLockAfter+time.Second, locked, err)
			}
			if logs.FilterMessageSnippet("removed a storage lock").Len() != 1 {
				t.Fatalf("want one WARN line, got %v", logs.All())
			}
			// Now held, and kept fresh, by us: never taken by another.
			age(t, filename, brokenLockAfter+time.Second)
			if locked, _ := tryLockStorage(ctx, storage, key, logger, time.Minute); locked {
				t.Fatal("a readable lock was taken while its holder keeps it")
			}
			_ = storage.Unlock(ctx, key)
		})
	}
}

// TestEmptyInFlightMarkAnswers409OnlyWithinTheBound is finding 6 on the
// request path: with dedupe_store storage, an empty in-flight lock left by
// a full disk made every later retry of that callback 409 until ZEGO gave
// up. Now it is 409 only until the lock is brokenLockAfter old.
func TestEmptyInFlightMarkAnswers409OnlyWithinTheBound(t *testing.T) {
	storage := &certmagic.FileStorage{Path: t.TempDir()}
	s := &storageStore{storage: storage, now: time.Now, prefix: "zego_callback/dedupe/scope", logger: zap.NewNop()}
	ctx := context.Background()
	filename := lockFile(storage, s.key("inflight", id(1)))
	if err := os.MkdirAll(filepath.Dir(filename), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filename, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.claim(ctx, id(1), nil, time.Minute); !errors.Is(err, verify.ErrInFlight) {
		t.Fatalf("fresh empty mark: %v, want in flight", err)
	}
	age(t, filename, brokenLockAfter+time.Second)
	if err := s.claim(ctx, id(1), nil, time.Minute); err != nil {
		t.Fatalf("an empty mark past the bound still blocks: %v", err)
	}
	if err := s.finish(ctx, id(1), time.Minute, true); err != nil {
		t.Fatal(err)
	}
}

// TestFullDiskLeavesNoWedgedLocks fills a real filesystem (a 1MiB tmpfs):
// a claim made while the disk is full leaves the empty lock file of the
// review, and once space returns the callback can be claimed again within
// the bound. It needs root to mount the tmpfs.
func TestFullDiskLeavesNoWedgedLocks(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root; .ci/run runs as root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	storage := &certmagic.FileStorage{Path: dir}
	s := &storageStore{storage: storage, now: time.Now, prefix: "zego_callback/dedupe/scope", logger: zap.NewNop()}
	ctx := context.Background()
	// The folders exist before the disk fills, as on a running edge.
	if err := s.claim(ctx, id(9), nil, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.finish(ctx, id(9), time.Minute, true); err != nil {
		t.Fatal(err)
	}

	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	block := make([]byte, 4096)
	for {
		if _, err := f.Write(block); err != nil {
			if !strings.Contains(err.Error(), "no space") {
				t.Fatalf("filling the tmpfs: %v", err)
			}
			break
		}
	}
	f.Close()

	err = s.claim(ctx, id(1), nil, time.Minute)
	if err == nil || errors.Is(err, verify.ErrInFlight) {
		t.Fatalf("a claim on a full disk: %v, want the storage's error", err)
	}
	lock := lockFile(storage, s.key("inflight", id(1)))
	if info, statErr := os.Stat(lock); statErr != nil || info.Size() != 0 {
		t.Fatalf("the full disk left no empty lock file (%v): the fault this test is about did not happen", statErr)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := s.claim(ctx, id(1), nil, time.Minute); !errors.Is(err, verify.ErrInFlight) {
		t.Fatalf("just after: %v, want in flight (the lock could still be being written)", err)
	}
	age(t, lock, brokenLockAfter+time.Second)
	if err := s.claim(ctx, id(1), nil, time.Minute); err != nil {
		t.Fatalf("once space returned and the bound passed: %v, want the claim", err)
	}
}

// TestListingSurvivesVanishingFiles: FileStorage's List gives up, with a
// part of the keys, when a file goes while it walks (each write's
// temporary file does): the worker then lost items from its view mid
// drain. The spool's listing gets every key while writes go on.
func TestListingSurvivesVanishingFiles(t *testing.T) {
	storage := &certmagic.FileStorage{Path: t.TempDir()}
	ctx := context.Background()
	for i := range 300 {
		if err := storage.Store(ctx, spoolKey(fmt.Sprintf("item-%03d", i)), []byte("{}")); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // writes beside the items, as the request path and the worker do
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_ = storage.Store(ctx, spoolKey(fmt.Sprintf("churn-%d", i%5)), []byte("{}"))
			_ = storage.Delete(ctx, spoolKey(fmt.Sprintf("churn-%d", i%5)))
		}
	}()
	defer func() { close(stop); <-done }()
	for range 200 {
		keys, err := listKeys(ctx, storage, spoolPrefix)
		if err != nil {
			t.Fatal(err)
		}
		items := 0
		for _, key := range keys {
			if strings.HasPrefix(path.Base(key), "item-") {
				items++
			}
		}
		if items != 300 {
			t.Fatalf("listed %d of 300 items while files came and went", items)
		}
	}
}

// TestLockHeldPastItsBoundIsTaken: certmagic's refresher of a released
// lock can keep refreshing the next holder's lock at the same path after
// that holder died, so a lock that looks fresh may have no holder. One
// taken longer ago than any holder holds it is taken over.
func TestLockHeldPastItsBoundIsTaken(t *testing.T) {
	storage := &certmagic.FileStorage{Path: t.TempDir()}
	ctx := context.Background()
	const key = "zego_callback/spool"
	filename := lockFile(storage, key)
	if err := os.MkdirAll(filepath.Dir(filename), 0o700); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	write := func(created time.Time) {
		meta := fmt.Sprintf(`{"created":%q,"updated":%q}`, created.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano))
		if err := os.WriteFile(filename, []byte(meta), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(now.Add(-30 * time.Second))
	if locked, _ := tryLockStorage(ctx, storage, key, zap.NewNop(), time.Minute); locked {
		t.Fatal("a fresh lock within its bound was taken")
	}
	write(now.Add(-5 * time.Minute))
	if locked, err := tryLockStorage(ctx, storage, key, zap.NewNop(), time.Minute); !locked || err != nil {
		t.Fatalf("a lock taken 5 min ago, kept fresh, with a 1 min bound, was not taken: %v %v", locked, err)
	}
	_ = storage.Unlock(ctx, key)
}
