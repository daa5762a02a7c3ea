package caddymodule

import (
	"io"

	"github.com/spf13/cobra"
)

// AddCommands builds `caddy zego-callback`'s tree on cmd as registered,
// reading and writing the given streams, for tests that read what a
// command prints.
func AddCommands(cmd *cobra.Command, in io.Reader, out, errOut io.Writer) {
	streams{in: in, out: out, errOut: errOut}.addCommands(cmd)
}
