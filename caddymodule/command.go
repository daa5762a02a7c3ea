package caddymodule

import (
	"crypto/rand"
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
		Short: "Print a correctly signed compose callback",
		Example: `  caddy zego-callback sign --secret-env ZEGO_CALLBACK_SECRET
  caddy zego-callback sign --secret-env ZEGO_CALLBACK_SECRET --format form --code 60000 --message "source file error"`,
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
	return cmd
}

func newVerifyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify [file]",
		Short: "Read a raw callback body and explain the verdict",
		Long: `Reads a raw callback body from a file, or from standard input when no file
(or "-") is given, checks it exactly as the zego_callback handler does, and
prints the reason code with a one-line explanation; on success, also the
normalized JSON the upstream would receive. Exits 0 only when accepted.`,
		Example: `  caddy zego-callback verify --secret-env ZEGO_CALLBACK_SECRET body.json
  caddy zego-callback sign --secret-env ZEGO_CALLBACK_SECRET | caddy zego-callback verify --secret-env ZEGO_CALLBACK_SECRET`,
		Args:         cobra.MaximumNArgs(1),
		SilenceUsage: true,
		RunE:         runVerify,
	}
	cmd.Flags().StringArray("secret", nil, "a callback secret; repeatable")
	cmd.Flags().StringArray("secret-env", nil, "an environment variable holding a callback secret; repeatable")
	cmd.Flags().UintSlice("app-id", nil, "allowed AppIDs (default: any)")
	cmd.Flags().StringSlice("events", []string{verify.DefaultEvent}, "allowed events")
	cmd.Flags().Duration("max-age", DefaultMaxAge, "how far the timestamp may be from now")
	cmd.Flags().Int64("max-body", DefaultMaxBody, "largest body accepted, in bytes")
	return cmd
}

func addCallbackFlags(cmd *cobra.Command) {
	flags := cmd.Flags()
	flags.String("secret", "", "the callback secret (prefer --secret-env)")
	flags.String("secret-env", "", "name of an environment variable holding the callback secret")
	flags.Uint32("app-id", DefaultCLIAppID, "the AppID")
	flags.String("event", verify.DefaultEvent, "the event")
	flags.String("task-id", "", "the task ID (default: a fresh random one)")
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
	values := []struct{ key, value string }{
		{"appid", strconv.FormatUint(uint64(c.appID), 10)},
		{"event", c.event},
		{"replay_url", c.replayURL},
		{"task_id", c.taskID},
		{"file_id", c.fileID},
		{"code", strconv.FormatInt(c.code, 10)},
		{"message", c.message},
		{"timestamp", timestamp},
		{"nonce", c.nonce},
		{"signature", verify.Sign(c.secret, timestamp, c.nonce)},
	}
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
	if repeat > 1 && (f.taskIDGiven || f.nonceGiven || f.timestampGiven) {
		// A fixed task is a duplicate after the first; a fixed nonce and
		// timestamp repeat the signature, which is a replay.
		return errors.New("--repeat sends distinct callbacks: drop --task-id, --nonce and --timestamp")
	}
	out := cmd.OutOrStdout()
	client := &http.Client{Timeout: timeout}
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

// reasonExplanations say in a line what a reason code means.
var reasonExplanations = map[string]string{
	"malformed_body":    "the body is not a JSON object, a URL-encoded JSON object or a form, or is not valid JSON/UTF-8",
	"missing_field":     "a required field is absent or null",
	"invalid_field":     "a field breaks its rule (see the README's field table)",
	"duplicate_field":   "a key is given twice",
	"app_not_allowed":   "the appid is not in the allowed AppIDs",
	"bad_signature":     "the signature does not match the secret(s) given: check the secret, or the body was altered",
	"stale_timestamp":   "the timestamp is further from now than max-age: check both clocks, or this is a replay",
	"event_not_allowed": "the event is not one of the allowed events",
	"body_too_large":    "the body is larger than max-body",
}

func runVerify(cmd *cobra.Command, args []string) error {
	flags := cmd.Flags()
	secrets, _ := flags.GetStringArray("secret")
	secretEnvs, _ := flags.GetStringArray("secret-env")
	for _, name := range secretEnvs {
		value := os.Getenv(name)
		if value == "" {
			return fmt.Errorf("environment variable %s (from --secret-env) is empty or unset", name)
		}
		secrets = append(secrets, value)
	}
	if len(secrets) == 0 {
		return errors.New("a secret is required: --secret-env NAME (recommended) or --secret VALUE")
	}
	appIDs, _ := flags.GetUintSlice("app-id")
	events, _ := flags.GetStringSlice("events")
	maxAge, _ := flags.GetDuration("max-age")
	maxBody, _ := flags.GetInt64("max-body")
	allowed := make([]uint32, 0, len(appIDs))
	for _, id := range appIDs {
		if uint64(id) > uint64(^uint32(0)) {
			return fmt.Errorf("--app-id %d does not fit an unsigned 32-bit integer", id)
		}
		allowed = append(allowed, uint32(id))
	}
	verifier, err := verify.New(verify.Options{Secrets: secrets, AppIDs: allowed, Events: events, MaxAge: maxAge})
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
	body, err := io.ReadAll(io.LimitReader(input, maxBody+1))
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if int64(len(body)) > maxBody {
		err = verify.ErrBodyTooLarge
	} else {
		var callback verify.Callback
		callback, err = verifier.Verify(body)
		if err == nil {
			fmt.Fprintln(out, "ok: the callback is genuine; the upstream would receive:")
			fmt.Fprintln(out, string(callback.AppendJSON(nil)))
			return nil
		}
		if errors.Is(err, verify.ErrStaleTimestamp) {
			skew := time.Now().Unix() - callback.Timestamp
			direction := "in the past"
			if skew < 0 {
				direction, skew = "in the future", -skew
			}
			fmt.Fprintf(out, "stale_timestamp: the timestamp is %s %s, beyond max-age %s: check both clocks, or this is a replay\n",
				time.Duration(skew)*time.Second, direction, maxAge)
			return errors.New("rejected: stale_timestamp")
		}
	}
	reason := verify.ReasonOf(err)
	fmt.Fprintf(out, "%s: %s (%v)\n", reason, reasonExplanations[reason], err)
	return fmt.Errorf("rejected: %s", reason)
}
