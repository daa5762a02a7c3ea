package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"
)

const (
	// storageLockWait bounds one try at a storage lock: a held lock is
	// someone else's delivery, and waiting for it would hold ZEGO's request.
	storageLockWait = 100 * time.Millisecond
	// brokenLockAfter is when a file_system lock file that holds no lock
	// (empty or not JSON: a full disk leaves it so, certmagic's create
	// succeeding and its write failing) is removed. A holder rewrites its
	// lock every 5 s, so a lock file that is still broken after 10 s has
	// none. certmagic itself calls a readable lock stale 10 s after its
	// last update: either way a lock whose holder is gone is free within
	// brokenLockAfter plus one try.
	brokenLockAfter = 10 * time.Second
)

// tryLockStorage takes the storage's lock on key if it is free, without
// waiting for a holder: false means someone else holds it. On file_system,
// a lock file that cannot be read (see brokenLockAfter) or whose holder
// stopped refreshing it across a clock step is removed, logged at WARN,
// and the lock taken.
//
// maxHold is the longest any holder holds this lock: a lock created longer
// ago is taken too, as its holder is gone. (certmagic's refresher of a
// released lock can go on refreshing the next holder's lock at the same
// path, even after that holder died, so freshness alone is not proof.)
func tryLockStorage(ctx context.Context, storage certmagic.Storage, key string, logger *zap.Logger, maxHold time.Duration) (bool, error) {
	locked, err := tryLockOnce(ctx, storage, key)
	if locked {
		return true, nil
	}
	files, ok := storage.(*certmagic.FileStorage)
	if !ok {
		return false, err
	}
	filename := filepath.Join(files.Path, "locks", certmagic.StorageKeys.Safe(key)+".lock")
	reason := brokenLock(filename, time.Now(), maxHold)
	if reason == "" {
		return false, err
	}
	if removeErr := os.Remove(filename); removeErr != nil && !errors.Is(removeErr, fs.ErrNotExist) {
		return false, errors.Join(err, removeErr)
	}
	lockSightings.forget(filename)
	logger.Warn("removed a storage lock that no one holds; taking it", zap.String("lock", filename), zap.String("why", reason))
	return tryLockOnce(ctx, storage, key)
}

func tryLockOnce(ctx context.Context, storage certmagic.Storage, key string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, storageLockWait)
	defer cancel()
	var locked bool
	var err error
	if locker, ok := storage.(certmagic.TryLocker); ok {
		locked, err = locker.TryLock(ctx, key)
	} else {
		err = storage.Lock(ctx, key)
		locked = err == nil
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return false, nil // another holds it
	}
	return locked, err
}

// brokenLock says why the lock file holds no lock, or "" when it may.
// Its holder would have rewritten it within 5 s, so it holds none when it
// has not changed for brokenLockAfter (by its time, or by this process's
// own clock, which a clock step does not move) and it is empty, not JSON,
// or dated ahead of the clock (set back since its holder last wrote it;
// certmagic would wait for the clock to catch up).
func brokenLock(filename string, now time.Time, maxHold time.Duration) string {
	info, err := os.Stat(filename)
	if err != nil {
		lockSightings.forget(filename)
		return ""
	}
	content, err := os.ReadFile(filename)
	if err != nil {
		return ""
	}
	var meta struct{ Created, Updated time.Time }
	readable := len(content) > 0 && json.Unmarshal(content, &meta) == nil
	if readable && !meta.Created.IsZero() && now.Sub(meta.Created) > maxHold+brokenLockAfter {
		return "it was taken at " + meta.Created.UTC().Format(time.RFC3339) + ", longer ago than any holder holds it"
	}
	age := now.Sub(info.ModTime())
	unchangedFor := lockSightings.unchangedFor(filename, info.ModTime())
	if age < brokenLockAfter && unchangedFor < brokenLockAfter {
		return ""
	}
	switch {
	case len(content) == 0:
		return "it is empty (left by a full disk?)"
	case !readable:
		return "it is not a lock (corrupt)"
	case age < -brokenLockAfter:
		return "its holder last wrote it ahead of this clock (the clock was set back) and not since"
	}
	return ""
}

// lockSightings remembers since when (by the process's monotonic clock) a
// lock file has had the modification time it has.
var lockSightings = &sightings{seen: make(map[string]sighting)}

type sightings struct {
	mu   sync.Mutex
	seen map[string]sighting
}

type sighting struct {
	modTime time.Time
	since   time.Time
}

// maxSightings bounds the memory: locks that were released are never
// looked at again, so the oldest sightings are dropped past it.
const maxSightings = 4096

func (s *sightings) unchangedFor(filename string, modTime time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen, ok := s.seen[filename]
	if !ok || !seen.modTime.Equal(modTime) {
		if len(s.seen) >= maxSightings {
			for name, old := range s.seen {
				if time.Since(old.since) > time.Minute {
					delete(s.seen, name)
				}
			}
		}
		if len(s.seen) >= maxSightings {
			clear(s.seen)
		}
		seen = sighting{modTime: modTime, since: time.Now()}
		s.seen[filename] = seen
	}
	return time.Since(seen.since)
}

func (s *sightings) forget(filename string) {
	s.mu.Lock()
	delete(s.seen, filename)
	s.mu.Unlock()
}

// listKeys lists the keys directly under prefix. FileStorage's List walks
// the folder and gives up, with part of the keys and fs.ErrNotExist, when
// a file goes while it walks (the temporary file of any write next to it),
// so on file_system the folder is read directly, which also spares a stat
// a key; other storages' List is tried again when it fails that way. A
// prefix that does not exist has no keys.
func listKeys(ctx context.Context, storage certmagic.Storage, prefix string) ([]string, error) {
	if files, ok := storage.(*certmagic.FileStorage); ok {
		entries, err := os.ReadDir(files.Filename(prefix))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		keys := make([]string, 0, len(entries))
		for _, entry := range entries {
			if !entry.IsDir() {
				keys = append(keys, path.Join(prefix, entry.Name()))
			}
		}
		return keys, err
	}
	var keys []string
	var err error
	for range 3 {
		if keys, err = storage.List(ctx, prefix, false); !errors.Is(err, fs.ErrNotExist) || len(keys) == 0 {
			break
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		err = nil // absent (no keys), or as much as the storage would list
	}
	return keys, err
}
