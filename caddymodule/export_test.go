package caddymodule

import (
	"io"
	"time"

	"github.com/spf13/cobra"
)

// AddCommands builds `caddy zego-callback`'s tree on cmd as registered,
// reading and writing the given streams, for tests that read what a
// command prints.
func AddCommands(cmd *cobra.Command, in io.Reader, out, errOut io.Writer) {
	streams{in: in, out: out, errOut: errOut}.addCommands(cmd)
}

// SetSyncRetryWindow sets how long a synchronous callback's signature may
// come again after its first ask, and returns a func that restores it.
func SetSyncRetryWindow(d time.Duration) (restore func()) {
	old := syncRetryWindow
	syncRetryWindow = d
	return func() { syncRetryWindow = old }
}

// SetClock makes now the clock of the handlers configs provision from here
// on, and returns a func that restores the wall clock.
func SetClock(now func() time.Time) (restore func()) {
	old := wallClock
	wallClock = now
	return func() { wallClock = old }
}
