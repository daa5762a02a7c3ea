package caddymodule

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/user"
	"path"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/caddyserver/certmagic"
)

// The spool commands read and change the spool in the storage a config
// names, as `caddy storage export` does; a running Caddy picks up the
// changes on its next pass.

// listedItem is one item as `spool list --json` prints it.
type listedItem struct {
	Name         string     `json:"name"`
	TaskID       string     `json:"task_id"`
	AppID        uint32     `json:"app_id"`
	Event        string     `json:"event"`
	State        string     `json:"state"`
	Attempts     int        `json:"attempts"`
	FirstArrival *time.Time `json:"first_arrival"`
	NextAttempt  *time.Time `json:"next_attempt"` // null for a dead letter
	LastError    string     `json:"last_error"`
	Secret       string     `json:"secret"` // the verifying secret's fingerprint
}

func listed(key string, item *spoolItem, err error) listedItem {
	if err != nil {
		return listedItem{Name: path.Base(key), State: spoolUnreadable, LastError: err.Error()}
	}
	l := listedItem{Name: item.name(), TaskID: item.TaskID, AppID: item.AppID, Event: item.Event, State: item.state(),
		Attempts: item.Attempts, FirstArrival: &item.FirstArrival, LastError: item.LastError, Secret: secretFingerprint(item.Scope)}
	if !item.Dead {
		l.NextAttempt = &item.NextAttempt
	}
	return l
}

func (s streams) cmdSpoolList(fl caddycmd.Flags) (int, error) {
	state, task, asJSON := fl.String("state"), fl.String("task"), fl.Bool("json")
	switch state {
	case "", spoolWaiting, spoolDead, spoolUnreadable:
	default:
		return 1, fmt.Errorf("--state must be waiting, dead or unreadable, not %q", state)
	}
	ctx := context.Background()
	storage, closeStorage, err := s.openSpool(ctx, fl)
	if err != nil {
		return 1, err
	}
	defer closeStorage()
	items := []listedItem{}
	err = listSpool(ctx, storage, func(key string, item *spoolItem, err error) error {
		l := listed(key, item, err)
		if (state == "" || l.State == state) && (task == "" || l.TaskID == task) {
			items = append(items, l)
		}
		return nil
	})
	if err != nil {
		return 1, err
	}
	if asJSON {
		out, err := json.MarshalIndent(items, "", "  ")
		if err != nil {
			return 1, err
		}
		_, err = fmt.Fprintln(s.out, string(out))
		return 0, err
	}
	// Names are 65 characters: the table leaves them to --json and show,
	// which find an item by its task as well.
	table := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(table, "TASK\tAPP\tEVENT\tSTATE\tATTEMPTS\tFIRST ARRIVAL (UTC)\tNEXT ATTEMPT (UTC)\tSECRET\tLAST ERROR")
	for _, l := range items {
		if l.State == spoolUnreadable {
			fmt.Fprintf(table, "-\t\t\t%s\t\t\t\t\t%s (spool drop %s)\n", l.State, clip(l.LastError, 60), l.Name)
			continue
		}
		next := "-"
		if l.NextAttempt != nil {
			next = l.NextAttempt.UTC().Format(time.DateTime)
		}
		fmt.Fprintf(table, "%s\t%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", l.TaskID, l.AppID, l.Event, l.State, l.Attempts,
			l.FirstArrival.UTC().Format(time.DateTime), next, l.Secret, clip(l.LastError, 60))
	}
	fmt.Fprintln(table, countOf(len(items), "item"))
	return 0, table.Flush()
}

// clip is s cut to n bytes, marked when cut; the whole is in show and --json.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "..."
}

func countOf(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func (s streams) cmdSpoolShow(fl caddycmd.Flags) (int, error) {
	if err := checkChoice(fl); err != nil {
		return 1, err
	}
	ctx := context.Background()
	storage, closeStorage, err := s.openSpool(ctx, fl)
	if err != nil {
		return 1, err
	}
	defer closeStorage()
	keys, err := chosenItems(ctx, fl, storage)
	if err != nil {
		return 1, err
	}
	for _, key := range keys {
		item, err := loadSpoolItem(ctx, storage, key)
		if errors.Is(err, errUnreadableItem) {
			return 1, fmt.Errorf("spool item %s: %w; drop it with 'spool drop %s'", path.Base(key), err, path.Base(key))
		}
		if err != nil {
			return 1, fmt.Errorf("spool item %s: %w", path.Base(key), err)
		}
		out, err := json.MarshalIndent(item, "", "  ")
		if err != nil {
			return 1, err
		}
		fmt.Fprintln(s.out, string(out))
	}
	return 0, nil
}

func (s streams) cmdSpoolRetry(fl caddycmd.Flags) (int, error) {
	all, allDead := fl.Bool("all"), fl.Bool("all-dead")
	if all || allDead {
		if fl.NArg() > 0 || fl.String("task") != "" || (all && allDead) {
			return 1, errors.New("give names, --task, --all-dead or --all: one of them, not several")
		}
	} else if err := checkChoice(fl); err != nil {
		return 1, err
	}
	ctx := context.Background()
	storage, closeStorage, err := s.openSpool(ctx, fl)
	if err != nil {
		return 1, err
	}
	defer closeStorage()
	var keys []string
	if all || allDead {
		unreadable := 0
		err = listSpool(ctx, storage, func(key string, item *spoolItem, err error) error {
			switch {
			case err != nil:
				unreadable++
			case all || item.Dead:
				keys = append(keys, key)
			}
			return nil
		})
		if unreadable > 0 {
			fmt.Fprintf(s.errOut, "%s skipped: 'spool list --state unreadable' names them\n", countOf(unreadable, "unreadable item"))
		}
	} else {
		keys, err = chosenItems(ctx, fl, storage)
	}
	if err != nil {
		return 1, err
	}
	done, err := retrySpoolItems(ctx, storage, keys, time.Now())
	for _, key := range done {
		fmt.Fprintf(s.out, "%s: due now\n", path.Base(key))
	}
	fmt.Fprintf(s.out, "%s due now\n", countOf(len(done), "item"))
	if err != nil {
		return 1, err
	}
	return 0, nil
}

func (s streams) cmdSpoolDrop(fl caddycmd.Flags) (int, error) {
	if err := checkChoice(fl); err != nil {
		return 1, err
	}
	ctx := context.Background()
	storage, closeStorage, err := s.openSpool(ctx, fl)
	if err != nil {
		return 1, err
	}
	defer closeStorage()
	keys, err := chosenItems(ctx, fl, storage)
	if err != nil {
		return 1, err
	}
	answers := bufio.NewReader(s.in)
	for _, key := range keys {
		name := path.Base(key)
		item, err := loadSpoolItem(ctx, storage, key)
		if err != nil && !errors.Is(err, errUnreadableItem) {
			return 1, fmt.Errorf("spool item %s: %w", name, err)
		}
		if !fl.Bool("yes") {
			if item != nil {
				fmt.Fprintf(s.out, "Drop the %s callback for app %d, task %q (%s)? It will never be delivered. [y/N] ",
					item.Event, item.AppID, item.TaskID, item.state())
			} else {
				fmt.Fprintf(s.out, "Drop this unreadable spool item (%v)? [y/N] ", err)
			}
			answer, _ := answers.ReadString('\n')
			if a := strings.TrimSpace(strings.ToLower(answer)); a != "y" && a != "yes" {
				return 1, fmt.Errorf("%s: not dropped", name)
			}
		}
		if err := dropSpoolItem(ctx, storage, key); err != nil {
			return 1, err
		}
		fmt.Fprintf(s.out, "%s: dropped\n", name)
	}
	return 0, nil
}

func dropSpoolItem(ctx context.Context, storage certmagic.Storage, key string) error {
	// Under the spool's lock, or a worker mid-attempt would write it back.
	unlock, err := lockSpool(ctx, storage)
	if err != nil {
		return err
	}
	defer unlock()
	if err := storage.Delete(ctx, key); err != nil {
		return err
	}
	_ = storage.Delete(ctx, deliveredMark(key)) // if a worker left one
	return nil
}

// checkChoice checks, before any storage is read, that a command names
// its items one way: by name or by --task.
func checkChoice(fl caddycmd.Flags) error {
	if (fl.String("task") == "") == (fl.NArg() == 0) {
		return errors.New("name the items (as 'spool list --json' shows them) or give --task TASK_ID: one of them, not both")
	}
	for _, name := range fl.Args() {
		if _, err := itemKey(name); err != nil {
			return err
		}
	}
	return nil
}

// chosenItems are the keys of the items a command names: by name, or all
// those of --task.
func chosenItems(ctx context.Context, fl caddycmd.Flags, storage certmagic.Storage) ([]string, error) {
	var keys []string
	for _, name := range fl.Args() {
		key, _ := itemKey(name) // checked by checkChoice
		if !storage.Exists(ctx, key) {
			return nil, fmt.Errorf("no spooled item %s: 'spool list --json' names them", name)
		}
		keys = append(keys, key)
	}
	task := fl.String("task")
	if task == "" {
		return keys, nil
	}
	err := listSpool(ctx, storage, func(key string, item *spoolItem, err error) error {
		if err == nil && item.TaskID == task {
			keys = append(keys, key)
		}
		return nil
	})
	if err == nil && len(keys) == 0 {
		err = fmt.Errorf("no spooled item has task ID %q", task)
	}
	return keys, err
}

// openSpool opens the storage --config names, or Caddy's default, and says
// on standard error which it is; the caller defers release, which
// releases the storage module. A storage without a zego_callback folder is an
// error: it is not the storage of a Caddy that ran with a spool (most
// often another user's default), and an empty listing would read as
// "nothing waiting".
func (s streams) openSpool(ctx context.Context, fl caddycmd.Flags) (storage certmagic.Storage, release func(), err error) {
	configFile, adapter := fl.String("config"), fl.String("adapter")
	if configFile == "" {
		return nil, nil, errors.New("--config is required: the config whose storage holds the spool")
	}
	if err := loadEnvFiles(fl); err != nil {
		return nil, nil, err
	}
	config, _, _, err := caddycmd.LoadConfig(configFile, adapter)
	if err != nil {
		return nil, nil, err
	}
	var storageConfig struct {
		StorageRaw json.RawMessage `json:"storage,omitempty" caddy:"namespace=caddy.storage inline_key=module"`
	}
	if err := json.Unmarshal(config, &storageConfig); err != nil {
		return nil, nil, err
	}
	storage, module, release := caddy.DefaultStorage, "file_system", func() {}
	if storageConfig.StorageRaw != nil {
		var named struct {
			Module string `json:"module"`
		}
		_ = json.Unmarshal(storageConfig.StorageRaw, &named)
		module = named.Module
		// As caddy storage export: the module lives until the command ends.
		caddyCtx, cancel := caddy.NewContext(caddy.Context{Context: ctx})
		loaded, err := caddyCtx.LoadModule(&storageConfig, "StorageRaw")
		if err == nil {
			storage, err = loaded.(caddy.StorageConverter).CertMagicStorage()
		}
		if err != nil {
			cancel()
			return nil, nil, err
		}
		release = cancel
	}
	where := module
	if files, ok := storage.(*certmagic.FileStorage); ok {
		where += " " + files.Path
	}
	fmt.Fprintln(s.errOut, "storage:", where)
	// The marker, for a storage that lists only keys; the folder, for a
	// spool written before there was a marker.
	if !storage.Exists(ctx, spoolMarker) && !storage.Exists(ctx, storagePrefix) {
		release()
		runAs := "an unknown user"
		if u, err := user.Current(); err == nil {
			runAs = u.Username
		}
		return nil, nil, fmt.Errorf("no %s folder in the storage %s, read as %s: this is not the storage of a Caddy that ran with a spool. "+
			"Run the command as Caddy's user with the config Caddy runs, e.g. for Debian's package: "+
			"sudo -u caddy -H caddy zego-callback spool list --config /etc/caddy/Caddyfile [--envfile FILE]", storagePrefix, where, runAs)
	}
	return storage, release, nil
}
