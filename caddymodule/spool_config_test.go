package caddymodule

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// TestSpoolConfig: the Caddyfile block and its JSON form, the defaults, and
// the settings that must fail validation.
func TestSpoolConfig(t *testing.T) {
	parse := func(t *testing.T, block string) (*Handler, error) {
		t.Helper()
		h := new(Handler)
		return h, h.UnmarshalCaddyfile(caddyfile.NewTestDispenser("zego_callback {\n" + block + "\n}"))
	}
	// provision runs what `caddy validate` runs: the whole config, with
	// its storage, provisioned and stopped.
	provision := func(h *Handler) error {
		handler, err := json.Marshal(h)
		if err != nil {
			return err
		}
		handler = append([]byte(`{"handler":"zego_callback",`), handler[1:]...)
		if h.Deliver == nil {
			handler = append(handler[:len(handler)-1], `,"deliver":{"routes":[{"handle":[{"handler":"static_response"}]}]}}`...)
		}
		config := `{"storage":{"module":"file_system","root":` + strconv.Quote(t.TempDir()) + `},` +
			`"apps":{"http":{"servers":{"srv0":{"listen":["127.0.0.1:0"],"routes":[{"handle":[` + string(handler) + `]}]}}}}}`
		var cfg caddy.Config
		if err := json.Unmarshal([]byte(config), &cfg); err != nil {
			return err
		}
		return caddy.Validate(&cfg)
	}

	t.Run("block to JSON", func(t *testing.T) {
		h, err := parse(t, "secret s\nspool {\n\tretry 10s 1m\n\tmax_age 24h\n}\nkeep_query")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(h)
		want := `{"secrets":["s"],"spool":{"retry":[10000000000,60000000000],"max_age":86400000000000},"keep_query":true}`
		if string(got) != want {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	})

	t.Run("bare spool takes the defaults", func(t *testing.T) {
		h, err := parse(t, "secret s\nspool")
		if err != nil {
			t.Fatal(err)
		}
		h.applyDefaults()
		if h.Spool.Concurrency != 4 {
			t.Fatalf("concurrency %d, want 4", h.Spool.Concurrency)
		}
		wantRetry := []caddy.Duration{caddy.Duration(10 * time.Second), caddy.Duration(time.Minute), caddy.Duration(5 * time.Minute),
			caddy.Duration(30 * time.Minute), caddy.Duration(2 * time.Hour), caddy.Duration(6 * time.Hour)}
		if len(h.Spool.Retry) != len(wantRetry) || h.Spool.MaxAge != caddy.Duration(72*time.Hour) {
			t.Fatalf("defaults: %+v", h.Spool)
		}
		for i := range wantRetry {
			if h.Spool.Retry[i] != wantRetry[i] {
				t.Fatalf("retry %d: %s", i, time.Duration(h.Spool.Retry[i]))
			}
		}
	})

	t.Run("JSON form", func(t *testing.T) {
		h := new(Handler)
		if err := json.Unmarshal([]byte(`{"secrets":["s"],"spool":{"retry":["200ms","1s"],"max_age":"5s"}}`), h); err != nil {
			t.Fatal(err)
		}
		if err := provision(h); err != nil {
			t.Fatal(err)
		}
		if time.Duration(h.Spool.Retry[1]) != time.Second || time.Duration(h.Spool.MaxAge) != 5*time.Second {
			t.Fatalf("%+v", h.Spool)
		}
	})

	for _, tc := range []struct{ name, block, want string }{
		{"spool with dedupe off", "secret s\ndedupe off\nspool", "spool needs dedupe"},
		{"no retry wait", "secret s\nspool {\n\tretry\n}", "at least one wait"},
		{"a retry wait that is not a duration", "secret s\nspool {\n\tretry soon\n}", "must be a duration"},
		{"a zero retry wait", "secret s\nspool {\n\tretry 10s 0s\n}", "every retry wait must be positive and at most"},
		{"a negative max_age", "secret s\nspool {\n\tmax_age -1s\n}", "max_age must be positive and at most 87600h0m0s"},
		{"too much concurrency", "secret s\nspool {\n\tconcurrency 65\n}", "concurrency must be from 1 to 64"},
		{"concurrency that is not a number", "secret s\nspool {\n\tconcurrency many\n}", "must be a whole number"},
		{"an unknown setting", "secret s\nspool {\n\tattempts 3\n}", "use retry, max_age or concurrency"},
		{"an argument", "secret s\nspool 5", "takes no argument"},
		{"twice", "secret s\nspool\nspool", "duplicate spool"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := parse(t, tc.block)
			if err == nil {
				err = provision(h)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}
