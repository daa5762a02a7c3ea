package caddymodule

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/caddyserver/certmagic"
	"github.com/spf13/cobra"
)

// newSpoolCommand builds `caddy zego-callback spool`, which reads and
// changes the spool in the storage a config names, as `caddy storage
// export` does; a running Caddy picks up the changes.
func newSpoolCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "spool list|show NAME|retry NAME...|--all-dead|drop NAME",
		Short: "List, show, retry or drop spooled callbacks",
		Long: `Reads the spool in the storage that --config names (file_system in Caddy's
data folder when it names none). A running Caddy redelivers retried items on
its next pass over the whole spool (within 30 s).`,
	}
	cmd.PersistentFlags().String("config", "", "the Caddyfile or JSON config whose storage holds the spool (required)")
	cmd.PersistentFlags().String("adapter", "", "the config adapter, e.g. caddyfile (default: by file name)")

	list := &cobra.Command{
		Use: "list", Short: "List spooled callbacks", Args: cobra.NoArgs, SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			storage, err := spoolStorageFrom(cmd)
			if err != nil {
				return err
			}
			out := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(out, "NAME\tSTATE\tAPP\tEVENT\tTASK\tATTEMPTS\tFIRST ARRIVAL\tNEXT ATTEMPT\tLAST ERROR")
			err = listSpool(cmd.Context(), storage, func(key string, item *spoolItem, err error) error {
				if err != nil {
					fmt.Fprintf(out, "%s\tunreadable\t\t\t\t\t\t\t%v\n", key, err)
					return nil
				}
				next := item.NextAttempt.UTC().Format(time.RFC3339)
				if item.Dead {
					next = "-"
				}
				fmt.Fprintf(out, "%s\t%s\t%d\t%s\t%s\t%d\t%s\t%s\t%s\n", item.name(), item.state(), item.AppID, item.Event, item.TaskID,
					item.Attempts, item.FirstArrival.UTC().Format(time.RFC3339), next, item.LastError)
				return nil
			})
			if err != nil {
				return err
			}
			return out.Flush()
		},
	}
	show := &cobra.Command{
		Use: "show NAME", Short: "Print a spooled callback as stored", Args: cobra.ExactArgs(1), SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			storage, err := spoolStorageFrom(cmd)
			if err != nil {
				return err
			}
			key, err := itemKey(args[0])
			if err != nil {
				return err
			}
			item, err := loadSpoolItem(cmd.Context(), storage, key)
			if err != nil {
				return fmt.Errorf("spool item %s: %w", args[0], err)
			}
			out, err := json.MarshalIndent(item, "", "  ")
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(out))
			return nil
		},
	}
	retry := &cobra.Command{
		Use: "retry NAME... | --all-dead", Short: "Make spooled callbacks due now, dead letters included", SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			allDead, _ := cmd.Flags().GetBool("all-dead")
			if allDead == (len(args) > 0) {
				return errors.New("give the names to retry, or --all-dead")
			}
			storage, err := spoolStorageFrom(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if allDead {
				err := listSpool(ctx, storage, func(_ string, item *spoolItem, err error) error {
					if err == nil && item.Dead {
						args = append(args, item.name())
					}
					return nil
				})
				if err != nil {
					return err
				}
			}
			for _, id := range args {
				if err := retrySpoolItem(ctx, storage, id, time.Now()); err != nil {
					return fmt.Errorf("spool item %s: %w", id, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: due now\n", id)
			}
			return nil
		},
	}
	retry.Flags().Bool("all-dead", false, "retry every dead letter")
	drop := &cobra.Command{
		Use: "drop NAME", Short: "Delete a spooled callback for good", Args: cobra.ExactArgs(1), SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			storage, err := spoolStorageFrom(cmd)
			if err != nil {
				return err
			}
			key, err := itemKey(args[0])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			// Under the item's lock, or a worker mid-attempt would write it back.
			if err := storage.Lock(ctx, key); err != nil {
				return err
			}
			defer func() { _ = storage.Unlock(context.WithoutCancel(ctx), key) }()
			item, err := loadSpoolItem(ctx, storage, key)
			if err != nil {
				return fmt.Errorf("spool item %s: %w", args[0], err)
			}
			if yes, _ := cmd.Flags().GetBool("yes"); !yes {
				fmt.Fprintf(cmd.OutOrStdout(), "Drop the %s callback for app %d, task %q (%s)? It will never be delivered. [y/N] ",
					item.Event, item.AppID, item.TaskID, item.state())
				answer, _ := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if a := strings.TrimSpace(strings.ToLower(answer)); a != "y" && a != "yes" {
					return errors.New("not dropped")
				}
			}
			if err := storage.Delete(ctx, key); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: dropped\n", args[0])
			return nil
		},
	}
	drop.Flags().Bool("yes", false, "do not ask")
	cmd.AddCommand(list, show, retry, drop)
	return cmd
}

// spoolStorageFrom opens the storage the --config names, or Caddy's default.
func spoolStorageFrom(cmd *cobra.Command) (certmagic.Storage, error) {
	configFile, _ := cmd.Flags().GetString("config")
	adapter, _ := cmd.Flags().GetString("adapter")
	if configFile == "" {
		return nil, errors.New("--config is required: the config whose storage holds the spool")
	}
	if cmd.Context() == nil {
		cmd.SetContext(context.Background())
	}
	config, _, _, err := caddycmd.LoadConfig(configFile, adapter)
	if err != nil {
		return nil, err
	}
	var storageConfig struct {
		StorageRaw json.RawMessage `json:"storage,omitempty" caddy:"namespace=caddy.storage inline_key=module"`
	}
	if err := json.Unmarshal(config, &storageConfig); err != nil {
		return nil, err
	}
	if storageConfig.StorageRaw == nil {
		return caddy.DefaultStorage, nil
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	module, err := ctx.LoadModule(&storageConfig, "StorageRaw")
	if err != nil {
		return nil, err
	}
	return module.(caddy.StorageConverter).CertMagicStorage()
}
