package caddymodule_test

import (
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// faultSite proxies callbacks to upstreamAddr with short proxy timeouts,
// so that a slow backend shows as 504.
func faultSite(upstreamAddr string) site {
	return site{
		upstream: upstreamAddr,
		proxy:    "transport http {\n\tdial_timeout 500ms\n\tresponse_header_timeout 300ms\n}",
	}
}

// TestUpstreamFaults: a delivery that fails at the backend is answered with
// an error, so ZEGO retries, and is never marked delivered.
func TestUpstreamFaults(t *testing.T) {
	t.Run("refused, then the backend recovers", func(t *testing.T) {
		// A port that nothing listens on, until the backend starts there.
		probe, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := probe.Addr().String()
		probe.Close()
		tester := startSites(t, dedupeSecret, "", faultSite(addr))
		task := newTaskID()
		if got := send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body()); got.status != http.StatusBadGateway {
			t.Fatalf("refused upstream: %d %q, want 502", got.status, got.body)
		}
		listener, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("another process took the port meanwhile; run again: %v", err)
		}
		up := newUnstartedUpstream(t)
		up.Listener.Close()
		up.Listener = listener
		up.Start()
		wantAnswer(t, send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body()), 200, "upstream answered 200", "")
		wantAnswer(t, send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body()), 200, "", "1")
		if n := len(up.received()); n != 1 {
			t.Fatalf("upstream got %d requests, want 1", n)
		}
	})

	t.Run("slower than the proxy's timeout", func(t *testing.T) {
		up := newUpstream(t)
		tester := startSites(t, dedupeSecret, "", faultSite(up.Listener.Addr().String()))
		task := newTaskID()
		up.setDelay(time.Second)
		if got := send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body()); got.status != http.StatusGatewayTimeout {
			t.Fatalf("slow upstream: %d %q, want 504", got.status, got.body)
		}
		up.setDelay(0)
		wantAnswer(t, send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body()), 200, "upstream answered 200", "")
		wantAnswer(t, send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body()), 200, "", "1")
	})

	t.Run("connection reset mid-response", func(t *testing.T) {
		var resets atomic.Int32
		up := newUnstartedUpstream(t)
		up.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if resets.Add(1) == 1 {
				conn, buf, _ := w.(http.Hijacker).Hijack()
				buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
				buf.Flush()
				conn.(*net.TCPConn).SetLinger(0) // RST, not FIN
				conn.Close()
				return
			}
			w.WriteHeader(http.StatusOK)
		})
		up.Start()
		tester := startSites(t, dedupeSecret, "", faultSite(up.Listener.Addr().String()))
		task := newTaskID()
		// The upstream's 200 status line counts as the delivery; ZEGO sees a
		// broken response (or none, if Caddy aborts before flushing it, and
		// then send's retry of the same body is a duplicate).
		send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body())
		// ZEGO's retry is a duplicate: the backend accepted the callback.
		wantAnswer(t, send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body()), 200, "", "1")
		if n := resets.Load(); n != 1 {
			t.Fatalf("the upstream was called %d times, want once", n)
		}
	})
}

// TestSoak sends N distinct valid callbacks twice each, shuffled, at
// concurrency C, retrying in_flight answers as ZEGO would. The upstream
// must see each exactly once. CI runs N=5000, C=32; by hand, set
// ZEGO_SOAK_N=100000 ZEGO_SOAK_C=128.
func TestSoak(t *testing.T) {
	n, c := envInt(t, "ZEGO_SOAK_N", 5000), envInt(t, "ZEGO_SOAK_C", 32)
	up := newUpstream(t)
	tester := startSites(t, dedupeSecret, "", site{options: "dedupe_max " + strconv.Itoa(4*n+1000), upstream: up.URL})
	tester.Client.Transport.(*http.Transport).MaxIdleConnsPerHost = c

	bodies := make([]string, n)
	tasks := make([]string, n)
	for i := range bodies {
		tasks[i] = newTaskID()
		bodies[i] = signed{secret: dedupeSecret, taskID: tasks[i]}.body()
	}
	order := make([]int, 0, 2*n)
	for i := range n {
		order = append(order, i, i)
	}
	rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })

	// Warm the connection pools up to the concurrency first: their
	// goroutines are Caddy's and the test client's, not a leak.
	var warm sync.WaitGroup
	for range c {
		warm.Go(func() { send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: newTaskID()}.body()) })
	}
	warm.Wait()
	warmForwarded := len(up.received())
	runtime.GC()
	goroutinesBefore := runtime.NumGoroutine()
	start := time.Now()
	var next atomic.Int64
	var inFlightRetries, failures atomic.Int64
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for {
				k := int(next.Add(1)) - 1
				if k >= len(order) {
					return
				}
				for attempt := 0; ; attempt++ {
					got := send(t, tester, httpPort, bodies[order[k]])
					if got.status == http.StatusConflict && attempt < 50 {
						inFlightRetries.Add(1)
						time.Sleep(5 * time.Millisecond)
						continue
					}
					if got.status != 200 {
						failures.Add(1)
					}
					break
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	received := up.received()[warmForwarded:]
	seen := make(map[string]int, n)
	for _, r := range received {
		seen[r.header.Get("X-Zego-Task-Id")]++
	}
	for _, task := range tasks {
		if seen[task] != 1 {
			t.Fatalf("task %s forwarded %d times", task, seen[task])
		}
	}
	if len(received) != n || failures.Load() != 0 {
		t.Fatalf("forwarded %d of %d, %d failures", len(received), n, failures.Load())
	}

	// A leak grows with the number of requests (2N here); keep-alive pools
	// (client to Caddy, Caddy to upstream: a few goroutines a connection)
	// grow only with the concurrency, so they get an allowance of 6 per
	// concurrent client.
	allowance := 6 * c
	var goroutinesAfter int
	for range 50 { // idle connections wind down asynchronously
		runtime.GC()
		if goroutinesAfter = runtime.NumGoroutine(); goroutinesAfter <= goroutinesBefore+allowance {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if goroutinesAfter > goroutinesBefore+allowance {
		t.Fatalf("goroutines: %d before, %d after %d requests (allowance %d)", goroutinesBefore, goroutinesAfter, 2*n, allowance)
	}
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	const heapBound = 512 << 20
	if mem.HeapAlloc > heapBound {
		t.Fatalf("heap %d MiB after the soak", mem.HeapAlloc>>20)
	}
	t.Logf("soak: %d callbacks ×2 at concurrency %d in %s (%.0f requests/s), %d in_flight retries, heap %d MiB, goroutines %d→%d",
		n, c, elapsed.Round(time.Millisecond), float64(2*n)/elapsed.Seconds(), inFlightRetries.Load(), mem.HeapAlloc>>20, goroutinesBefore, goroutinesAfter)
}

func envInt(t *testing.T, name string, fallback int) int {
	value := os.Getenv(name)
	if value == "" {
		return fallback
	}
	n, err := strconv.Atoi(value)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q is not a positive number", name, value)
	}
	return n
}
