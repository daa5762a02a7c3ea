package caddymodule_test

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"

	"github.com/zegoedge/caddy-zego-callback/verify"
)

// site is one site of a test's Caddyfile: a route that verifies callbacks
// with zego_callback and delivers them through its deliver block. Every
// test that runs Caddy builds its sites with it.
type site struct {
	port    int    // default: httpPort
	path    string // the route's path; default: /zego/compose
	secret  string // zego_callback's argument; default: {env.ZEGO_TEST_SECRET}
	options string // lines of zego_callback's block, besides deliver
	// deliver is the deliver block's body; default: reverse_proxy to
	// upstream, with proxy as its block.
	deliver  string
	upstream string
	proxy    string
	before   string // the route's directives before zego_callback
	extra    string // more of the site, after the route
	// https serves the site over HTTPS on port, with a certificate from
	// Caddy's local CA (tls internal).
	https bool
	// noErrors leaves out the handle_errors that answers a rejection with
	// its reason code.
	noErrors bool
}

func (s site) caddyfile() string {
	port := cmp.Or(s.port, httpPort)
	deliver := s.deliver
	if deliver == "" {
		deliver = "reverse_proxy " + s.upstream
		if s.proxy != "" {
			deliver += " {\n" + s.proxy + "\n}"
		}
	}
	scheme, extra := "http", s.extra
	if s.https {
		scheme, extra = "https", "tls internal\n"+extra
	}
	errors := "\thandle_errors {\n\t\trespond \"{http.zego.error}\"\n\t}\n"
	if s.noErrors {
		errors = ""
	}
	return fmt.Sprintf(`
%s://localhost:%d {
	route %s {
		%s
		zego_callback %s {
			%s
			deliver {
				%s
			}
		}
	}
	%s
%s}
`, scheme, port, cmp.Or(s.path, "/zego/compose"), s.before, cmp.Or(s.secret, "{env.ZEGO_TEST_SECRET}"), s.options, deliver, extra, errors)
}

// startSites loads sites into the in-process Caddy, with
// {env.ZEGO_TEST_SECRET} holding secret.
func startSites(t testing.TB, secret, globalOptions string, sites ...site) *caddytest.Tester {
	t.Helper()
	var b strings.Builder
	for _, s := range sites {
		b.WriteString(s.caddyfile())
	}
	return loadCaddy(t, secret, globalOptions, b.String())
}

// signed is a test callback, signed with secret when body is called; zero
// fields take the defaults of a compose callback of app 1234567890 signed
// now. It is the one way tests build a signed body.
type signed struct {
	secret    string
	appID     uint32
	event     string // default: compose
	taskID    string
	timestamp time.Time
	// fields are the event's own fields, as JSON values; default for
	// compose: replay_url.
	fields map[string]string
	nonce  string // default: unique
}

// body is the callback's JSON body. Sign itself is checked against ZEGO's
// worked example in the verify package.
func (c signed) body() string {
	unix := strconv.FormatInt(cmp.Or(c.timestamp, time.Now()).Unix(), 10)
	nonce := cmp.Or(c.nonce, uniqueNonce("n"))
	event := cmp.Or(c.event, "compose")
	var b strings.Builder
	fmt.Fprintf(&b, `{"appid":"%d","event":"%s"`, cmp.Or(c.appID, 1234567890), event)
	if c.taskID != "" {
		fmt.Fprintf(&b, `,"task_id":"%s"`, c.taskID)
	}
	fields := c.fields
	if fields == nil && event == "compose" {
		fields = map[string]string{"replay_url": `"https://example.com/a.mp4"`, "code": `"0"`}
	}
	for name, value := range fields {
		fmt.Fprintf(&b, `,"%s":%s`, name, value)
	}
	fmt.Fprintf(&b, `,"timestamp":"%s","nonce":"%s","signature":"%s"}`, unix, nonce, verify.Sign(c.secret, unix, nonce))
	return b.String()
}
