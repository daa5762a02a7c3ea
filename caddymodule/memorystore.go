package caddymodule

import (
	"context"
	"sync"
	"time"

	"github.com/zegoedge/caddy-zego-callback/verify"
)

// recordKind separates the two kinds of dedupe record.
type recordKind uint8

const (
	signatureRecord recordKind = iota + 1
	deliveryRecord
)

type recordKey struct {
	kind recordKind
	id   [16]byte
}

type memoryRecord struct {
	key     recordKey
	digest  [16]byte
	expires int64 // unix nanoseconds; 0 marks a free slot
}

// memoryStore keeps dedupe records in a ring of at most max slots: each
// operation is O(1), memory is bounded, and when the ring is full the oldest
// record is evicted. An expired record is dropped when it is read or when
// its slot is reused. It also tracks the keys in flight.
type memoryStore struct {
	mu       sync.Mutex
	now      func() time.Time
	max      int
	ring     []memoryRecord
	oldest   int // once the ring is full, the slot the next record takes
	index    map[recordKey]int
	inFlight map[[16]byte]time.Time // when each mark was set
}

func newMemoryStore(max int, now func() time.Time) *memoryStore {
	return &memoryStore{
		now:      now,
		max:      max,
		index:    make(map[recordKey]int),
		inFlight: make(map[[16]byte]time.Time),
	}
}

// Destruct lets a caddy.UsagePool hold the store; memory needs no release.
func (s *memoryStore) Destruct() error { return nil }

// lookup returns the live record for key; the caller holds mu.
func (s *memoryStore) lookup(key recordKey) (*memoryRecord, bool) {
	slot, ok := s.index[key]
	if !ok {
		return nil, false
	}
	r := &s.ring[slot]
	if r.expires <= s.now().UnixNano() {
		delete(s.index, key)
		*r = memoryRecord{}
		return nil, false
	}
	return r, true
}

// put writes a record; the caller holds mu.
func (s *memoryStore) put(key recordKey, digest [16]byte, ttl time.Duration) {
	record := memoryRecord{key: key, digest: digest, expires: s.now().Add(ttl).UnixNano()}
	if slot, ok := s.index[key]; ok {
		s.ring[slot] = record
		return
	}
	var slot int
	if len(s.ring) < s.max {
		s.ring = append(s.ring, record)
		slot = len(s.ring) - 1
	} else {
		slot = s.oldest
		s.oldest = (s.oldest + 1) % s.max
		if evicted := s.ring[slot]; evicted.expires != 0 {
			delete(s.index, evicted.key)
		}
		s.ring[slot] = record
	}
	s.index[key] = slot
}

func (s *memoryStore) claim(_ context.Context, id [16]byte, sig *signatureClaim, staleAfter time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sig != nil {
		if err := s.putSignature(sig); err != nil {
			return err
		}
	}
	if _, ok := s.lookup(recordKey{deliveryRecord, id}); ok {
		return errDuplicate
	}
	// The process's own clock: a wall-clock step cannot age a mark.
	now := time.Now()
	if since, busy := s.inFlight[id]; busy && now.Sub(since) < staleAfter {
		return verify.ErrInFlight
	}
	s.inFlight[id] = now
	return nil
}

func (s *memoryStore) recordSignature(_ context.Context, sig *signatureClaim) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.putSignature(sig)
}

// putSignature is recordSignature; the caller holds mu.
func (s *memoryStore) putSignature(sig *signatureClaim) error {
	key := recordKey{signatureRecord, sig.id}
	if r, ok := s.lookup(key); !ok {
		s.put(key, sig.digest, sig.ttl)
	} else if r.digest != sig.digest {
		return verify.ErrReplayedSignature
	}
	return nil
}

func (s *memoryStore) delivered(_ context.Context, id [16]byte) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.lookup(recordKey{deliveryRecord, id})
	return ok, nil
}

func (s *memoryStore) finish(_ context.Context, id [16]byte, deliveredTTL time.Duration, marked bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if deliveredTTL > 0 {
		s.put(recordKey{deliveryRecord, id}, [16]byte{}, deliveredTTL)
	}
	if marked {
		delete(s.inFlight, id)
	}
	return nil
}

// len is the number of records held, live or not yet reclaimed.
func (s *memoryStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.index)
}
