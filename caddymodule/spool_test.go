package caddymodule_test

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"
)

// downUpstream is an upstream that closes every connection unanswered
// until start is called, as a backend mid-deploy does. It holds its port
// throughout, so no other process can take it meanwhile.
type downUpstream struct {
	addr     string
	listener net.Listener
	refusing chan struct{} // closed when start takes the listener over
	stopped  chan struct{}
	up       *upstream
}

func newDownUpstream(t testing.TB) *downUpstream {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &downUpstream{addr: listener.Addr().String(), refusing: make(chan struct{}), stopped: make(chan struct{})}
	d.listener = &handoverListener{Listener: listener, refusing: d.refusing}
	go func() {
		defer close(d.stopped)
		for {
			conn, err := d.listener.Accept()
			if err != nil {
				return // handed over to start, or closed
			}
			conn.Close()
		}
	}()
	t.Cleanup(func() {
		select {
		case <-d.refusing:
		default:
			listener.Close()
		}
	})
	return d
}

// handoverListener stops the refusing loop's Accept once refusing is
// closed, without closing the socket.
type handoverListener struct {
	net.Listener
	refusing chan struct{}
}

func (l *handoverListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	select {
	case <-l.refusing:
		if err == nil {
			conn.Close() // one last refused connection; the caller retries
		}
		return nil, net.ErrClosed
	default:
	}
	return conn, err
}

// start brings the backend up: a recording upstream on the same port.
func (d *downUpstream) start(t testing.TB) *upstream {
	t.Helper()
	d.up = newUnstartedUpstream(t)
	d.serve(d.up.Server)
	return d.up
}

// serve starts server on the held port.
func (d *downUpstream) serve(server *httptest.Server) {
	close(d.refusing)
	// Wake the refusing loop's Accept with one connection of our own.
	if conn, err := net.Dial("tcp", d.addr); err == nil {
		conn.Close()
	}
	<-d.stopped
	server.Listener.Close()
	server.Listener = d.listener.(*handoverListener).Listener
	server.Start()
}

// spoolSiteWith spools what upstreamAddr does not accept, on spoolBlock's
// schedule, with proxy timeouts short enough for a test to see a slow or
// absent backend fail.
func spoolSiteWith(upstreamAddr, spoolBlock string) site {
	return site{
		options:  "app_id 1234567890\nspool {\n" + spoolBlock + "\n}",
		upstream: upstreamAddr,
		proxy:    "transport http {\n\tdial_timeout 300ms\n\tresponse_header_timeout 400ms\n}",
	}
}

// startSpoolCaddy loads spoolSiteWith with Caddy's storage in folder.
func startSpoolCaddy(t testing.TB, folder, upstreamAddr, spoolBlock string) *caddytest.Tester {
	t.Helper()
	return startSites(t, dedupeSecret, "storage file_system "+folder, spoolSiteWith(upstreamAddr, spoolBlock))
}

// idempotencyKey is the Idempotency-Key of a compose callback, computed
// here with crypto/sha256 from its documented definition (the first 16
// bytes of SHA-256 over app, event and task joined by NUL), not by the code
// under test.
func idempotencyKey(appID uint32, taskID string) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%d\x00compose\x00%s", appID, taskID)))
	return hex.EncodeToString(sum[:16])
}

func spoolFiles(t testing.TB, folder string) []string {
	t.Helper()
	// Items only: file_system writes each through a temporary file
	// beside it, named by digits alone.
	files, err := filepath.Glob(filepath.Join(folder, "zego_callback", "spool", "*-*"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, what)
		}
	}
}

// byKey counts what the upstream got by Idempotency-Key.
func byKey(requests []receivedRequest) map[string]int {
	counts := map[string]int{}
	for _, r := range requests {
		counts[r.header.Get("Idempotency-Key")]++
	}
	return counts
}

func TestSpoolOutage(t *testing.T) {
	folder := storageFolder(t)
	down := newDownUpstream(t)
	tester := startSpoolCaddy(t, folder, down.addr, "retry 200ms\nmax_age 30s")

	// The upstream is down for longer than several retry periods: every
	// callback is answered 202 once stored, and ZEGO stops retrying.
	tasks := make([]string, 5)
	bodies := make([]string, len(tasks))
	for i := range tasks {
		tasks[i] = newTaskID()
		bodies[i] = signed{secret: dedupeSecret, taskID: tasks[i]}.body()
		resp, err := tester.Client.Post(fmt.Sprintf("http://localhost:%d/zego/compose", httpPort), "application/json", strings.NewReader(bodies[i]))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted || resp.Header.Get("X-Zego-Spooled") != "1" || resp.ContentLength > 0 {
			t.Fatalf("answer %d, X-Zego-Spooled %q, %d bytes; want 202, 1, empty", resp.StatusCode, resp.Header.Get("X-Zego-Spooled"), resp.ContentLength)
		}
	}
	if n := len(spoolFiles(t, folder)); n != len(tasks) {
		t.Fatalf("%d items in the spool folder, want %d", n, len(tasks))
	}
	// ZEGO's retry of a callback the edge owns already is 202 too, and
	// stores nothing new.
	if got := send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: tasks[0]}.body()); got.status != http.StatusAccepted {
		t.Fatalf("retry of a spooled callback: %d %q", got.status, got.body)
	}
	time.Sleep(time.Second) // five redelivery attempts fail meanwhile

	up := down.start(t)
	waitFor(t, 10*time.Second, "the backlog was not delivered", func() bool { return len(spoolFiles(t, folder)) == 0 })
	time.Sleep(500 * time.Millisecond) // a second delivery would show by now
	counts := byKey(up.received())
	for _, task := range tasks {
		if n := counts[idempotencyKey(1234567890, task)]; n != 1 {
			t.Errorf("task %s delivered %d times, want once", task, n)
		}
	}
	if len(up.received()) != len(tasks) {
		t.Errorf("upstream got %d requests for %d callbacks", len(up.received()), len(tasks))
	}
	for _, r := range up.received() {
		if !strings.HasPrefix(string(r.body), `{"event":"compose","app_id":1234567890,"task_id":"`+r.header.Get("X-Zego-Task-Id")+`","success":true`) ||
			r.header.Get("Content-Type") != "application/json" || r.header.Get("X-Zego-Event") != "compose" {
			t.Errorf("redelivered %v %s", r.header, r.body)
		}
	}
	// Later ZEGO retries are duplicates.
	wantAnswer(t, send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: tasks[1]}.body()), 200, "", "1")
	series := scrapeMetrics(t)
	wantSeries(t, series, map[string]float64{
		`caddy_zego_callback_spooled_total`:                                float64(len(tasks)),
		`caddy_zego_callback_spool_redeliveries_total{result="forwarded"}`: float64(len(tasks)),
		`caddy_zego_callback_spool_waiting`:                                0,
		// and ZEGO's retry of a callback already spooled
		`caddy_zego_callback_requests_total{app_id="1234567890",event="compose",outcome="spooled",product="rtc"}`: float64(len(tasks) + 1),
	})
	if series[`caddy_zego_callback_spool_redeliveries_total{result="failed"}`] == 0 {
		t.Error("no redelivery failed while the upstream was down")
	}
}

// TestSpoolAndLateRetry: ZEGO's own retry (its 202 lost, say) reaches a
// recovered upstream before the worker does; that delivery takes the item
// out of the spool, so the worker never delivers it a second time, even
// after the delivery record expires.
func TestSpoolAndLateRetry(t *testing.T) {
	folder := storageFolder(t)
	down := newDownUpstream(t)
	tester := startSpoolCaddy(t, folder, down.addr, "retry 2s\nmax_age 30s")
	task := newTaskID()
	if got := send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body()); got.status != http.StatusAccepted {
		t.Fatalf("%d %q", got.status, got.body)
	}
	up := down.start(t)
	wantAnswer(t, send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body()), 200, "upstream answered 200", "")
	waitFor(t, 10*time.Second, "the item stayed in the spool", func() bool { return len(spoolFiles(t, folder)) == 0 })
	if n := len(up.received()); n != 1 {
		t.Fatalf("upstream got %d requests, want 1", n)
	}
	time.Sleep(2500 * time.Millisecond) // past the item's next attempt
	if n := len(up.received()); n != 1 {
		t.Fatalf("upstream got %d requests, want 1", n)
	}
	wantSeries(t, scrapeMetrics(t), map[string]float64{
		`caddy_zego_callback_spool_redeliveries_total{result="forwarded"}`: 0,
		`caddy_zego_callback_spool_redeliveries_total{result="duplicate"}`: 0,
	})
}

// TestSpoolWriteFailure: when the spool cannot store the callback, ZEGO gets
// the upstream's failure unchanged and retries.
func TestSpoolWriteFailure(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-folder")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	up := newUpstream(t)
	up.setStatus(http.StatusServiceUnavailable)
	tester := startSpoolCaddy(t, filepath.Join(file, "storage"), up.Listener.Addr().String(), "retry 200ms")
	got := send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: newTaskID()}.body())
	if got.status != http.StatusServiceUnavailable || got.body != "upstream answered 503" {
		t.Fatalf("got %d %q, want the upstream's 503", got.status, got.body)
	}
}

// TestSpoolDeadLetterAndRevival: past max_age an item is kept as a dead
// letter; retried (as the CLI does), it is delivered.
func TestSpoolDeadLetterAndRevival(t *testing.T) {
	folder := storageFolder(t)
	down := newDownUpstream(t)
	tester := startSpoolCaddy(t, folder, down.addr, "retry 200ms\nmax_age 1s")
	task := newTaskID()
	if got := send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body()); got.status != http.StatusAccepted {
		t.Fatalf("%d %q", got.status, got.body)
	}
	waitFor(t, 10*time.Second, "no dead letter", func() bool {
		return scrapeMetrics(t)[`caddy_zego_callback_spool_dead_letters_total`] == 1
	})
	up := down.start(t)
	time.Sleep(time.Second)
	if n := len(up.received()); n != 0 || len(spoolFiles(t, folder)) != 1 {
		t.Fatalf("a dead letter was redelivered (%d) or removed", n)
	}
	out, err := runCLI(t, "", "spool", "retry", "--config", writeStorageConfig(t, folder), "--adapter", "caddyfile", spoolName(t, folder))
	if err != nil {
		t.Fatalf("spool retry: %v\n%s", err, out)
	}
	waitFor(t, 10*time.Second, "the revived item was not delivered", func() bool { return len(up.received()) == 1 })
	waitFor(t, 10*time.Second, "the item stayed in the spool", func() bool { return len(spoolFiles(t, folder)) == 0 })
}

// TestSpoolSkipsCorruptItems: an unreadable item is logged and skipped; the
// rest are delivered.
func TestSpoolSkipsCorruptItems(t *testing.T) {
	folder := storageFolder(t)
	down := newDownUpstream(t)
	tester := startSpoolCaddy(t, folder, down.addr, "retry 200ms\nmax_age 30s")
	if err := os.MkdirAll(filepath.Join(folder, "zego_callback", "spool"), 0o700); err != nil {
		t.Fatal(err)
	}
	corrupt := filepath.Join(folder, "zego_callback", "spool", strings.Repeat("0", 32)+"-"+strings.Repeat("f", 32))
	if err := os.WriteFile(corrupt, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	task := newTaskID()
	if got := send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body()); got.status != http.StatusAccepted {
		t.Fatalf("%d %q", got.status, got.body)
	}
	up := down.start(t)
	waitFor(t, 10*time.Second, "the good item was not delivered", func() bool { return len(up.received()) == 1 })
	if _, err := os.Stat(corrupt); err != nil {
		t.Fatalf("the corrupt item was removed: %v", err)
	}
}

// TestSpoolSurvivesReload: items waiting when the config is reloaded are
// delivered by the new config's worker.
func TestSpoolSurvivesReload(t *testing.T) {
	folder := storageFolder(t)
	down := newDownUpstream(t)
	tester := startSpoolCaddy(t, folder, down.addr, "retry 200ms\nmax_age 30s")
	task := newTaskID()
	if got := send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body()); got.status != http.StatusAccepted {
		t.Fatalf("%d %q", got.status, got.body)
	}
	startSpoolCaddy(t, folder, down.addr, "retry 300ms\nmax_age 30s") // a changed config: a real reload
	up := down.start(t)
	waitFor(t, 10*time.Second, "not delivered after the reload", func() bool { return len(up.received()) == 1 })
	waitFor(t, 10*time.Second, "the item stayed in the spool", func() bool { return len(spoolFiles(t, folder)) == 0 })
}

// TestSpoolLateUpstreamAnswer documents the one duplicate the spool cannot
// prevent: the upstream accepts a callback after the proxy has given up on
// it, so the edge spools it and redelivers it. The backend then sees it
// twice with the same Idempotency-Key, which it must use; never a third time.
func TestSpoolLateUpstreamAnswer(t *testing.T) {
	folder := storageFolder(t)
	up := newUpstream(t)
	up.setDelay(800 * time.Millisecond) // past response_header_timeout 400ms
	tester := startSpoolCaddy(t, folder, up.Listener.Addr().String(), "retry 1s\nmax_age 30s")
	task := newTaskID()
	if got := send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body()); got.status != http.StatusAccepted {
		t.Fatalf("%d %q, want 202 after the proxy's timeout", got.status, got.body)
	}
	up.setDelay(0)
	waitFor(t, 10*time.Second, "not redelivered", func() bool { return len(spoolFiles(t, folder)) == 0 })
	time.Sleep(1500 * time.Millisecond)
	counts := byKey(up.received())
	if len(counts) != 1 || counts[idempotencyKey(1234567890, task)] != 2 {
		t.Fatalf("upstream got %v, want the one key twice", counts)
	}
}

// storageFolder is a temporary folder for Caddy's file_system storage. The
// in-process Caddy keeps running the test's config after the test and may
// still write there (its storage cleaning, the spool worker), so the
// folder is removed with a retry rather than by t.TempDir, which fails the
// test when a file appears during its removal.
func storageFolder(t testing.TB) string {
	t.Helper()
	folder, err := os.MkdirTemp("", "zego-spool-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for range 5 {
			if os.RemoveAll(folder) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	return folder
}

// spoolName is the name of the one item in the spool folder, as
// 'spool list' shows it.
func spoolName(t *testing.T, folder string) string {
	t.Helper()
	files := spoolFiles(t, folder)
	if len(files) != 1 {
		t.Fatalf("%d items in the spool, want 1", len(files))
	}
	return filepath.Base(files[0])
}

// writeStorageConfig writes a Caddyfile naming the file_system storage in
// folder, for the CLI's --config.
func writeStorageConfig(t *testing.T, folder string) string {
	t.Helper()
	config := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(config, []byte("{\n\tstorage file_system "+folder+"\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return config
}

// TestSpoolCLI: list, show and drop on a spooled callback, as an operator
// would run them against the running Caddy's storage.
func TestSpoolCLI(t *testing.T) {
	folder := storageFolder(t)
	down := newDownUpstream(t)
	tester := startSpoolCaddy(t, folder, down.addr, "retry 1h\nmax_age 2h")
	task := newTaskID()
	if got := send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: task}.body()); got.status != http.StatusAccepted {
		t.Fatalf("%d %q", got.status, got.body)
	}
	config := writeStorageConfig(t, folder)
	id := spoolName(t, folder)
	if !strings.HasPrefix(id, idempotencyKey(1234567890, task)+"-") {
		t.Fatalf("the item's name %q does not start with its Idempotency-Key", id)
	}
	out, err := runCLI(t, "", "spool", "list", "--config", config, "--adapter", "caddyfile")
	if err != nil || !strings.Contains(out, "waiting") || !strings.Contains(out, task) {
		t.Fatalf("list: %v\n%s", err, out)
	}
	out, err = runCLI(t, "", "spool", "show", "--config", config, "--adapter", "caddyfile", id)
	if err != nil || !strings.Contains(out, `"id": "`+idempotencyKey(1234567890, task)+`"`) || !strings.Contains(out, `"task_id": "`+task+`"`) || !strings.Contains(out, `"document"`) {
		t.Fatalf("show: %v\n%s", err, out)
	}
	if strings.Contains(out, dedupeSecret) || strings.Contains(out, "signature") {
		t.Fatalf("show prints a secret or a signature:\n%s", out)
	}
	if out, err = runCLI(t, "n\n", "spool", "drop", "--config", config, "--adapter", "caddyfile", id); err == nil || len(spoolFiles(t, folder)) != 1 {
		t.Fatalf("drop answered no: %v, %d items left\n%s", err, len(spoolFiles(t, folder)), out)
	}
	if out, err = runCLI(t, "", "spool", "drop", "--config", config, "--adapter", "caddyfile", "--yes", "../../"+filepath.Base(folder)); err == nil || !strings.Contains(err.Error(), "not a spool item's name") {
		t.Fatalf("drop with a path: %v\n%s", err, out)
	}
	if out, err = runCLI(t, "", "spool", "drop", "--config", config, "--adapter", "caddyfile", "--yes", id); err != nil || len(spoolFiles(t, folder)) != 0 {
		t.Fatalf("drop --yes: %v, %d items left\n%s", err, len(spoolFiles(t, folder)), out)
	}
}

// TestSpoolOnHTTPSSite: on an HTTPS site (tls internal here, as a real
// domain has its certificate), ZEGO's callback is spooled and redelivered:
// the worker calls the deliver chain itself, never the site's server.
func TestSpoolOnHTTPSSite(t *testing.T) {
	folder := storageFolder(t)
	down := newDownUpstream(t)
	startSites(t, dedupeSecret, fmt.Sprintf("skip_install_trust\n\thttps_port %d\n\tstorage file_system %s", secondHTTPPort, folder),
		site{port: secondHTTPPort, https: true, options: "spool {\n\tretry 200ms\n}", upstream: down.addr})
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: 10 * time.Second} // the site's own certificate: only the spool is under test
	task := newTaskID()
	var status int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) { // the certificate is issued in the background
		resp, err := client.Post(fmt.Sprintf("https://localhost:%d/zego/compose", secondHTTPPort), "application/json", strings.NewReader(signed{secret: dedupeSecret, taskID: task}.body()))
		if err == nil {
			resp.Body.Close()
			status = resp.StatusCode
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
	}
	if status != http.StatusAccepted {
		t.Fatalf("status %d, want 202", status)
	}
	up := down.start(t)
	waitFor(t, 10*time.Second, "not redelivered from the HTTPS site", func() bool { return len(up.received()) == 1 })
	waitFor(t, 10*time.Second, "the item stayed in the spool", func() bool { return len(spoolFiles(t, folder)) == 0 })
}

// TestSpoolKeepsSecretsApart: a staging-signed callback for prod's app and
// task, spooled through staging, neither blocks nor stands in for prod's
// genuine one, which is spooled on its own and reaches prod's backend.
func TestSpoolKeepsSecretsApart(t *testing.T) {
	folder := storageFolder(t)
	prodDown, stagingDown := newDownUpstream(t), newDownUpstream(t)
	tester := startSites(t, "", "storage file_system "+folder, prodAndStaging(prodDown.addr, stagingDown.addr, "spool {\n\tretry 200ms\n}")...)
	task, now := newTaskID(), time.Now()
	if got := send(t, tester, secondHTTPPort, signed{secret: stagingSecret, appID: prodApp, taskID: task, timestamp: now}.body()); got.status != http.StatusAccepted {
		t.Fatalf("staging: %d %q", got.status, got.body)
	}
	if got := send(t, tester, httpPort, signed{secret: prodSecret, appID: prodApp, taskID: task, timestamp: now}.body()); got.status != http.StatusAccepted {
		t.Fatalf("prod: %d %q", got.status, got.body)
	}
	if n := len(spoolFiles(t, folder)); n != 2 {
		t.Fatalf("%d items in the spool, want one per secret", n)
	}
	prod := prodDown.start(t)
	waitFor(t, 10*time.Second, "prod's callback did not reach prod's backend", func() bool { return len(prod.received()) == 1 })
	if got := prod.received()[0].header.Get("Idempotency-Key"); got != idempotencyKey(prodApp, task) {
		t.Fatalf("prod's backend got %s", got)
	}
}

// TestSpoolBehindARewrite: a redelivery does not go through the site's
// matchers again, so a callback whose route matched on the query (which
// the handler drops) and stripped a path prefix is still redelivered, on
// the URI its first attempt had at the deliver chain: the rewritten path,
// without the query.
func TestSpoolBehindARewrite(t *testing.T) {
	folder := storageFolder(t)
	down := newDownUpstream(t)
	tester := startSites(t, dedupeSecret, "storage file_system "+folder, site{
		path:     "@tenant",
		before:   "uri strip_prefix /zego",
		options:  "spool {\n\tretry 200ms\n}",
		upstream: down.addr,
		extra:    "@tenant {\n\tpath /zego/*\n\tquery tenant=a\n}",
	})
	url := fmt.Sprintf("http://localhost:%d/zego/compose?tenant=a", httpPort)
	if got := postRetrying(t, tester.Client, url, signed{secret: dedupeSecret, taskID: newTaskID()}.body()); got.status != http.StatusAccepted {
		t.Fatalf("%d %q", got.status, got.body)
	}
	up := down.start(t)
	waitFor(t, 10*time.Second, "not redelivered", func() bool { return len(up.received()) == 1 })
	// A first attempt the backend accepts shows the URI ZEGO's callbacks
	// reach it on.
	wantAnswer(t, postRetrying(t, tester.Client, url, signed{secret: dedupeSecret, taskID: newTaskID()}.body()), 200, "upstream answered 200", "")
	got := up.received()
	if len(got) != 2 || got[0].uri != "/compose" || got[1].uri != "/compose" {
		t.Fatalf("the backend got %d requests; the redelivery's URI %q, the first attempt's %q; want /compose for both", len(got), got[0].uri, got[len(got)-1].uri)
	}
}

// TestSpoolRedeliveryIsTheFirstAttempt: the redelivery carries the same
// document, byte for byte (a signed URL's & included), and the same
// placeholders as the first attempt did.
func TestSpoolRedeliveryIsTheFirstAttempt(t *testing.T) {
	folder := storageFolder(t)
	down := newDownUpstream(t)
	tester := startSites(t, dedupeSecret, "storage file_system "+folder,
		site{options: "spool {\n\tretry 200ms\n}", upstream: down.addr, proxy: "header_up X-Code {http.zego.code}"})
	now := time.Now()
	nonce := uniqueNonce("8")
	task := newTaskID()
	body := signed{secret: dedupeSecret, taskID: task, timestamp: now, nonce: nonce, fields: map[string]string{
		"replay_url": `"https://cdn.example.com/a.mp4?sign=ab&t=1"`, "code": `"40000"`, "message": `"bad input"`,
	}}.body()
	if got := send(t, tester, httpPort, body); got.status != http.StatusAccepted {
		t.Fatalf("%d %q", got.status, got.body)
	}
	up := down.start(t)
	waitFor(t, 10*time.Second, "not redelivered", func() bool { return len(up.received()) == 1 })
	got := up.received()[0]
	want := `{"event":"compose","app_id":1234567890,"task_id":"` + task + `","success":false,"code":40000,"message":"bad input","replay_url":"https://cdn.example.com/a.mp4?sign=ab&t=1","file_id":"","timestamp":` +
		strconv.FormatInt(now.Unix(), 10) + `,"sent_at":"` + time.Unix(now.Unix(), 0).UTC().Format(time.RFC3339) + `","nonce":"` + nonce + `","extra":{}}`
	if string(got.body) != want {
		t.Errorf("redelivered\n%s\nwant\n%s", got.body, want)
	}
	if got.header.Get("X-Code") != "40000" {
		t.Errorf("X-Code %q, want the first attempt's 40000", got.header.Get("X-Code"))
	}
}

// TestSpoolGaugesCountDeadLetters: between full reads of the spool, a dead
// letter is still counted as dead, never as waiting.
func TestSpoolGaugesCountDeadLetters(t *testing.T) {
	folder := storageFolder(t)
	down := newDownUpstream(t)
	tester := startSpoolCaddy(t, folder, down.addr, "retry 100ms\nmax_age 300ms")
	if got := send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: newTaskID()}.body()); got.status != http.StatusAccepted {
		t.Fatalf("%d %q", got.status, got.body)
	}
	waitFor(t, 10*time.Second, "no dead letter", func() bool {
		return scrapeMetrics(t)[`caddy_zego_callback_spool_dead_letters_total`] == 1
	})
	time.Sleep(300 * time.Millisecond) // a pass after the one that gave up
	for range 10 {
		series := scrapeMetrics(t)
		if series[`caddy_zego_callback_spool_dead`] != 1 || series[`caddy_zego_callback_spool_waiting`] != 0 {
			t.Fatalf("dead %v, waiting %v; want 1 and 0", series[`caddy_zego_callback_spool_dead`], series[`caddy_zego_callback_spool_waiting`])
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSpoolRefusedByAnotherSecret: an item verified with one secret is
// redelivered only through a handler that holds that secret; after a reload
// swapped the secret, none does, so it is not forwarded and stays in the
// spool.
func TestSpoolRefusedByAnotherSecret(t *testing.T) {
	folder := storageFolder(t)
	down := newDownUpstream(t)
	withSecret := func(secret, upstream string) site {
		return site{secret: secret, options: "spool {\n\tretry 100ms\n}", upstream: upstream}
	}
	tester := startSites(t, "", "storage file_system "+folder, withSecret(stagingSecret, down.addr))
	if got := send(t, tester, httpPort, signed{secret: stagingSecret, appID: prodApp, taskID: newTaskID()}.body()); got.status != http.StatusAccepted {
		t.Fatalf("%d %q", got.status, got.body)
	}
	up := newUpstream(t)
	startSites(t, "", "storage file_system "+folder, withSecret(prodSecret, up.URL))
	time.Sleep(time.Second) // ten retry periods
	if n := len(up.received()); n != 0 {
		t.Fatalf("another secret's handler forwarded the item (%d requests)", n)
	}
	if n := len(spoolFiles(t, folder)); n != 1 {
		t.Fatalf("%d items in the spool, want the refused one: %v", n, spoolFiles(t, folder))
	}
}

// TestSpoolAbortedFailure: an upstream that answers 503 and breaks off
// mid-body makes reverse_proxy abort; the failure was held back, so the
// spooled callback is answered 202, not with a reset.
func TestSpoolAbortedFailure(t *testing.T) {
	folder := storageFolder(t)
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		fmt.Fprint(buf, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100\r\n\r\npartial")
		buf.Flush()
		conn.Close()
	}))
	t.Cleanup(broken.Close)
	tester := startSpoolCaddy(t, folder, broken.Listener.Addr().String(), "retry 1h")
	// Not send: its retry of a reset would find the item and get 202 anyway.
	resp, err := tester.Client.Post(fmt.Sprintf("http://localhost:%d/zego/compose", httpPort), "application/json",
		strings.NewReader(signed{secret: dedupeSecret, taskID: newTaskID()}.body()))
	if err != nil {
		t.Fatalf("ZEGO got no answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("%d, want 202", resp.StatusCode)
	}
	if n := len(spoolFiles(t, folder)); n != 1 {
		t.Fatalf("%d items in the spool, want 1", n)
	}
}
