package verify

import (
	"math"
	"strconv"
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

func TestAppendDecimalMatchesStrconv(t *testing.T) {
	for _, n := range []int64{0, 1, 9, 10, 99, 100, 1234567890, math.MaxInt64, math.MinInt64, -1, -10, -70000, 1 << 53} {
		if got, want := string(appendInteger(nil, n)), strconv.FormatInt(n, 10); got != want {
			t.Errorf("appendInteger(%d) = %s", n, got)
		}
	}
	check := func(n uint64) {
		t.Helper()
		if got, want := string(appendDecimal([]byte("x"), n)), "x"+strconv.FormatUint(n, 10); got != want {
			t.Errorf("appendDecimal(%d) = %s", n, got)
		}
	}
	for _, n := range []uint64{0, 7, 4294967295, math.MaxUint64} {
		check(n)
	}
	for n := range uint64(100_000) {
		check(n)
	}
	for p := uint64(10); p <= 1e19; p *= 10 { // each length's edges
		check(p - 1)
		check(p)
		check(p + 1)
	}
}

// appendTimestamp writes what appendInteger does, whatever digits were
// received for the timestamp.
func TestAppendTimestampMatchesAppendInteger(t *testing.T) {
	for _, tc := range []struct {
		raw     string
		seconds int64
	}{
		{"1755569980", 1755569980}, {"0", 0}, {"7", 7}, {"0001755569980", 1755569980}, {"1755569980123", 1755569980},
		{"1755569980", 1755569981}, {"", 5}, {"00", 0}, {"9999999999999", 9999999999},
	} {
		c := Callback{rawTimestamp: tc.raw, Timestamp: tc.seconds}
		if got, want := string(c.appendTimestamp(nil)), strconv.FormatInt(tc.seconds, 10); got != want {
			t.Errorf("%q, %d: %s, want %s", tc.raw, tc.seconds, got, want)
		}
	}
}
