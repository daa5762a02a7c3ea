package caddymodule_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// BenchmarkSpoolCallback is the cost of one spooled callback through Caddy
// on file_system storage: the upstream refuses the connection, the item is
// written, ZEGO gets 202. Compare with BenchmarkServeHTTP for the forward
// path; the difference is the refused dial and the storage write.
func BenchmarkSpoolCallback(b *testing.B) {
	folder := storageFolder(b)
	down := newDownUpstream(b)
	tester := startSpoolCaddy(b, folder, down.addr, "retry 1h\nmax_age 2h")
	bodies := make([]string, b.N)
	for i := range bodies {
		bodies[i] = signed{secret: dedupeSecret, taskID: newTaskID()}.body()
	}
	url := fmt.Sprintf("http://localhost:%d/zego/compose", httpPort)
	b.ResetTimer()
	for i := range b.N {
		resp, _, err := tryRetrying(tester.Client, jsonPost(url, bodies[i]))
		if err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode != http.StatusAccepted {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// BenchmarkSpoolDrain spools a backlog (ZEGO_SPOOL_BACKLOG callbacks,
// default 200; the README's figure is for 10000) while the upstream is
// down, then brings it back and reports how long the worker takes to
// deliver all of it, and how much the Go heap grew meanwhile (sampled every
// 20 ms): the worker reads one item at a time, so it stays flat.
func BenchmarkSpoolDrain(b *testing.B) {
	backlog := 200
	if n, err := strconv.Atoi(os.Getenv("ZEGO_SPOOL_BACKLOG")); err == nil && n > 0 {
		backlog = n
	}
	for range b.N {
		folder := storageFolder(b)
		down := newDownUpstream(b)
		tester := startSpoolCaddy(b, folder, down.addr, "retry 200ms\nmax_age 24h")
		url := fmt.Sprintf("http://localhost:%d/zego/compose", httpPort)
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < backlog; i += 8 {
					body := signed{secret: dedupeSecret, taskID: newTaskID()}.body()
					resp, _, err := tryRetrying(tester.Client, jsonPost(url, body))
					if err != nil {
						b.Error(err)
						return
					}
					if resp.StatusCode != http.StatusAccepted {
						b.Errorf("status %d", resp.StatusCode)
					}
				}
			})
		}
		wg.Wait()
		if b.Failed() {
			return
		}
		// An upstream that only counts, so the heap measures the edge.
		var mu sync.Mutex
		delivered := make(map[string]int, backlog)
		counting := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			mu.Lock()
			delivered[r.Header.Get("Idempotency-Key")]++
			mu.Unlock()
		}))
		runtime.GC()
		var stats runtime.MemStats
		runtime.ReadMemStats(&stats)
		baseline, peak := stats.HeapInuse, stats.HeapInuse
		down.serve(counting)
		start := time.Now()
		count := func() int { mu.Lock(); defer mu.Unlock(); return len(delivered) }
		for count() < backlog || len(spoolFiles(b, folder)) > 0 {
			runtime.ReadMemStats(&stats)
			peak = max(peak, stats.HeapInuse)
			if time.Since(start) > 30*time.Minute {
				b.Fatal("not drained in 30 minutes")
			}
			time.Sleep(20 * time.Millisecond)
		}
		elapsed := time.Since(start)
		b.ReportMetric(elapsed.Seconds(), "drain_s")
		b.ReportMetric(float64(backlog)/elapsed.Seconds(), "items/s")
		b.ReportMetric(float64(peak-baseline)/(1<<20), "heap_growth_MiB")
		counting.Close()
		for key, n := range delivered {
			if n != 1 {
				b.Errorf("%s delivered %d times", key, n)
			}
		}
		if len(delivered) != backlog {
			b.Fatalf("upstream got %d callbacks for a backlog of %d", len(delivered), backlog)
		}
	}
}
