package caddymodule

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/caddyserver/certmagic"

	"github.com/zegoedge/caddy-zego-callback/verify"
)

// exitRejected is verify's exit status for a rejected callback; 1 (no
// verdict) is any other error's. The verdict is on standard output; the
// error, which Caddy logs on standard error, only names the reason.
const exitRejected = 2

func rejection(reason string) (int, error) {
	return exitRejected, fmt.Errorf("the callback is rejected: %s", reason)
}

// reasonExplanations say in a line what a reason code means.
var reasonExplanations = map[string]string{
	"malformed_body":    "the body is not a JSON object, a URL-encoded JSON object or a form, or is not valid JSON/UTF-8",
	"missing_field":     "a required field is absent or null",
	"invalid_field":     "a field breaks its rule (see the field rules in docs/events.md)",
	"duplicate_field":   "a key is given twice",
	"app_not_allowed":   "the appid is not one of the allowed AppIDs",
	"event_not_allowed": "the event is not one of the allowed events",
	"wrong_product":     "the callback is another product's (see --product): ZEGO sends each product to its own URL",
}

// cmdVerify checks a raw callback body as the handler would and says why.
func (s streams) cmdVerify(fl caddycmd.Flags) (int, error) {
	h, err := verifySettings(fl)
	if err != nil {
		return 1, err
	}
	opts, err := h.verifyOptions(nil)
	if err != nil {
		return 1, err
	}
	verifier, err := verify.New(opts)
	if err != nil {
		return 1, err
	}

	input := s.in
	if name := fl.Arg(0); name != "" && name != "-" {
		file, err := os.Open(name)
		if err != nil {
			return 1, err
		}
		defer file.Close()
		input = file
	}
	body, err := io.ReadAll(io.LimitReader(input, h.MaxBody+1))
	if err != nil {
		return 1, err
	}
	out := s.out
	if int64(len(body)) > h.MaxBody {
		fmt.Fprintf(out, "body_too_large: the body is larger than max-body, %d bytes\n", h.MaxBody)
		return rejection("body_too_large")
	}
	callback, err := verifier.Verify(body)
	if err == nil {
		fmt.Fprintln(out, "ok: signature valid for this timestamp and nonce; ZEGO does not sign the body, so task_id, replay_url, code and the other fields are as received, not proven")
		if meaning, doc, ok := verify.EventDoc(h.Product, callback.Event); ok {
			fmt.Fprintf(out, "event: %s, %s (%s)\n", callback.Event, meaning, doc)
		}
		fmt.Fprintf(out, "checked: body shape and field rules, app allowed, timestamp within %s of now, event allowed (the edge's dedupe also ties each signature to one body; verify cannot check that)\n", time.Duration(h.MaxAge))
		fmt.Fprintln(out, "the upstream would receive:")
		fmt.Fprintln(out, string(callback.AppendJSON(nil)))
		return 0, nil
	}
	fmt.Fprintln(out, explainRejection(err, &callback, h, opts))
	return rejection(verify.ReasonOf(err))
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
func verifySettings(flags caddycmd.Flags) (*Handler, error) {
	configFile, _ := flags.GetString("config")
	adapter, _ := flags.GetString("adapter")
	index, _ := flags.GetInt("handler")
	if err := loadEnvFiles(flags); err != nil {
		return nil, err
	}
	if configFile == "" {
		if adapter != "" || index != 0 {
			return nil, errors.New("--adapter and --handler go with --config")
		}
		return settingsFromFlags(flags)
	}
	for _, name := range []string{"secret", "secret-env", "app-secret", "app-id", "product", "events", "max-age", "max-body"} {
		if flags.Changed(name) {
			return nil, fmt.Errorf("--%s and --config do not mix: the settings come from the config", name)
		}
	}
	return settingsFromConfig(configFile, adapter, index)
}

func settingsFromFlags(flags caddycmd.Flags) (*Handler, error) {
	secrets, _ := flags.GetStringArray("secret")
	secretEnvs, _ := flags.GetStringArray("secret-env")
	appSecrets, _ := flags.GetStringArray("app-secret")
	appIDs, _ := flags.GetUintSlice("app-id")
	product, _ := flags.GetString("product")
	events, _ := flags.GetStringSlice("events")
	if product != verify.DefaultProduct && !flags.Changed("events") {
		events = []string{allEvents} // compose, the default, is rtc's
	}
	maxAge, _ := flags.GetDuration("max-age")
	maxBody, _ := flags.GetInt64("max-body")
	h := &Handler{Product: product, Events: events, MaxAge: caddy.Duration(maxAge), MaxBody: maxBody}
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
	found, err := handlersInConfig(configFile, adapter)
	if err != nil {
		return nil, err
	}
	switch {
	case index < 0 || index > len(found):
		return nil, fmt.Errorf("--handler must be from 1 to %d:\n%s", len(found), listHandlers(found))
	case index == 0 && len(found) > 1:
		return nil, fmt.Errorf("%s has %d zego_callback handlers; pick one with --handler N:\n%s", configFile, len(found), listHandlers(found))
	case index == 0:
		index = 1
	}
	return found[index-1].resolved()
}

// loadEnvFiles sets the variables of each --envfile not set already, as
// caddy run --envfile does, so that the config's {$VAR} and {env.*}
// resolve as for the Caddy that runs it: sudo clears the environment.
func loadEnvFiles(fl caddycmd.Flags) error {
	files, err := fl.GetStringSlice("envfile")
	if err != nil {
		return err
	}
	for _, name := range files {
		file, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("--envfile: %w", err)
		}
		env, err := parseEnvFile(file)
		file.Close()
		if err != nil {
			return fmt.Errorf("--envfile %s: %w", name, err)
		}
		for key, value := range env {
			if _, set := os.LookupEnv(key); !set {
				os.Setenv(key, value)
			}
		}
	}
	if len(files) > 0 {
		// Caddy's data folder follows HOME and XDG_DATA_HOME.
		caddy.DefaultStorage = &certmagic.FileStorage{Path: caddy.AppDataDir()}
	}
	return nil
}

// parseEnvFile reads KEY=VALUE lines by caddy run --envfile's rules, so
// that a file means here what it means to Caddy. Caddy's parseEnvFile
// (cmd/main.go, v2.11.9) is not exported; this is it, unchanged in
// behaviour.
func parseEnvFile(input io.Reader) (map[string]string, error) {
	env := make(map[string]string)
	scanner := bufio.NewScanner(input)
	lineNumber := 0
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		lineNumber++
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("can't parse line %d; line should be in KEY=VALUE format", lineNumber)
		}
		key = strings.TrimPrefix(key, "export ")
		switch {
		case key == "":
			return nil, fmt.Errorf("missing or empty key on line %d", lineNumber)
		case strings.Contains(key, " "):
			return nil, fmt.Errorf("invalid key on line %d: contains whitespace", lineNumber)
		case strings.HasPrefix(value, " ") || strings.HasPrefix(value, "\t"):
			return nil, fmt.Errorf("invalid value on line %d: whitespace before value", lineNumber)
		}
		if beforeComment, _, found := strings.Cut(value, "#"); found {
			value = strings.TrimRight(beforeComment, " \t")
		}
		// A quoted value may span lines.
		if strings.HasPrefix(value, `"`) || strings.HasPrefix(value, "'") {
			quote := string(value[0])
			for !strings.HasSuffix(line, quote) || strings.HasSuffix(line, `\`+quote) {
				value = strings.ReplaceAll(value, `\`+quote, quote)
				if !scanner.Scan() {
					break
				}
				lineNumber++
				line = strings.ReplaceAll(scanner.Text(), `\`+quote, quote)
				value += "\n" + line
			}
			value = strings.TrimSuffix(strings.TrimPrefix(value, quote), quote)
		}
		env[key] = value
	}
	return env, scanner.Err()
}

// handlersInConfig loads the config as caddy run would (adapting it) and
// finds its zego_callback handlers, at least one.
func handlersInConfig(configFile, adapter string) ([]configuredHandler, error) {
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
	if len(found) == 0 {
		return nil, fmt.Errorf("--config: %s has no zego_callback handler", configFile)
	}
	return found, nil
}

// resolved is the handler's settings with defaults and its secrets'
// placeholders resolved, as a config load does; verifyOptions then takes
// the secrets as they are.
func (c configuredHandler) resolved() (*Handler, error) {
	h := c.settings
	h.applyDefaults()
	var err error
	repl := caddy.NewReplacer()
	if h.Secrets, err = resolveSecrets(repl, h.Secrets, "secret"); err != nil {
		return nil, err
	}
	h.Apps = slices.Clone(h.Apps)
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
