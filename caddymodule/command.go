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
	"math"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/zegoedge/caddy-zego-callback/verify"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "zego-callback",
		Usage: "sign|send|verify|spool [flags]",
		Short: "Sign, send and verify ZEGO compose callbacks",
		Long: `Tools to try and test a zego_callback deployment without a ZEGO account.

  sign    print a correctly signed compose callback
  send    sign a callback and POST it, retrying on ZEGO's schedule
  verify  read a raw callback body and explain the verdict
  spool   list, show, retry or drop spooled callbacks

Secrets can come from an environment variable (--secret-env) so that they
stay out of shell history.`,
		CobraFunc: configureCommand,
	})
}

// DefaultCLIAppID is the AppID sign and send use unless told otherwise.
const DefaultCLIAppID = 1234567890

// zegoRetryDelays is ZEGO's schedule: each delay follows a failed attempt.
var zegoRetryDelays = []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second}

// configureCommand builds `caddy zego-callback` and its subcommands.
func configureCommand(cmd *cobra.Command) {
	cmd.AddCommand(newSignCommand(), newSendCommand(), newVerifyCommand(), newSpoolCommand())
}

func newSignCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sign",
		Short: "Print a correctly signed callback of any supported event",
		Example: `  caddy zego-callback sign --secret-env ZEGO_CALLBACK_SECRET
  caddy zego-callback sign --secret-env ZEGO_CALLBACK_SECRET --format form --code 60000 --message "source file error"
  caddy zego-callback sign --secret-env ZEGO_CALLBACK_SECRET --event stream_close --field stream_id=cam1 --field type=1`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fields, err := callbackFlagsFrom(cmd)
			if err != nil {
				return err
			}
			body, _, err := fields.encode()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), body)
			return err
		},
	}
	addCallbackFlags(cmd)
	return cmd
}

func newSendCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "send",
		Short: "Sign a compose callback and POST it, retrying on ZEGO's schedule",
		Long: `Signs a callback like sign and POSTs it to --url. On a non-2xx answer or a
connection error it retries as ZEGO does: 2 s, 4 s, 8 s, 16 s and 32 s after
the previous attempt. It prints one line per attempt, then the final
response body, and exits non-zero if every attempt failed.`,
		Example: `  caddy zego-callback send --url http://127.0.0.1:8080/zego/compose --secret-env ZEGO_CALLBACK_SECRET
  caddy zego-callback send --url https://callbacks.example.com/zego/compose --secret-env ZEGO_CALLBACK_SECRET --repeat 100 --retries 0`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE:         runSend,
	}
	addCallbackFlags(cmd)
	cmd.Flags().String("url", "", "where to POST the callback (required)")
	cmd.Flags().Int("retries", len(zegoRetryDelays), "retries after a failed attempt, at most 5")
	cmd.Flags().Bool("no-wait", false, "retry at once instead of on ZEGO's schedule (for tests)")
	cmd.Flags().Int("repeat", 1, "send this many distinct callbacks, one after another")
	cmd.Flags().Duration("timeout", 10*time.Second, "time limit for each attempt")
	cmd.Flags().String("cacert", "", "also trust the CA certificate(s) in this PEM file, e.g. Caddy's local CA root for tls internal")
	return cmd
}

func newVerifyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify [file]",
		Short: "Read a raw callback body and explain the verdict",
		Long: `Reads a raw callback body from a file, or from standard input when no file
(or "-") is given, and checks it exactly as the zego_callback handler does.

The settings come from flags (--secret, --secret-env, --app-secret,
--app-id, --events, --max-age, --max-body), or from a config file:
--config FILE [--adapter NAME] finds the zego_callback handler in it and
resolves its {env.*} and {file.*} placeholders as Caddy would (--handler N
picks one when the config has several).

On success it prints what was checked and the normalized JSON the upstream
would receive; on a rejection, one line: the reason code and why.

Exit status: 0 accepted, 2 rejected, 1 no verdict (bad flags, unreadable
body or config).`,
		Example: `  caddy zego-callback verify --secret-env ZEGO_CALLBACK_SECRET body.json
  caddy zego-callback verify --app-secret 1234567890=ZEGO_SECRET_APP1 --app-secret 2233445566=ZEGO_SECRET_APP2 body.json
  caddy zego-callback verify --config /etc/caddy/Caddyfile body.json
  caddy zego-callback sign --secret-env ZEGO_CALLBACK_SECRET | caddy zego-callback verify --secret-env ZEGO_CALLBACK_SECRET`,
		Args:         cobra.MaximumNArgs(1),
		SilenceUsage: true,
		RunE:         runVerify,
	}
	flags := cmd.Flags()
	flags.StringArray("secret", nil, "a callback secret for apps without --app-secret; repeatable (prefer --secret-env)")
	flags.StringArray("secret-env", nil, "an environment variable holding a callback secret; repeatable")
	flags.StringArray("app-secret", nil, "APPID=ENVNAME: one app's own secret, from an environment variable; repeatable")
	flags.UintSlice("app-id", nil, "allowed AppIDs, repeatable or comma-separated (default: any app, or the apps of --app-secret)")
	// pflag would add "(default [])" after the help's own default.
	flags.Lookup("app-id").DefValue = ""
	flags.StringSlice("events", []string{verify.DefaultEvent}, "allowed events")
	flags.Duration("max-age", DefaultMaxAge, "how far the timestamp may be from now")
	flags.Int64("max-body", DefaultMaxBody, "largest body accepted, in bytes")
	flags.String("config", "", "take the settings from the zego_callback handler in this Caddy config file")
	flags.String("adapter", "", "the config's adapter, as for caddy run (default: caddyfile for a file named Caddyfile*, else JSON)")
	flags.Int("handler", 0, "with --config: which zego_callback handler to use, 1 for the first (needed when there are several)")
	return cmd
}

func addCallbackFlags(cmd *cobra.Command) {
	flags := cmd.Flags()
	flags.String("secret", "", "the callback secret (prefer --secret-env)")
	flags.String("secret-env", "", "name of an environment variable holding the callback secret")
	flags.Uint32("app-id", DefaultCLIAppID, "the AppID")
	flags.String("event", verify.DefaultEvent, "the event: "+strings.Join(verify.SupportedEvents(), ", "))
	flags.StringArray("field", nil, "NAME=VALUE: one of the event's own fields, over ZEGO's documented example (events other than compose); repeatable")
	flags.String("task-id", "", "the task ID of compose, mix_start or mix_stop (default for compose: a fresh random one)")
	flags.Int64("code", 0, "ZEGO's result code: 0 success, 40000, 60000, 70000")
	flags.String("replay-url", "https://example.com/zego-callback/merged.mp4", "the merged file's URL")
	flags.String("file-id", "", "the Tencent FileId (default: none)")
	flags.String("message", "", "the message")
	flags.Int64("timestamp", 0, "unix seconds (default: now)")
	flags.String("nonce", "", "the nonce (default: random digits)")
	flags.String("format", "json", "wire shape: json, form or encoded-json")
}

// callbackFlags is a callback to sign, as given on the command line.
type callbackFlags struct {
	secret, format                                   string
	appID                                            uint32
	event, taskID, replayURL, fileID, message, nonce string
	code, timestamp                                  int64
	taskIDGiven, nonceGiven, timestampGiven          bool
	// fields are the event's own, for events other than compose: ZEGO's
	// example with --field and --task-id applied.
	fields []verify.Field
}

func callbackFlagsFrom(cmd *cobra.Command) (*callbackFlags, error) {
	flags := cmd.Flags()
	f := &callbackFlags{}
	secret, _ := flags.GetString("secret")
	secretEnv, _ := flags.GetString("secret-env")
	var err error
	if f.secret, err = oneSecret(secret, secretEnv); err != nil {
		return nil, err
	}
	f.appID, _ = flags.GetUint32("app-id")
	f.event, _ = flags.GetString("event")
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
	if f.event == verify.DefaultEvent {
		if len(overrides) > 0 {
			return nil, errors.New("--field is for events other than compose; compose has its own flags (--task-id, --code, --replay-url, ...)")
		}
		return f, nil
	}
	example, ok := verify.ExampleFields(f.event)
	if !ok {
		return nil, fmt.Errorf("--event must be one of %s", strings.Join(verify.SupportedEvents(), ", "))
	}
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
		case "appid", "event", "timestamp", "nonce", "signature":
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
	timestamp := strconv.FormatInt(c.timestamp, 10)
	type keyValue struct{ key, value string }
	values := []keyValue{
		{"appid", strconv.FormatUint(uint64(c.appID), 10)},
		{"event", c.event},
	}
	if c.event == verify.DefaultEvent {
		values = append(values, []keyValue{
			{"replay_url", c.replayURL},
			{"task_id", c.taskID},
			{"file_id", c.fileID},
			{"code", strconv.FormatInt(c.code, 10)},
			{"message", c.message},
		}...)
	} else {
		// As strings, a list as its JSON text: both shapes carry them so.
		for _, field := range c.fields {
			values = append(values, keyValue{field.Name, field.Value})
		}
	}
	values = append(values, []keyValue{
		{"timestamp", timestamp},
		{"nonce", c.nonce},
		{"signature", verify.Sign(c.secret, timestamp, c.nonce)},
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
		text := kv.value
		if c.format == "json" && strings.Contains(text, "%") {
			text = strings.ReplaceAll(url.QueryEscape(text), "+", "%20")
		}
		key, _ := json.Marshal(kv.key)
		value, _ := json.Marshal(text)
		b.Write(key)
		b.WriteByte(':')
		b.Write(value)
	}
	b.WriteByte('}')
	if c.format == "encoded-json" {
		return url.QueryEscape(b.String()), "application/json", nil
	}
	return b.String(), "application/json", nil
}

func runSend(cmd *cobra.Command, _ []string) error {
	f, err := callbackFlagsFrom(cmd)
	if err != nil {
		return err
	}
	flags := cmd.Flags()
	target, _ := flags.GetString("url")
	retries, _ := flags.GetInt("retries")
	noWait, _ := flags.GetBool("no-wait")
	repeat, _ := flags.GetInt("repeat")
	timeout, _ := flags.GetDuration("timeout")
	caCert, _ := flags.GetString("cacert")
	if target == "" {
		return errors.New("--url is required")
	}
	if u, err := url.Parse(target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--url must be an http or https URL, not %q", target)
	}
	if retries < 0 || retries > len(zegoRetryDelays) {
		return fmt.Errorf("--retries must be between 0 and %d", len(zegoRetryDelays))
	}
	if repeat < 1 {
		return errors.New("--repeat must be at least 1")
	}
	if repeat > 1 && f.event != verify.DefaultEvent {
		return errors.New("--repeat makes distinct callbacks with fresh task IDs, which only compose has; for other events, send distinct --field values one run at a time")
	}
	if repeat > 1 && (f.taskIDGiven || f.nonceGiven || f.timestampGiven) {
		// A fixed task is a duplicate after the first; a fixed nonce and
		// timestamp repeat the signature, which is a replay.
		return errors.New("--repeat sends distinct callbacks: drop --task-id, --nonce and --timestamp")
	}
	out := cmd.OutOrStdout()
	client := &http.Client{Timeout: timeout}
	if caCert != "" {
		transport, err := trustingTransport(caCert)
		if err != nil {
			return err
		}
		client.Transport = transport
	}
	failed := 0
	for i := 1; i <= repeat; i++ {
		body, contentType, err := f.encode()
		if err != nil {
			return err
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
		return fmt.Errorf("%d of %d callbacks failed after every attempt", failed, repeat)
	}
	return nil
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

// Exit statuses of verify; 1 (no verdict) is what Caddy exits with for
// any other error.
const exitRejected = 2

// reasonExplanations say in a line what a reason code means.
var reasonExplanations = map[string]string{
	"malformed_body":    "the body is not a JSON object, a URL-encoded JSON object or a form, or is not valid JSON/UTF-8",
	"missing_field":     "a required field is absent or null",
	"invalid_field":     "a field breaks its rule (see the README's field table)",
	"duplicate_field":   "a key is given twice",
	"app_not_allowed":   "the appid is not one of the allowed AppIDs",
	"event_not_allowed": "the event is not one of the allowed events",
}

func runVerify(cmd *cobra.Command, args []string) error {
	h, err := verifySettings(cmd)
	if err != nil {
		return err
	}
	opts, err := h.verifyOptions(nil)
	if err != nil {
		return err
	}
	verifier, err := verify.New(opts)
	if err != nil {
		return err
	}

	input := cmd.InOrStdin()
	if len(args) == 1 && args[0] != "-" {
		file, err := os.Open(args[0])
		if err != nil {
			return err
		}
		defer file.Close()
		input = file
	}
	body, err := io.ReadAll(io.LimitReader(input, h.MaxBody+1))
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if int64(len(body)) > h.MaxBody {
		fmt.Fprintf(out, "body_too_large: the body is larger than max-body, %d bytes\n", h.MaxBody)
		return rejected(cmd)
	}
	callback, err := verifier.Verify(body)
	if err == nil {
		fmt.Fprintln(out, "ok: signature valid for this timestamp and nonce; ZEGO does not sign the body, so task_id, replay_url, code and the other fields are as received, not proven")
		if meaning, doc, ok := verify.EventDoc(callback.Event); ok {
			fmt.Fprintf(out, "event: %s, %s (%s)\n", callback.Event, meaning, doc)
		}
		fmt.Fprintf(out, "checked: body shape and field rules, app allowed, timestamp within %s of now, event allowed (the edge's dedupe also ties each signature to one body; verify cannot check that)\n", time.Duration(h.MaxAge))
		fmt.Fprintln(out, "the upstream would receive:")
		fmt.Fprintln(out, string(callback.AppendJSON(nil)))
		return nil
	}
	fmt.Fprintln(out, explainRejection(err, &callback, h, opts))
	return rejected(cmd)
}

// rejected ends verify with exitRejected and nothing on stderr: the verdict
// is already on stdout. Caddy's Main turns the error into the exit status.
func rejected(cmd *cobra.Command) error {
	cmd.SilenceErrors = true
	return caddycmd.WrapCommandFuncForCobra(func(caddycmd.Flags) (int, error) { return exitRejected, nil })(cmd, nil)
}

// explainRejection is the one line a rejection prints: the reason code and
// why, never a secret.
func explainRejection(err error, callback *verify.Callback, h *Handler, opts verify.Options) string {
	reason := verify.ReasonOf(err)
	switch {
	case errors.Is(err, verify.ErrStaleTimestamp):
		skew := time.Now().Unix() - callback.Timestamp
		direction := "in the past"
		if skew < 0 {
			direction, skew = "in the future", -skew
		}
		return fmt.Sprintf("%s: the timestamp is %s %s, beyond max-age %s: check both clocks, or this is a replay",
			reason, describeSeconds(skew), direction, time.Duration(h.MaxAge))
	case errors.Is(err, verify.ErrBadSignature):
		which := fmt.Sprintf("the %d top-level secret(s)", len(opts.Secrets))
		if secrets, ok := opts.AppSecrets[callback.AppID]; ok {
			which = fmt.Sprintf("app %d's %d secret(s)", callback.AppID, len(secrets))
		}
		return fmt.Sprintf("%s: the signature matches none of %s: check the secret; ZEGO signs the timestamp and nonce, so changing either also fails", reason, which)
	}
	// The verify package's messages start with the reason code and add the
	// field and rule; never repeat the code.
	if detail := strings.TrimPrefix(err.Error(), reason+": "); detail != err.Error() && detail != "" {
		return reason + ": " + detail
	}
	if explanation, ok := reasonExplanations[reason]; ok {
		return reason + ": " + explanation
	}
	return reason + ": " + err.Error()
}

// describeSeconds writes a number of seconds as a duration, also beyond the
// 292 years a time.Duration holds: a 12-digit timestamp is millennia away.
func describeSeconds(seconds int64) string {
	if seconds <= int64(math.MaxInt64/time.Second) {
		return (time.Duration(seconds) * time.Second).String()
	}
	const secondsPerYear = 31556952 // the Gregorian calendar's average year
	return fmt.Sprintf("%ds (about %d years)", seconds, seconds/secondsPerYear)
}

// verifySettings builds the handler settings verify checks with: from the
// flags, or from a config file's zego_callback handler.
func verifySettings(cmd *cobra.Command) (*Handler, error) {
	flags := cmd.Flags()
	configFile, _ := flags.GetString("config")
	adapter, _ := flags.GetString("adapter")
	index, _ := flags.GetInt("handler")
	if configFile == "" {
		if adapter != "" || index != 0 {
			return nil, errors.New("--adapter and --handler go with --config")
		}
		return settingsFromFlags(cmd)
	}
	for _, name := range []string{"secret", "secret-env", "app-secret", "app-id", "events", "max-age", "max-body"} {
		if flags.Changed(name) {
			return nil, fmt.Errorf("--%s and --config do not mix: the settings come from the config", name)
		}
	}
	return settingsFromConfig(configFile, adapter, index)
}

func settingsFromFlags(cmd *cobra.Command) (*Handler, error) {
	flags := cmd.Flags()
	secrets, _ := flags.GetStringArray("secret")
	secretEnvs, _ := flags.GetStringArray("secret-env")
	appSecrets, _ := flags.GetStringArray("app-secret")
	appIDs, _ := flags.GetUintSlice("app-id")
	events, _ := flags.GetStringSlice("events")
	maxAge, _ := flags.GetDuration("max-age")
	maxBody, _ := flags.GetInt64("max-body")
	h := &Handler{Events: events, MaxAge: caddy.Duration(maxAge), MaxBody: maxBody}
	for _, name := range secretEnvs {
		value, err := secretFromEnv(name, "--secret-env")
		if err != nil {
			return nil, err
		}
		secrets = append(secrets, value)
	}
	h.Secrets = secrets
	for _, spec := range appSecrets {
		id, name, ok := strings.Cut(spec, "=")
		appID, err := strconv.ParseUint(id, 10, 32)
		if !ok || err != nil || name == "" {
			return nil, errors.New("--app-secret takes APPID=ENVNAME, e.g. --app-secret 1234567890=ZEGO_SECRET_APP1 (the value is not shown, as it could be a secret)")
		}
		value, err := secretFromEnv(name, "--app-secret")
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(h.Apps, func(app AppSecrets) bool { return app.AppID == uint32(appID) })
		if i < 0 {
			h.Apps = append(h.Apps, AppSecrets{AppID: uint32(appID)})
			i = len(h.Apps) - 1
		}
		h.Apps[i].Secrets = append(h.Apps[i].Secrets, value)
	}
	if len(h.Secrets) == 0 && len(h.Apps) == 0 {
		return nil, errors.New("a secret is required: --secret-env NAME (recommended), --secret VALUE, --app-secret APPID=ENVNAME, or --config FILE")
	}
	for _, id := range appIDs {
		if uint64(id) > uint64(^uint32(0)) {
			return nil, fmt.Errorf("--app-id %d does not fit an unsigned 32-bit integer", id)
		}
		h.AppIDs = append(h.AppIDs, uint32(id))
	}
	h.applyDefaults()
	return h, nil
}

func secretFromEnv(name, flag string) (string, error) {
	value := os.Getenv(name)
	if value == "" {
		return "", fmt.Errorf("environment variable %s (from %s) is empty or unset", name, flag)
	}
	return value, nil
}

// configuredHandler is a zego_callback handler found in a config.
type configuredHandler struct {
	settings Handler
	// where says which server and route matchers lead to it.
	where string
}

// settingsFromConfig loads the config as caddy run would (adapting it) and
// takes the settings of its zego_callback handler, with the secrets'
// placeholders resolved.
func settingsFromConfig(configFile, adapter string, index int) (*Handler, error) {
	config, _, _, err := caddycmd.LoadConfig(configFile, adapter)
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	var tree any
	decoder := json.NewDecoder(strings.NewReader(string(config)))
	decoder.UseNumber()
	if err := decoder.Decode(&tree); err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	var found []configuredHandler
	if err := findHandlers(tree, nil, &found); err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	switch {
	case len(found) == 0:
		return nil, fmt.Errorf("--config: %s has no zego_callback handler", configFile)
	case index < 0 || index > len(found):
		return nil, fmt.Errorf("--handler must be from 1 to %d:\n%s", len(found), listHandlers(found))
	case index == 0 && len(found) > 1:
		return nil, fmt.Errorf("%s has %d zego_callback handlers; pick one with --handler N:\n%s", configFile, len(found), listHandlers(found))
	case index == 0:
		index = 1
	}
	h := found[index-1].settings
	h.applyDefaults()
	// Resolve now, as a config load does; verifyOptions then takes the
	// secrets as they are.
	repl := caddy.NewReplacer()
	if h.Secrets, err = resolveSecrets(repl, h.Secrets, "secret"); err != nil {
		return nil, err
	}
	for i, app := range h.Apps {
		if h.Apps[i].Secrets, err = resolveSecrets(repl, app.Secrets, fmt.Sprintf("app %d: secret", app.AppID)); err != nil {
			return nil, err
		}
	}
	return &h, nil
}

func listHandlers(found []configuredHandler) string {
	var b strings.Builder
	for i, handler := range found {
		fmt.Fprintf(&b, "  %d: %s\n", i+1, handler.where)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// findHandlers walks an adapted config in a fixed order, collecting every
// zego_callback handler and the matchers of the routes around it.
func findHandlers(node any, matchers []string, found *[]configuredHandler) error {
	switch node := node.(type) {
	case []any:
		for _, child := range node {
			if err := findHandlers(child, matchers, found); err != nil {
				return err
			}
		}
	case map[string]any:
		if node["handler"] == "zego_callback" {
			raw, _ := json.Marshal(node)
			var h Handler
			if err := json.Unmarshal(raw, &h); err != nil {
				return fmt.Errorf("a zego_callback handler: %w", err)
			}
			where := "no matcher"
			if len(matchers) > 0 {
				where = strings.Join(matchers, " then ")
			}
			*found = append(*found, configuredHandler{settings: h, where: where})
			return nil
		}
		if match, ok := node["match"]; ok {
			raw, _ := json.Marshal(match)
			matchers = append(slices.Clip(matchers), "match "+string(raw))
		}
		keys := make([]string, 0, len(node))
		for key := range node {
			keys = append(keys, key)
		}
		slices.Sort(keys)
		for _, key := range keys {
			if key == "servers" {
				// Name the server: the first thing that tells handlers apart.
				if servers, ok := node[key].(map[string]any); ok {
					names := make([]string, 0, len(servers))
					for name := range servers {
						names = append(names, name)
					}
					slices.Sort(names)
					for _, name := range names {
						if err := findHandlers(servers[name], append(slices.Clip(matchers), "server "+name), found); err != nil {
							return err
						}
					}
					continue
				}
			}
			if err := findHandlers(node[key], matchers, found); err != nil {
				return err
			}
		}
	}
	return nil
}
