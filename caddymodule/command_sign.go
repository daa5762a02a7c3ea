package caddymodule

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	"github.com/zegoedge/caddy-zego-callback/verify"
)

// cmdSign prints a signed callback.
func (s streams) cmdSign(fl caddycmd.Flags) (int, error) {
	fields, err := callbackFlagsFrom(fl)
	if err != nil {
		return 1, err
	}
	body, _, err := fields.encode()
	if err != nil {
		return 1, err
	}
	_, err = fmt.Fprintln(s.out, body)
	return 0, err
}

// zegoRetryDelays is ZEGO's schedule: each delay follows a failed attempt.
var zegoRetryDelays = []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second}

// callbackFlags is a callback to sign, as given on the command line.
type callbackFlags struct {
	secret, format, product                          string
	appID                                            uint32
	event, taskID, replayURL, fileID, message, nonce string
	code, timestamp                                  int64
	taskIDGiven, nonceGiven, timestampGiven          bool
	// fields are the event's own, for events other than compose: ZEGO's
	// example with --field and --task-id applied.
	fields []verify.Field
}

func callbackFlagsFrom(flags caddycmd.Flags) (*callbackFlags, error) {
	f := &callbackFlags{}
	secret, _ := flags.GetString("secret")
	secretEnv, _ := flags.GetString("secret-env")
	var err error
	if f.secret, err = oneSecret(secret, secretEnv); err != nil {
		return nil, err
	}
	f.appID, _ = flags.GetUint32("app-id")
	f.product, _ = flags.GetString("product")
	if err := verify.CheckProduct(f.product); err != nil {
		return nil, fmt.Errorf("--product: %w", err)
	}
	f.event, _ = flags.GetString("event")
	if f.product != verify.DefaultProduct && f.event == verify.DefaultEvent {
		return nil, fmt.Errorf("--event is required for --product %s: one of %s", f.product, strings.Join(verify.Events(f.product), ", "))
	}
	f.taskID, _ = flags.GetString("task-id")
	f.code, _ = flags.GetInt64("code")
	f.replayURL, _ = flags.GetString("replay-url")
	f.fileID, _ = flags.GetString("file-id")
	f.message, _ = flags.GetString("message")
	f.timestamp, _ = flags.GetInt64("timestamp")
	f.nonce, _ = flags.GetString("nonce")
	f.format, _ = flags.GetString("format")
	switch f.format {
	case "json", "form", "encoded-json":
	default:
		return nil, fmt.Errorf("--format must be json, form or encoded-json, not %q", f.format)
	}
	f.taskIDGiven, f.nonceGiven, f.timestampGiven = f.taskID != "", f.nonce != "", f.timestamp != 0
	overrides, _ := flags.GetStringArray("field")
	if f.product == verify.DefaultProduct && f.event == verify.DefaultEvent {
		if len(overrides) > 0 {
			return nil, errors.New("--field is for events other than compose; compose has its own flags (--task-id, --code, --replay-url, ...)")
		}
		return f, nil
	}
	example, ok := verify.ExampleFields(f.product, f.event)
	if !ok {
		return nil, fmt.Errorf("--event must be one of %s's: %s", f.product, strings.Join(verify.Events(f.product), ", "))
	}
	envelope, _ := verify.EventEnvelope(f.product, f.event)
	f.fields = example
	set := func(name, value string) {
		for i := range f.fields {
			if f.fields[i].Name == name {
				f.fields[i].Value = value
				return
			}
		}
		f.fields = append(f.fields, verify.Field{Name: name, Value: value}) // forwarded under extra
	}
	if f.taskIDGiven {
		set("task_id", f.taskID)
	}
	for _, override := range overrides {
		name, value, found := strings.Cut(override, "=")
		if !found || name == "" {
			return nil, errors.New("--field takes NAME=VALUE, e.g. --field stream_id=cam1")
		}
		switch name {
		case envelope.AppID, envelope.Event, envelope.Timestamp, envelope.Nonce, envelope.Signature:
			return nil, fmt.Errorf("--field cannot set %s; use --app-id, --event, --timestamp or --nonce", name)
		}
		set(name, value)
	}
	return f, nil
}

// oneSecret takes the secret from exactly one of --secret and --secret-env.
func oneSecret(secret, secretEnv string) (string, error) {
	switch {
	case secret != "" && secretEnv != "":
		return "", errors.New("give --secret or --secret-env, not both")
	case secret != "":
		return secret, nil
	case secretEnv != "":
		value := os.Getenv(secretEnv)
		if value == "" {
			return "", fmt.Errorf("environment variable %s (from --secret-env) is empty or unset", secretEnv)
		}
		return value, nil
	}
	return "", errors.New("a secret is required: --secret-env NAME (recommended) or --secret VALUE")
}

// fresh fills in what was not given: a new task, nonce and time for each
// callback sent.
func (f *callbackFlags) fresh() (*callbackFlags, error) {
	c := *f
	if !c.taskIDGiven {
		random := make([]byte, 8)
		if _, err := rand.Read(random); err != nil {
			return nil, err
		}
		c.taskID = "cli-" + hex.EncodeToString(random)
	}
	if !c.nonceGiven {
		n, err := rand.Int(rand.Reader, big.NewInt(1e18))
		if err != nil {
			return nil, err
		}
		c.nonce = n.String()
	}
	if !c.timestampGiven {
		c.timestamp = time.Now().Unix()
	}
	return &c, nil
}

// encode signs the callback and writes it in the chosen wire shape.
func (f *callbackFlags) encode() (body, contentType string, err error) {
	c, err := f.fresh()
	if err != nil {
		return "", "", err
	}
	envelope, _ := verify.EventEnvelope(c.product, c.event)
	unix := c.timestamp
	if envelope.Milliseconds {
		unix *= 1000
	}
	timestamp := strconv.FormatInt(unix, 10)
	// raw: written into a JSON body as the JSON it is (a number, an object
	// or an array), as ZEGO sends the other products' callbacks; RTC's
	// values go as strings, as its examples show them.
	type keyValue struct {
		key, value string
		raw        bool
	}
	shaped := c.product != verify.DefaultProduct
	event := keyValue{envelope.Event, c.event, false}
	if code, numeric := verify.EventCode(c.product, c.event); numeric {
		event = keyValue{envelope.Event, strconv.FormatUint(uint64(code), 10), true}
	}
	values := []keyValue{
		{envelope.AppID, strconv.FormatUint(uint64(c.appID), 10), shaped && c.product != "zim"},
		event,
	}
	if c.product == verify.DefaultProduct && c.event == verify.DefaultEvent {
		values = append(values, []keyValue{
			{"replay_url", c.replayURL, false},
			{"task_id", c.taskID, false},
			{"file_id", c.fileID, false},
			{"code", strconv.FormatInt(c.code, 10), false},
			{"message", c.message, false},
		}...)
	} else {
		for _, field := range c.fields {
			values = append(values, keyValue{field.Name, field.Value, shaped && json.Valid([]byte(field.Value)) && strings.IndexAny(field.Value[:1], "{[0123456789") == 0})
		}
	}
	values = append(values, []keyValue{
		{envelope.Timestamp, timestamp, shaped},
		{envelope.Nonce, c.nonce, false},
		{envelope.Signature, verify.Sign(c.secret, timestamp, c.nonce), false},
	}...)
	if c.format == "form" {
		var b strings.Builder
		for _, kv := range values {
			if kv.key == "file_id" && kv.value == "" {
				continue
			}
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(kv.key) + "=" + url.QueryEscape(kv.value))
		}
		return b.String(), "application/x-www-form-urlencoded", nil
	}
	// ZEGO's field order, all string values, as in its documented example.
	// The handler URL-decodes a JSON value holding a %XX escape, as ZEGO's
	// values are URL-encoded: encode any value with a '%' so it arrives
	// as given (with %20, not '+', for spaces).
	var b strings.Builder
	b.WriteByte('{')
	for _, kv := range values {
		if kv.key == "file_id" && kv.value == "" {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		key, _ := json.Marshal(kv.key)
		b.Write(key)
		b.WriteByte(':')
		if kv.raw {
			b.WriteString(kv.value)
			continue
		}
		text := kv.value
		if c.format == "json" && strings.Contains(text, "%") {
			text = strings.ReplaceAll(url.QueryEscape(text), "+", "%20")
		}
		value, _ := json.Marshal(text)
		b.Write(value)
	}
	b.WriteByte('}')
	if c.format == "encoded-json" {
		return url.QueryEscape(b.String()), "application/json", nil
	}
	return b.String(), "application/json", nil
}

// cmdSend signs callbacks and POSTs them as ZEGO would.
func (s streams) cmdSend(flags caddycmd.Flags) (int, error) {
	f, err := callbackFlagsFrom(flags)
	if err != nil {
		return 1, err
	}
	target, _ := flags.GetString("url")
	retries, _ := flags.GetInt("retries")
	noWait, _ := flags.GetBool("no-wait")
	repeat, _ := flags.GetInt("repeat")
	timeout, _ := flags.GetDuration("timeout")
	caCert, _ := flags.GetString("cacert")
	if target == "" {
		return 1, errors.New("--url is required")
	}
	if u, err := url.Parse(target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return 1, fmt.Errorf("--url must be an http or https URL, not %q", target)
	}
	if retries < 0 || retries > len(zegoRetryDelays) {
		return 1, fmt.Errorf("--retries must be between 0 and %d", len(zegoRetryDelays))
	}
	if repeat < 1 {
		return 1, errors.New("--repeat must be at least 1")
	}
	if repeat > 1 && f.event != verify.DefaultEvent {
		return 1, errors.New("--repeat makes distinct callbacks with fresh task IDs, which only compose has; for other events, send distinct --field values one run at a time")
	}
	if repeat > 1 && (f.taskIDGiven || f.nonceGiven || f.timestampGiven) {
		// A fixed task is a duplicate after the first; a fixed nonce and
		// timestamp repeat the signature, which is a replay.
		return 1, errors.New("--repeat sends distinct callbacks: drop --task-id, --nonce and --timestamp")
	}
	out := s.out
	client := &http.Client{Timeout: timeout}
	if caCert != "" {
		transport, err := trustingTransport(caCert)
		if err != nil {
			return 1, err
		}
		client.Transport = transport
	}
	failed := 0
	for i := 1; i <= repeat; i++ {
		body, contentType, err := f.encode()
		if err != nil {
			return 1, err
		}
		// With --repeat, attempts are summarized rather than listed.
		verbose := repeat == 1
		final, ok := sendWithRetries(client, out, target, body, contentType, retries, noWait, verbose)
		if !ok {
			failed++
		}
		if verbose {
			fmt.Fprintln(out, final)
		} else if i%max(1, repeat/10) == 0 || i == repeat {
			fmt.Fprintf(out, "sent %d/%d callbacks, %d failed\n", i, repeat, failed)
		}
	}
	if failed > 0 {
		return 1, fmt.Errorf("%d of %d callbacks failed after every attempt", failed, repeat)
	}
	return 0, nil
}

// trustingTransport is the default transport, also trusting the CA
// certificates in a PEM file besides the system's.
func trustingTransport(caFile string) (*http.Transport, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("--cacert: %w", err)
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--cacert: %s holds no PEM certificate", caFile)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: roots}
	return transport, nil
}

// sendWithRetries POSTs body until an attempt gets a 2xx or the retries
// run out; it returns the last response body and whether it succeeded.
func sendWithRetries(client *http.Client, out io.Writer, target, body, contentType string, retries int, noWait, verbose bool) (string, bool) {
	var last string
	for attempt := 0; attempt <= retries; attempt++ {
		if attempt > 0 && !noWait {
			time.Sleep(zegoRetryDelays[attempt-1])
		}
		start := time.Now()
		resp, err := client.Post(target, contentType, strings.NewReader(body))
		elapsed := time.Since(start).Round(time.Millisecond)
		if err != nil {
			last = ""
			if verbose {
				fmt.Fprintf(out, "attempt %d: error after %s: %v\n", attempt+1, elapsed, err)
			}
			continue
		}
		answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		last = string(answer)
		if verbose {
			duplicate := ""
			if resp.Header.Get("X-Zego-Duplicate") != "" {
				duplicate = " (duplicate)"
			}
			fmt.Fprintf(out, "attempt %d: %s in %s%s\n", attempt+1, resp.Status, elapsed, duplicate)
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return last, true
		}
	}
	return last, false
}
