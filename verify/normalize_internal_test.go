package verify

import (
	"testing"
	"time"
)

// appendRFC3339 against the time package: every day from 1970 to 2199 and
// every 13th day after that to 9999 (each at a different second of the
// day), the edges of the fast range, and times outside it.
func TestAppendRFC3339MatchesTimePackage(t *testing.T) {
	check := func(unix int64) {
		t.Helper()
		want := time.Unix(unix, 0).UTC().Format(time.RFC3339)
		if got := string(appendRFC3339(nil, unix)); got != want {
			t.Fatalf("%d: got %s, want %s", unix, got, want)
		}
	}
	const day = 86400
	lastDay := int64(lastFourDigitYear / day)
	for d := int64(0); d <= lastDay; d++ {
		if d > 84000 && d%13 != 0 { // 84000 days is 2199-12-24
			continue
		}
		check(d*day + d*7919%day)
	}
	for _, unix := range []int64{0, 59, 86399, 951782400, 951868800, 4107456000, lastFourDigitYear - 1, lastFourDigitYear, lastFourDigitYear + 1, 999999999999, -1, -86401} {
		check(unix)
	}
}
