package caddymodule

import (
	"io"
	"os"
	"strings"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/zegoedge/caddy-zego-callback/verify"
)

// The command tree of `caddy zego-callback`, as Caddy's cmd/commands.go
// lays out its own: what each command is called and takes here, what it
// does in command_*.go, each body a caddycmd.CommandFunc.
//
// Exit statuses: 0 done; 1 failed (bad flags, an unreadable config or
// storage, a callback send could not deliver, an item not found); verify
// exits 2 for a rejected callback.
func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "zego-callback",
		Usage: "sign|send|verify|secrets|spool|upstream-secret [flags]",
		Short: "Sign, send and verify ZEGO callbacks; see and redeliver the spool",
		Long: `Tools to try, test and operate a zego_callback deployment.

  sign             print a correctly signed callback
  send             sign a callback and POST it, retrying on ZEGO's schedule
  verify           read a raw callback body and explain the verdict
  secrets          print the fingerprint of each secret a config holds
  spool            list, show, retry or drop spooled callbacks
  upstream-secret  print a fresh secret for sign_upstream

Secrets can come from an environment variable (--secret-env) so that they
stay out of shell history.`,
		CobraFunc: processStreams.addCommands,
	})
}

// streams are where a command reads and writes: the process's own, or a
// test's buffers.
type streams struct {
	in          io.Reader
	out, errOut io.Writer
}

var processStreams = streams{in: os.Stdin, out: os.Stdout, errOut: os.Stderr}

// DefaultCLIAppID is the AppID sign and send use unless told otherwise.
const DefaultCLIAppID = 1234567890

func (s streams) addCommands(cmd *cobra.Command) {
	sign := &cobra.Command{
		Use:   "sign",
		Short: "Print a correctly signed callback of any supported event",
		Example: `  caddy zego-callback sign --secret-env ZEGO_CALLBACK_SECRET
  caddy zego-callback sign --secret-env ZEGO_CALLBACK_SECRET --format form --code 60000 --message "source file error"
  caddy zego-callback sign --secret-env ZEGO_CALLBACK_SECRET --event stream_close --field stream_id=cam1 --field type=1`,
		Args: cobra.NoArgs,
		RunE: caddycmd.WrapCommandFuncForCobra(s.cmdSign),
	}
	addCallbackFlags(sign)

	send := &cobra.Command{
		Use:   "send --url URL",
		Short: "Sign a callback and POST it, retrying on ZEGO's schedule",
		Long: `Signs a callback like sign and POSTs it to --url. On a non-2xx answer or a
connection error it retries as ZEGO does: 2 s, 4 s, 8 s, 16 s and 32 s after
the previous attempt. It prints one line per attempt, then the final
response body.

Exit status: 0 when every callback got a 2xx, 1 otherwise.`,
		Example: `  caddy zego-callback send --url http://127.0.0.1:8080/zego/compose --secret-env ZEGO_CALLBACK_SECRET
  caddy zego-callback send --url https://callbacks.example.com/zego/compose --secret-env ZEGO_CALLBACK_SECRET --repeat 100 --retries 0`,
		Args: cobra.NoArgs,
		RunE: caddycmd.WrapCommandFuncForCobra(s.cmdSend),
	}
	addCallbackFlags(send)
	send.Flags().String("url", "", "where to POST the callback (required)")
	send.Flags().Int("retries", len(zegoRetryDelays), "retries after a failed attempt, at most 5")
	send.Flags().Bool("no-wait", false, "retry at once instead of on ZEGO's schedule (for tests)")
	send.Flags().Int("repeat", 1, "send this many distinct callbacks, one after another")
	send.Flags().Duration("timeout", 10*time.Second, "time limit for each attempt")
	send.Flags().String("cacert", "", "also trust the CA certificate(s) in this PEM file, e.g. Caddy's local CA root for tls internal")

	verifyCmd := &cobra.Command{
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
		Args: cobra.MaximumNArgs(1),
		RunE: caddycmd.WrapCommandFuncForCobra(s.cmdVerify),
	}
	flags := verifyCmd.Flags()
	flags.StringArray("secret", nil, "a callback secret for apps without --app-secret; repeatable (prefer --secret-env)")
	flags.StringArray("secret-env", nil, "an environment variable holding a callback secret; repeatable")
	flags.StringArray("app-secret", nil, "APPID=ENVNAME: one app's own secret, from an environment variable; repeatable")
	flags.UintSlice("app-id", nil, "allowed AppIDs, repeatable or comma-separated (default: any app, or the apps of --app-secret)")
	// pflag would add "(default [])" after the help's own default.
	flags.Lookup("app-id").DefValue = ""
	flags.String("product", verify.DefaultProduct, "the ZEGO product: "+strings.Join(verify.Products(), ", "))
	flags.StringSlice("events", []string{verify.DefaultEvent}, "allowed events (default for a product other than rtc: all)")
	flags.Duration("max-age", DefaultMaxAge, "how far the timestamp may be from now")
	flags.Int64("max-body", DefaultMaxBody, "largest body accepted, in bytes")
	addConfigFlags(verifyCmd, "take the settings from the zego_callback handler in this Caddy config file")
	flags.Int("handler", 0, "with --config: which zego_callback handler to use, 1 for the first (needed when there are several)")

	secrets := &cobra.Command{
		Use:   "secrets --config FILE",
		Short: "Print the fingerprint of each secret a config holds, and where",
		Long: `Loads the config as caddy run would, resolves each zego_callback handler's
{env.*} and {file.*} secrets in this environment, and prints one line per
secret: its fingerprint and where it is configured. A fingerprint is 8 hex
digits of a labelled SHA-256 of the secret; it reveals nothing about it.
The access log's zego_secret field and 'spool list' carry the same
fingerprint, so they tell which secret verified a callback.

Run it with Caddy's environment (its variables, --envfile) and as a user
who can read the secrets, or the placeholders resolve to other values
than Caddy's. Under systemd's LoadCredential only the service reads the
credential: run it as root with the secret file's original path.`,
		Example: `  caddy zego-callback secrets --config Caddyfile.example
  sudo env ZEGO_CALLBACK_SECRET_FILE=/etc/caddy/zego-callback.secret caddy zego-callback secrets --config /etc/caddy/Caddyfile --envfile /etc/caddy/zego-callback.env`,
		Args: cobra.NoArgs,
		RunE: caddycmd.WrapCommandFuncForCobra(s.cmdSecrets),
	}
	addConfigFlags(secrets, "the Caddyfile or JSON config (required)")

	upstreamSecret := &cobra.Command{
		Use:   "upstream-secret",
		Short: "Print a fresh random Standard Webhooks secret (whsec_...) for sign_upstream",
		Long: `Prints a new secret of 32 random bytes in Standard Webhooks' form,
whsec_<base64>: give it to sign_upstream (through an environment variable
or a file) and to your backend's Standard Webhooks library.`,
		Example: `  caddy zego-callback upstream-secret > /run/secrets/zego_upstream`,
		Args:    cobra.NoArgs,
		RunE:    caddycmd.WrapCommandFuncForCobra(s.cmdUpstreamSecret),
	}

	cmd.AddCommand(sign, send, verifyCmd, secrets, s.spoolCommands(), upstreamSecret)
}

func (s streams) spoolCommands() *cobra.Command {
	spool := &cobra.Command{
		Use:   "spool list|show|retry|drop --config FILE",
		Short: "List, show, retry or drop spooled callbacks",
		Long: `Reads the spool in the storage that --config names (file_system in Caddy's
data folder when it names none), as 'caddy storage export' does. Each
command first prints on standard error which storage it read, and fails
when that storage holds no zego_callback folder: run it as Caddy's user,
e.g. for Debian's package:

  sudo -u caddy -H caddy zego-callback spool list --config /etc/caddy/Caddyfile [--envfile FILE]

An item's attempts count the spool's redeliveries (ZEGO's own forward,
which failed and got it spooled, is not among them). A running Caddy
redelivers retried items within a second or two.`,
	}
	addConfigFlags(spool, "the Caddyfile or JSON config whose storage holds the spool (required)")

	list := &cobra.Command{
		Use:   "list [--state waiting|dead|unreadable] [--task TASK_ID] [--json]",
		Short: "List spooled callbacks",
		Example: `  caddy zego-callback spool list --config /etc/caddy/Caddyfile --state dead
  caddy zego-callback spool list --config /etc/caddy/Caddyfile --json | jq '.[].last_error'`,
		Args: cobra.NoArgs,
		RunE: caddycmd.WrapCommandFuncForCobra(s.cmdSpoolList),
	}
	list.Flags().String("state", "", "only items in this state: waiting, dead or unreadable")
	list.Flags().String("task", "", "only the items of this task ID")
	list.Flags().Bool("json", false, "print one JSON array of objects instead of a table")

	show := &cobra.Command{
		Use:   "show NAME | --task TASK_ID",
		Short: "Print spooled callbacks as stored",
		Args:  cobra.MaximumNArgs(1),
		RunE:  caddycmd.WrapCommandFuncForCobra(s.cmdSpoolShow),
	}
	show.Flags().String("task", "", "the items of this task ID")

	retry := &cobra.Command{
		Use:   "retry NAME... | --task TASK_ID | --all-dead | --all",
		Short: "Make spooled callbacks due now, dead letters included",
		Example: `  caddy zego-callback spool retry --config /etc/caddy/Caddyfile --all    # after an outage
  caddy zego-callback spool retry --config /etc/caddy/Caddyfile --task 2a6b0c-merge`,
		RunE: caddycmd.WrapCommandFuncForCobra(s.cmdSpoolRetry),
	}
	retry.Flags().String("task", "", "the items of this task ID")
	retry.Flags().Bool("all-dead", false, "every dead letter")
	retry.Flags().Bool("all", false, "every item, waiting or dead")

	drop := &cobra.Command{
		Use:   "drop NAME | --task TASK_ID",
		Short: "Delete spooled callbacks for good",
		Args:  cobra.MaximumNArgs(1),
		RunE:  caddycmd.WrapCommandFuncForCobra(s.cmdSpoolDrop),
	}
	drop.Flags().String("task", "", "the items of this task ID")
	drop.Flags().Bool("yes", false, "do not ask")

	spool.AddCommand(list, show, retry, drop)
	return spool
}

// addConfigFlags adds --config and --adapter, as caddy run has them.
func addConfigFlags(cmd *cobra.Command, configUsage string) {
	cmd.PersistentFlags().StringP("config", "c", "", configUsage)
	cmd.PersistentFlags().StringP("adapter", "a", "", "the config's adapter, as for caddy run (default: caddyfile for a file named Caddyfile*, else JSON)")
	cmd.PersistentFlags().StringSlice("envfile", nil, "set the variables of this KEY=VALUE file not set already, as caddy run --envfile does; repeatable")
}

func addCallbackFlags(cmd *cobra.Command) {
	flags := cmd.Flags()
	flags.String("secret", "", "the callback secret (prefer --secret-env)")
	flags.String("secret-env", "", "name of an environment variable holding the callback secret")
	flags.Uint32("app-id", DefaultCLIAppID, "the AppID")
	flags.String("product", verify.DefaultProduct, "the ZEGO product: "+strings.Join(verify.Products(), ", "))
	flags.String("event", verify.DefaultEvent, "the event: for rtc "+strings.Join(verify.Events(verify.DefaultProduct), ", ")+"; for the other products see docs/events.md")
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
