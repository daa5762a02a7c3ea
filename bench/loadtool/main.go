// Command loadtool supports bench/load.sh and bench/drain.sh: a counting
// upstream, a file of distinct, validly signed compose callbacks for wrk to
// rotate through, an upstream that counts Idempotency-Key values and can be
// switched from failing to accepting, and a poster for a file of callbacks.
//
//	loadtool upstream -addr 127.0.0.1:18090
//	loadtool bodies -n 500000 -secret-env ZEGO_CALLBACK_SECRET -out bodies.txt
//	loadtool keys-upstream -addr 127.0.0.1:18190 -control 127.0.0.1:18191 -status 503
//	loadtool post -url http://127.0.0.1:18180/zego/compose -bodies bodies.txt -concurrency 8
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zegoedge/caddy-zego-callback/verify"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: loadtool upstream|bodies|keys-upstream|post [flags]")
	}
	switch os.Args[1] {
	case "upstream":
		upstream(os.Args[2:])
	case "bodies":
		bodies(os.Args[2:])
	case "keys-upstream":
		keysUpstream(os.Args[2:])
	case "post":
		post(os.Args[2:])
	default:
		log.Fatalf("unknown subcommand %q", os.Args[1])
	}
}

// upstream answers every POST 200 and counts it; GET /count reports the
// count.
func upstream(args []string) {
	flags := flag.NewFlagSet("upstream", flag.ExitOnError)
	addr := flags.String("addr", "127.0.0.1:18090", "listen address (loopback only)")
	_ = flags.Parse(args)
	var count atomic.Int64
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/count" {
			fmt.Fprintln(w, count.Load())
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		count.Add(1)
		w.WriteHeader(http.StatusOK)
	})
	server := &http.Server{Addr: *addr, Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(server.ListenAndServe())
}

// bodies writes n distinct compose callbacks, one per line, signed now.
func bodies(args []string) {
	flags := flag.NewFlagSet("bodies", flag.ExitOnError)
	n := flags.Int("n", 500_000, "how many callbacks")
	secretEnv := flags.String("secret-env", "ZEGO_CALLBACK_SECRET", "environment variable holding the secret")
	out := flags.String("out", "bodies.txt", "output file")
	_ = flags.Parse(args)
	secret := os.Getenv(*secretEnv)
	if secret == "" {
		log.Fatalf("%s is empty", *secretEnv)
	}
	file, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriterSize(file, 1<<20)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	// Runs signed in the same second must not share a nonce: that would be
	// the same signature on another task, a replay.
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	for i := range *n {
		nonce := run + "_" + strconv.Itoa(i)
		fmt.Fprintf(w, `{"appid":"1234567890","event":"compose","replay_url":"https://vod.example.com/43b7b075vodtranscq1500030200/93172bfa1397757897438985100/dt6.mp4","task_id":"1400341231-EditMedia-%s-%d","file_id":"1397757897438985100","code":"0","message":"SUCCESS","timestamp":"%s","nonce":"%s","signature":"%s"}`+"\n",
			run, i, ts, nonce, verify.Sign(secret, ts, nonce))
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := file.Close(); err != nil {
		log.Fatal(err)
	}
}

// loopbackOnly refuses a listen address that is not on a loopback IP.
func loopbackOnly(addr string) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		log.Fatalf("listen address %q: %v", addr, err)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		log.Fatalf("listen address %q is not a loopback IP", addr)
	}
}

// idempotencyKey is the form of the Idempotency-Key header zego_callback
// sends: 32 hex digits.
var idempotencyKey = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)

// keysUpstream is a backend for bench/drain.sh. On -addr it answers every
// request with the current status (-status at start) and counts it by its
// Idempotency-Key: while the status is not 2xx as refused, otherwise as
// accepted. On -control:
//
//	PUT /status with the body 200    answer 200 from now on (any status 200-599)
//	GET /stats                       one line of name=value counts
//
// The stats line: requests, refused, refused_distinct (keys refused at
// least once), accepted, distinct (keys accepted at least once),
// duplicated (keys accepted more than once), bad_key (requests without a
// well-formed key), first_ms and last_ms (from the last status change to
// the first and the latest first acceptance of a key; -1 when none).
func keysUpstream(args []string) {
	flags := flag.NewFlagSet("keys-upstream", flag.ExitOnError)
	addr := flags.String("addr", "127.0.0.1:18190", "listen address for the callbacks (loopback only)")
	control := flags.String("control", "127.0.0.1:18191", "listen address for /status and /stats (loopback only)")
	initial := flags.Int("status", http.StatusServiceUnavailable, "status to answer until changed")
	_ = flags.Parse(args)
	loopbackOnly(*addr)
	loopbackOnly(*control)
	if *initial < 200 || *initial > 599 {
		log.Fatalf("-status %d is not in 200-599", *initial)
	}

	var (
		mu       sync.Mutex
		status   = *initial
		changed  = time.Now()
		requests int
		refused  int
		accepted int
		badKey   int
		// Per key: how many times refused and accepted.
		refusedBy  = map[string]int{}
		acceptedBy = map[string]int{}
		duplicated int
		first      time.Time
		last       time.Time
	)
	callbacks := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		key := strings.ToLower(r.Header.Get("Idempotency-Key"))
		mu.Lock()
		requests++
		code := status
		if !idempotencyKey.MatchString(key) {
			badKey++
		} else if code >= 200 && code < 300 {
			accepted++
			acceptedBy[key]++
			switch acceptedBy[key] {
			case 1:
				last = time.Now()
				if first.IsZero() {
					first = last
				}
			case 2:
				duplicated++
			}
		} else {
			refused++
			refusedBy[key]++
		}
		mu.Unlock()
		w.WriteHeader(code)
	})
	sinceChange := func(t time.Time) int64 {
		if t.IsZero() {
			return -1
		}
		return t.Sub(changed).Milliseconds()
	}
	admin := http.NewServeMux()
	admin.HandleFunc("PUT /status", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 16))
		code, err := strconv.Atoi(string(bytes.TrimSpace(body)))
		if err != nil || code < 200 || code > 599 {
			http.Error(w, "the body must be a status, 200-599", http.StatusBadRequest)
			return
		}
		mu.Lock()
		status, changed, first, last = code, time.Now(), time.Time{}, time.Time{}
		mu.Unlock()
		fmt.Fprintln(w, code)
	})
	admin.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "status=%d requests=%d refused=%d refused_distinct=%d accepted=%d distinct=%d duplicated=%d bad_key=%d first_ms=%d last_ms=%d\n",
			status, requests, refused, len(refusedBy), accepted, len(acceptedBy), duplicated, badKey, sinceChange(first), sinceChange(last))
	})
	errs := make(chan error, 2)
	go func() {
		server := &http.Server{Addr: *control, Handler: admin, ReadHeaderTimeout: 5 * time.Second}
		errs <- server.ListenAndServe()
	}()
	go func() {
		server := &http.Server{Addr: *addr, Handler: callbacks, ReadHeaderTimeout: 5 * time.Second}
		errs <- server.ListenAndServe()
	}()
	log.Fatal(<-errs)
}

// post sends every line of -bodies once as a POST to -url, -concurrency at
// a time, and prints one line: the count of each status (as
// status_202=N), of answers with X-Zego-Spooled: 1 (spooled=N), of
// requests that got no answer (errors=N), and the seconds it took.
func post(args []string) {
	flags := flag.NewFlagSet("post", flag.ExitOnError)
	url := flags.String("url", "http://127.0.0.1:18180/zego/compose", "where to post (loopback only)")
	file := flags.String("bodies", "bodies.txt", "the callbacks, one per line")
	concurrency := flags.Int("concurrency", 8, "requests in flight")
	timeout := flags.Duration("timeout", 30*time.Second, "per request")
	_ = flags.Parse(args)
	if !strings.HasPrefix(*url, "http://127.0.0.1:") && !strings.HasPrefix(*url, "http://[::1]:") {
		log.Fatalf("-url %q is not on loopback", *url)
	}
	data, err := os.ReadFile(*file)
	if err != nil {
		log.Fatal(err)
	}
	var lines [][]byte
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		if len(line) > 0 {
			lines = append(lines, line)
		}
	}
	client := &http.Client{
		Timeout:   *timeout,
		Transport: &http.Transport{MaxIdleConnsPerHost: *concurrency, DisableCompression: true},
	}
	var (
		mu       sync.Mutex
		statuses = map[int]int{}
		spooled  int
		failures int
		next     atomic.Int64
		wg       sync.WaitGroup
	)
	start := time.Now()
	for range max(*concurrency, 1) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(lines) {
					return
				}
				resp, err := client.Post(*url, "application/json", bytes.NewReader(lines[i]))
				if err != nil {
					mu.Lock()
					failures++
					mu.Unlock()
					log.Printf("post %d: %v", i, err)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				mu.Lock()
				statuses[resp.StatusCode]++
				if resp.Header.Get("X-Zego-Spooled") == "1" {
					spooled++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	codes := make([]int, 0, len(statuses))
	for code := range statuses {
		codes = append(codes, code)
	}
	sort.Ints(codes)
	var out strings.Builder
	for _, code := range codes {
		fmt.Fprintf(&out, "status_%d=%d ", code, statuses[code])
	}
	fmt.Fprintf(&out, "spooled=%d errors=%d seconds=%.3f", spooled, failures, time.Since(start).Seconds())
	fmt.Println(out.String())
}
