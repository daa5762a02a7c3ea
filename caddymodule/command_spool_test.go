package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// spoolCLI runs a spool command against the storage in folder and returns
// its standard output, its standard error and its error.
func spoolCLI(t *testing.T, folder, stdin string, args ...string) (string, string, error) {
	t.Helper()
	args = append([]string{"spool"}, args...)
	args = append(args, "--config", writeStorageConfig(t, folder), "--adapter", "caddyfile")
	return runCLISplit(t, stdin, args...)
}

// listedItem is an item as `spool list --json` prints it; the names are
// the issue's, spelled out here rather than taken from the code.
type listedItem struct {
	Name         string     `json:"name"`
	TaskID       string     `json:"task_id"`
	AppID        uint32     `json:"app_id"`
	Event        string     `json:"event"`
	State        string     `json:"state"`
	Attempts     int        `json:"attempts"`
	FirstArrival time.Time  `json:"first_arrival"`
	NextAttempt  *time.Time `json:"next_attempt"`
	LastError    string     `json:"last_error"`
	Secret       string     `json:"secret"`
}

func listJSON(t *testing.T, folder string, filters ...string) []listedItem {
	t.Helper()
	out, stderr, err := spoolCLI(t, folder, "", append([]string{"list", "--json"}, filters...)...)
	if err != nil {
		t.Fatalf("list --json %v: %v\n%s%s", filters, err, out, stderr)
	}
	var items []listedItem
	decoder := json.NewDecoder(strings.NewReader(out))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&items); err != nil {
		t.Fatalf("list --json printed what is not an array of items: %v\n%s", err, out)
	}
	return items
}

// TestSpoolCLIFindsAndFilters: after a dead letter and a waiting item, the
// JSON listing names both with every field an operator needs, the filters
// pick by state and by task, and show and retry find an item by its task.
func TestSpoolCLIFindsAndFilters(t *testing.T) {
	folder := storageFolder(t)
	down := newDownUpstream(t)
	tester := startSpoolCaddy(t, folder, down.addr, "retry 200ms\nmax_age 1s")
	deadTask, waitingTask := newTaskID(), newTaskID()
	before := time.Now().Add(-time.Second)
	if got := send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: deadTask}.body()); got.status != http.StatusAccepted {
		t.Fatalf("%d %q", got.status, got.body)
	}
	waitFor(t, 10*time.Second, "no dead letter", func() bool {
		return scrapeMetrics(t)[`caddy_zego_callback_spool_dead_letters_total`] == 1
	})
	// A new config on the same storage: the dead letter stays dead.
	tester = startSpoolCaddy(t, folder, down.addr, "retry 1h\nmax_age 2h")
	if got := send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: waitingTask}.body()); got.status != http.StatusAccepted {
		t.Fatalf("%d %q", got.status, got.body)
	}

	items := listJSON(t, folder)
	if len(items) != 2 {
		t.Fatalf("%d items listed, want 2: %+v", len(items), items)
	}
	byTask := map[string]listedItem{}
	for _, item := range items {
		byTask[item.TaskID] = item
		if item.AppID != 1234567890 || item.Event != "compose" || item.Secret != fingerprint(dedupeSecret) ||
			!strings.HasPrefix(item.Name, idempotencyKey(1234567890, item.TaskID)+"-") ||
			item.FirstArrival.Before(before) || item.FirstArrival.After(time.Now()) {
			t.Errorf("listed %+v", item)
		}
		if item.LastError != "the backend closed the connection without an answer" {
			t.Errorf("last_error %q", item.LastError)
		}
	}
	if dead := byTask[deadTask]; dead.State != "dead" || dead.NextAttempt != nil || dead.Attempts < 1 {
		t.Errorf("the dead letter is listed as %+v", dead)
	}
	// Attempts count the spool's redeliveries; ZEGO's forward is not one.
	if waiting := byTask[waitingTask]; waiting.State != "waiting" || waiting.NextAttempt == nil || waiting.Attempts != 0 {
		t.Errorf("the waiting item is listed as %+v", waiting)
	}
	if got := listJSON(t, folder, "--state", "dead"); len(got) != 1 || got[0].TaskID != deadTask {
		t.Errorf("--state dead lists %+v", got)
	}
	if got := listJSON(t, folder, "--task", waitingTask); len(got) != 1 || got[0].TaskID != waitingTask {
		t.Errorf("--task lists %+v", got)
	}
	if got := listJSON(t, folder, "--state", "waiting", "--task", deadTask); len(got) != 0 {
		t.Errorf("--state waiting --task of a dead letter lists %+v", got)
	}

	table, _, err := spoolCLI(t, folder, "", "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{deadTask, waitingTask, fingerprint(dedupeSecret), "dead", "waiting", "the backend closed the connection", "2 items"} {
		if !strings.Contains(table, want) {
			t.Errorf("the table lacks %q:\n%s", want, table)
		}
	}
	for i, line := range strings.Split(strings.TrimSpace(table), "\n") {
		if len(line) > 200 {
			t.Errorf("table line %d is %d columns wide:\n%s", i+1, len(line), line)
		}
	}

	out, _, err := spoolCLI(t, folder, "", "show", "--task", deadTask)
	if err != nil || !strings.Contains(out, `"task_id": "`+deadTask+`"`) || strings.Contains(out, waitingTask) {
		t.Fatalf("show --task: %v\n%s", err, out)
	}
	if _, _, err := spoolCLI(t, folder, "", "show", "--task", "no-such-task"); err == nil || !strings.Contains(err.Error(), `no spooled item has task ID "no-such-task"`) {
		t.Errorf("show of an unknown task: %v", err)
	}

	up := down.start(t)
	out, _, err = spoolCLI(t, folder, "", "retry", "--task", deadTask)
	if err != nil || !strings.Contains(out, "1 item due now") {
		t.Fatalf("retry --task: %v\n%s", err, out)
	}
	// Within seconds: the worker reads the spool again when the CLI asks.
	// The dead letter is delivered because of the retry (a backend that
	// is back makes waiting items due, never dead letters); the waiting
	// item follows it, as the backend answered.
	waitFor(t, 5*time.Second, "the retried dead letter was not delivered", func() bool {
		return slices.ContainsFunc(up.received(), func(r receivedRequest) bool { return strings.Contains(string(r.body), deadTask) })
	})
	waitFor(t, 5*time.Second, "the waiting item was not delivered once the backend was back", func() bool { return len(up.received()) == 2 })
	waitFor(t, 5*time.Second, "items stayed in the spool", func() bool { return len(spoolFiles(t, folder)) == 0 })
}

// TestSpoolCLIRetryAll: after an outage, `retry --all` makes every item due
// now, though each would otherwise wait out its backoff (an hour here).
func TestSpoolCLIRetryAll(t *testing.T) {
	folder := storageFolder(t)
	down := newDownUpstream(t)
	tester := startSpoolCaddy(t, folder, down.addr, "retry 1h\nmax_age 2h")
	for range 3 {
		if got := send(t, tester, httpPort, signed{secret: dedupeSecret, taskID: newTaskID()}.body()); got.status != http.StatusAccepted {
			t.Fatalf("%d %q", got.status, got.body)
		}
	}
	if _, _, err := spoolCLI(t, folder, "", "retry", "--all", "--all-dead"); err == nil {
		t.Error("retry --all --all-dead was taken")
	}
	// Still down: each item is attempted once more at once, none left
	// to its hour of backoff.
	out, _, err := spoolCLI(t, folder, "", "retry", "--all")
	if err != nil || !strings.Contains(out, "3 items due now") {
		t.Fatalf("retry --all: %v\n%s", err, out)
	}
	waitFor(t, 5*time.Second, "not every item was attempted", func() bool {
		items := listJSON(t, folder)
		return len(items) == 3 && !slices.ContainsFunc(items, func(item listedItem) bool { return item.Attempts != 1 })
	})
	up := down.start(t)
	if _, _, err := spoolCLI(t, folder, "", "retry", "--all"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "not every item was delivered", func() bool { return len(up.received()) == 3 })
	waitFor(t, 10*time.Second, "items stayed in the spool", func() bool { return len(spoolFiles(t, folder)) == 0 })
}

// TestSpoolCLISaysWhichStorage: every spool command says on standard error
// which storage it read; a storage with no zego_callback folder (another
// user's, another config's) fails with the path and the user, never an
// empty table; a Caddy running with a spool marks its storage before
// anything is spooled, so its empty spool lists as empty.
func TestSpoolCLISaysWhichStorage(t *testing.T) {
	empty := t.TempDir()
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	for _, command := range [][]string{{"list"}, {"list", "--json"}, {"show", "--task", "t"}, {"retry", "--all"}, {"drop", "--task", "t", "--yes"}} {
		out, stderr, err := spoolCLI(t, empty, "", command...)
		if err == nil {
			t.Errorf("%v on an empty storage succeeded:\n%s", command, out)
			continue
		}
		if want := "storage: file_system " + empty + "\n"; stderr != want {
			t.Errorf("%v: stderr %q, want %q", command, stderr, want)
		}
		for _, want := range []string{"no zego_callback folder", empty, "read as " + me.Username, "sudo -u caddy -H caddy zego-callback spool list"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%v: the error %q lacks %q", command, err, want)
			}
		}
		if out != "" {
			t.Errorf("%v printed %q on an empty storage", command, out)
		}
	}

	folder := storageFolder(t)
	startSpoolCaddy(t, folder, newDownUpstream(t).addr, "retry 1h\nmax_age 2h")
	waitFor(t, 10*time.Second, "the running Caddy did not mark its storage", func() bool {
		_, err := os.Stat(filepath.Join(folder, "zego_callback"))
		return err == nil
	})
	out, stderr, err := spoolCLI(t, folder, "", "list")
	if err != nil || !strings.Contains(out, "0 items") || stderr != "storage: file_system "+folder+"\n" {
		t.Fatalf("list of an empty spool: %v\n%s%s", err, out, stderr)
	}
	if got := listJSON(t, folder); got == nil || len(got) != 0 {
		t.Errorf("list --json of an empty spool: %#v, want []", got)
	}
}

// TestCLISecrets: `secrets` prints each configured secret's fingerprint
// (computed here from its sha256 definition) and where it is configured,
// never a secret.
func TestCLISecrets(t *testing.T) {
	t.Setenv("ZEGO_TEST_CLI_OLD", "old-secret-value")
	t.Setenv("ZEGO_TEST_CLI_NEW", "new-secret-value")
	t.Setenv("ZEGO_TEST_CLI_APP", "app-secret-value")
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("file-secret-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(t.TempDir(), "Caddyfile")
	caddyfile := fmt.Sprintf(`:8443 {
	route /zego/a {
		zego_callback {
			secret {env.ZEGO_TEST_CLI_NEW}
			secret {env.ZEGO_TEST_CLI_OLD}
			app_id 1234567890 111
			app 111 {
				secret {env.ZEGO_TEST_CLI_APP}
			}
			deliver {
				reverse_proxy 127.0.0.1:9
			}
		}
	}
	route /zego/b {
		zego_callback {file.%s} {
			deliver {
				reverse_proxy 127.0.0.1:9
			}
		}
	}
}
`, secretFile)
	if err := os.WriteFile(config, []byte(caddyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "", "secrets", "--config", config, "--adapter", "caddyfile")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{
		"  " + fingerprint("new-secret-value") + "  secret #1",
		"  " + fingerprint("old-secret-value") + "  secret #2",
		"  " + fingerprint("app-secret-value") + "  app 111 secret #1",
		// {file.*} drops the file's trailing newline, as Caddy does.
		"  " + fingerprint("file-secret-value") + "  secret #1",
	}
	var got []string
	for _, line := range lines {
		if strings.HasPrefix(line, "  ") {
			got = append(got, line)
		} else if !strings.HasPrefix(line, "handler ") || !strings.Contains(line, "/zego/") {
			t.Errorf("a handler's line %q does not say where it is", line)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("secrets printed\n%s\nwant the lines\n%s", out, strings.Join(want, "\n"))
	}
	for _, secret := range []string{"old-secret-value", "new-secret-value", "app-secret-value", "file-secret-value"} {
		if strings.Contains(out, secret) {
			t.Errorf("secrets printed a secret:\n%s", out)
		}
	}

	t.Setenv("ZEGO_TEST_CLI_APP", "")
	if _, err := runCLI(t, "", "secrets", "--config", config, "--adapter", "caddyfile"); err == nil || !strings.Contains(err.Error(), "app 111: secret 1 of 1 is empty") {
		t.Errorf("an unset variable: %v", err)
	}
}

// TestSpoolCLIEnvFile: the config's {$VAR}s come from --envfile, as for
// `caddy run --envfile` (sudo clears the environment the config needs);
// a variable already set is kept.
func TestSpoolCLIEnvFile(t *testing.T) {
	folder := storageFolder(t)
	startSpoolCaddy(t, folder, newDownUpstream(t).addr, "retry 1h\nmax_age 2h")
	waitFor(t, 10*time.Second, "the running Caddy did not mark its storage", func() bool {
		_, err := os.Stat(filepath.Join(folder, "zego_callback"))
		return err == nil
	})
	config := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(config, []byte("{\n\tstorage file_system {$ZEGO_TEST_ENVFILE_STORAGE}\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	envFile := filepath.Join(t.TempDir(), "zego-callback.env")
	if err := os.WriteFile(envFile, []byte("# as systemd's EnvironmentFile= has it\nexport ZEGO_TEST_ENVFILE_STORAGE=\""+folder+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Unsetenv("ZEGO_TEST_ENVFILE_STORAGE") })
	out, stderr, err := runCLISplit(t, "", "spool", "list", "--config", config, "--envfile", envFile)
	if err != nil || stderr != "storage: file_system "+folder+"\n" || !strings.Contains(out, "0 items") {
		t.Fatalf("list --envfile: %v\n%s%s", err, out, stderr)
	}
	other := t.TempDir()
	t.Setenv("ZEGO_TEST_ENVFILE_STORAGE", other)
	if _, stderr, _ := runCLISplit(t, "", "spool", "list", "--config", config, "--envfile", envFile); stderr != "storage: file_system "+other+"\n" {
		t.Errorf("--envfile replaced a variable already set: %s", stderr)
	}
}

// TestEnvFileReadAsCaddyReadsIt: --envfile follows caddy run --envfile's
// rules, so secrets and spool resolve the config's variables as the
// running Caddy does: a trailing comment is no part of the value.
func TestEnvFileReadAsCaddyReadsIt(t *testing.T) {
	envFile := filepath.Join(t.TempDir(), "zego.env")
	if err := os.WriteFile(envFile, []byte("ZEGO_TEST_ENVFILE_SECRET=abc123 # the ZEGO secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Unsetenv("ZEGO_TEST_ENVFILE_SECRET") })
	config := filepath.Join(t.TempDir(), "Caddyfile")
	caddyfile := ":8443 {\n\tzego_callback {env.ZEGO_TEST_ENVFILE_SECRET} {\n\t\tdeliver {\n\t\t\trespond 200\n\t\t}\n\t}\n}\n"
	if err := os.WriteFile(config, []byte(caddyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "", "secrets", "--config", config, "--envfile", envFile)
	if err != nil || !strings.Contains(out, "  "+fingerprint("abc123")+"  secret #1") {
		t.Fatalf("secrets --envfile: %v\n%s", err, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.env")
	if err := os.WriteFile(bad, []byte("ZEGO_TEST_ENVFILE_SECRET= spaced\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, "", "secrets", "--config", config, "--envfile", bad); err == nil || !strings.Contains(err.Error(), "whitespace before value") {
		t.Errorf("a value after whitespace: %v", err)
	}
}
