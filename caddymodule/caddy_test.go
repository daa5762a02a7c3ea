package caddymodule_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddytest"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/caddyserver/certmagic"

	"github.com/zegoedge/caddy-zego-callback/caddymodule"
	"github.com/zegoedge/caddy-zego-callback/verify/verifytest"
)

// The in-process Caddy's ports, free when the test binary starts: Caddy
// lets two processes bind one port, so fixed ports would let two runs of
// the suite on one machine share listeners.
var adminPort, httpPort, secondHTTPPort int

func TestMain(m *testing.M) {
	if os.Getenv(runAsCaddy) == "1" {
		// startCaddyProcess's child: this binary is a whole Caddy with the
		// module built in, as ./caddy is.
		caddycmd.Main()
		return
	}
	dir, err := os.MkdirTemp("", "zego-callback-caddytest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Caddy computes its folders from these when the program starts, before
	// TestMain: setting the variables is for the processes tests start, and
	// the two paths below are where this process would write.
	os.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	os.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	caddy.ConfigAutosavePath = filepath.Join(dir, "config", "caddy", "autosave.json")
	caddy.DefaultStorage = &certmagic.FileStorage{Path: filepath.Join(dir, "data", "caddy")}
	ports, err := freePorts(3)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	adminPort, httpPort, secondHTTPPort = ports[0], ports[1], ports[2]
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freePorts asks the kernel for n distinct loopback ports that are free now.
func freePorts(n int) ([]int, error) {
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close() // held until all n are chosen, so they differ
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

// upstream is a real HTTP backend that records every request it gets.
type upstream struct {
	*httptest.Server
	mu       sync.Mutex
	requests []receivedRequest
	status   int
	delay    time.Duration
	// failFirst answers this many requests 503 before using status.
	failFirst int
}

type receivedRequest struct {
	uri    string // the request URI, query included
	header http.Header
	body   []byte
}

func newUpstream(t testing.TB) *upstream {
	u := newUnstartedUpstream(t)
	u.Start()
	return u
}

func newUnstartedUpstream(t testing.TB) *upstream {
	u := &upstream{status: http.StatusOK}
	u.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.requests = append(u.requests, receivedRequest{r.URL.RequestURI(), r.Header.Clone(), body})
		status, delay := u.status, u.delay
		if u.failFirst > 0 {
			u.failFirst--
			status = http.StatusServiceUnavailable
		}
		u.mu.Unlock()
		time.Sleep(delay)
		w.Header().Set("X-Upstream", "yes")
		w.WriteHeader(status)
		fmt.Fprintf(w, "upstream answered %d", status)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) received() []receivedRequest {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]receivedRequest(nil), u.requests...)
}

func (u *upstream) setDelay(delay time.Duration) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.delay = delay
}

func (u *upstream) setStatus(status int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.status = status
}

// loadCaddy loads the global options every test shares, then sites, into
// the in-process Caddy; {env.ZEGO_TEST_SECRET} holds secret.
func loadCaddy(t testing.TB, secret, extraGlobalOptions, sites string) *caddytest.Tester {
	t.Helper()
	t.Setenv("ZEGO_TEST_SECRET", secret)
	tester := caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{AdminPort: adminPort})
	// Each plain-HTTP port gets a site that names this load, so that the
	// wait below knows the new config's server from the previous one's.
	load := strconv.FormatInt(configLoads.Add(1), 10)
	var markers []int
	for _, port := range []int{httpPort, secondHTTPPort} {
		if strings.Contains(sites, fmt.Sprintf("http://localhost:%d", port)) {
			markers = append(markers, port)
			sites += fmt.Sprintf("\nhttp://%s:%d {\n\trespond %q\n}\n", configMarkerHost, port, load)
		}
	}
	lastLoad = globalOptions(extraGlobalOptions) + sites
	tester.InitServer(lastLoad, "caddyfile")
	for _, port := range markers {
		waitForNewServer(port, load)
	}
	return tester
}

// configLoads numbers loadCaddy's loads; configMarkerHost is the host of
// the site that answers with that number. lastLoad is the Caddyfile
// loadCaddy loaded last, for a test that loads it again.
var (
	configLoads atomic.Int64
	lastLoad    string
)

const configMarkerHost = "config-load.zego-test"

// globalOptions is the global options block loadCaddy starts every
// Caddyfile with: the in-process Caddy's admin and HTTP ports, loopback
// only, nothing saved; then extra.
func globalOptions(extra string) string {
	return fmt.Sprintf(`
{
	admin localhost:%d
	http_port %d
	default_bind 127.0.0.1
	persist_config off
	%s
}
`, adminPort, httpPort, extra)
}

// waitForNewServer waits, up to two seconds, until three fresh connections
// in a row to port are answered by the server of load: just after a config
// load, the previous server may still accept one on the shared socket and
// close it unanswered, answer it with its own config (another secret: a
// test would read the 401 as the handler's doing), or, if it served HTTPS
// there, answer that the request is not TLS.
func waitForNewServer(port int, load string) {
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second}
	answered := 0
	for deadline := time.Now().Add(2 * time.Second); answered < 3 && time.Now().Before(deadline); {
		req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/", port), nil)
		if err != nil {
			panic(err)
		}
		req.Host = configMarkerHost
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != load {
				err = errors.New("the previous config's server answered")
			}
		}
		if err != nil {
			answered = 0
			time.Sleep(10 * time.Millisecond)
			continue
		}
		answered++
	}
}

// vectorSite verifies the public vectors and proxies them to up, on the
// vectors' clock (for the rest of the test) and with their max_age. Dedupe
// is off: several vectors share a task ID, and each must be forwarded as a
// first delivery.
func vectorSite(t testing.TB, v *verifytest.Set, up *upstream) site {
	t.Cleanup(caddymodule.SetClock(v.NowTime))
	return site{
		options:  fmt.Sprintf("app_id 1234567890\nmax_age %ds\ndedupe off", int(v.MaxAge().Seconds())),
		upstream: up.URL,
	}
}

func post(t *testing.T, tester *caddytest.Tester, tc *verifytest.Case) (*http.Response, string) {
	t.Helper()
	resp, body := doRetrying(t, tester.Client, func() (*http.Request, error) {
		req, err := http.NewRequest(tc.Method, fmt.Sprintf("http://localhost:%d/zego/compose", httpPort), strings.NewReader(tc.Body))
		if err == nil {
			req.Header.Set("Content-Type", tc.ContentType)
			if tc.Name == "gzip_encoding" {
				req.Header.Set("Content-Encoding", "gzip")
			}
		}
		return req, err
	})
	return resp, string(body)
}

// TestCaddyPublicVectors sends every public vector through a real Caddy
// whose deliver block proxies to a real upstream, on the vectors' clock:
// stale_timestamp and future_timestamp fall outside max_age as they do in
// the verify package.
func TestCaddyPublicVectors(t *testing.T) {
	v := verifytest.Load(t)
	up := newUpstream(t)
	tester := startSites(t, v.Secret, "", vectorSite(t, v, up))

	forwarded := 0
	for _, tc := range v.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			before := len(up.received())
			resp, body := post(t, tester, &tc)
			if resp.StatusCode != tc.Expect.Status {
				t.Fatalf("status = %d (%q), want %d", resp.StatusCode, body, tc.Expect.Status)
			}
			got := up.received()
			if tc.Expect.Reason != "ok" {
				if body != tc.Expect.Reason {
					t.Errorf("body = %q, want the reason code %q", body, tc.Expect.Reason)
				}
				if len(got) != before {
					t.Fatal("a rejected callback reached the upstream")
				}
				return
			}
			forwarded++
			if body != "upstream answered 200" || resp.Header.Get("X-Upstream") != "yes" {
				t.Errorf("the upstream's answer did not come back unchanged: %q", body)
			}
			if len(got) != before+1 {
				t.Fatalf("upstream got %d requests, want 1", len(got)-before)
			}
			var want bytes.Buffer
			if err := json.Compact(&want, tc.Expect.Normalized); err != nil {
				t.Fatal(err)
			}
			last := got[len(got)-1]
			if !bytes.Equal(last.body, want.Bytes()) {
				t.Fatalf("upstream got\n%s\nwant\n%s", last.body, want.Bytes())
			}
			if last.header.Get("Content-Type") != "application/json" || last.header.Get("X-Zego-Event") != "compose" ||
				last.header.Get("X-Zego-App-Id") != "1234567890" || len(last.header.Get("Idempotency-Key")) != 32 {
				t.Errorf("upstream headers: %v", last.header)
			}
		})
	}
	if total := len(up.received()); total != forwarded || forwarded < 8 {
		t.Fatalf("upstream saw %d requests for %d accepted vectors", total, forwarded)
	}
}

// TestCaddyUpstreamFailureReachesZEGO: with the spool off, a 5xx from the
// backend, held back by the handler, must reach ZEGO as the backend wrote
// it, so that ZEGO retries.
func TestCaddyUpstreamFailureReachesZEGO(t *testing.T) {
	v := verifytest.Load(t)
	up := newUpstream(t)
	up.setStatus(http.StatusServiceUnavailable)
	tester := startSites(t, v.Secret, "", vectorSite(t, v, up))
	resp, body := post(t, tester, &v.Cases[0])
	if resp.StatusCode != http.StatusServiceUnavailable || body != "upstream answered 503" || resp.Header.Get("X-Upstream") != "yes" {
		t.Fatalf("got %d %q, want the upstream's 503", resp.StatusCode, body)
	}
	if n := len(up.received()); n != 1 {
		t.Fatalf("upstream got %d requests", n)
	}
}

// TestSuiteWritesNothingInHome runs a Caddy test in a child process whose
// HOME is an empty folder and whose XDG variables are unset, as on a
// developer's machine, and fails if anything was written there (Caddy's
// autosave.json, its data folder).
func TestSuiteWritesNothingInHome(t *testing.T) {
	home := t.TempDir()
	self, err := os.Executable() // not os.Args[0]: caddytest rewrites os.Args
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run", "^TestCaddyPublicVectors$", "-test.count", "1")
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "TMPDIR=" + os.TempDir()}
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("PASS")) {
		t.Fatalf("the child test failed: %v\n%s", err, out)
	}
	err = filepath.WalkDir(home, func(path string, d fs.DirEntry, err error) error {
		if err == nil && path != home {
			t.Errorf("the tests wrote %s", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestLoadWithoutDeliverFails: a zego_callback without a deliver block (the
// form before it, reverse_proxy after zego_callback in the route), with an
// empty one, or in JSON without "deliver", fails to load as caddy run and
// caddy reload would, with an error that says a deliver block is needed;
// the running config keeps serving.
func TestLoadWithoutDeliverFails(t *testing.T) {
	up := newUpstream(t)
	tester := startSites(t, dedupeSecret, "", site{upstream: up.URL})
	jsonConfig := func(handler string) string {
		return fmt.Sprintf(`{"admin":{"listen":"localhost:%d"},"apps":{"http":{"servers":{"edge":{"listen":["127.0.0.1:%d"],"routes":[{"handle":[%s]}]}}}}}`,
			adminPort, httpPort, handler)
	}
	for _, tc := range []struct{ name, contentType, config string }{
		{"reverse_proxy after zego_callback in the route", "text/caddyfile", globalOptions("") + fmt.Sprintf(`
http://localhost:%d {
	route /zego/compose {
		zego_callback {env.ZEGO_TEST_SECRET} {
			app_id 1234567890
		}
		reverse_proxy %s
	}
}
`, httpPort, up.URL)},
		{"an empty deliver block", "text/caddyfile", globalOptions("") + fmt.Sprintf(`
http://localhost:%d {
	route /zego/compose {
		zego_callback {env.ZEGO_TEST_SECRET} {
			deliver {
			}
		}
	}
}
`, httpPort)},
		{"JSON without deliver", "application/json", jsonConfig(`{"handler":"zego_callback","secrets":["s"]}`)},
		{"JSON with a deliver of no routes", "application/json", jsonConfig(`{"handler":"zego_callback","secrets":["s"],"deliver":{"routes":[]}}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := postConfig(t, tc.contentType, tc.config, true)
			if status == http.StatusOK {
				t.Fatal("the config loaded")
			}
			if !strings.Contains(body, "zego_callback needs a deliver block") {
				t.Fatalf("/load answered %d without naming deliver: %s", status, body)
			}
			wantAnswer(t, send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: newTaskID()}.body()), 200, "upstream answered 200", "")
		})
	}
}
