package limits

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// sizeUnits are Spark's byte suffixes (JavaUtils.byteStringAs), binary.
var sizeUnits = map[string]int64{
	"b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "t": 1 << 40, "tb": 1 << 40, "p": 1 << 50, "pb": 1 << 50,
}

var sizePattern = regexp.MustCompile(`^([0-9]+)([a-z]*)$`)

// ParseSize reads a memory size as Spark does for spark.driver.memory and
// spark.executor.memory: a whole number with an optional suffix (512m, 2g,
// 2gb, 1t; case-insensitive); a bare number is MiB.
func ParseSize(s string) (int64, error) {
	m := sizePattern.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return 0, fmt.Errorf("%q is not a size like 512m or 2g", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size like 512m or 2g", s)
	}
	unit := int64(1 << 20)
	if m[2] != "" {
		u, ok := sizeUnits[m[2]]
		if !ok {
			return 0, fmt.Errorf("%q has an unknown unit %q (b, k, m, g, t, p, optionally with b)", s, m[2])
		}
		unit = u
	}
	if n > math.MaxInt64/unit {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n * unit, nil
}

// livyTimeUnits are Livy's time suffixes (ClientConf.getTimeAsMs).
var livyTimeUnits = map[string]time.Duration{
	"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second,
	"m": time.Minute, "min": time.Minute, "h": time.Hour, "d": 24 * time.Hour,
}

var livyTimePattern = regexp.MustCompile(`^(-?[0-9]+)([a-z]+)?$`)

// ParseLivyTime reads a ttl or idleTimeout as Livy does: a whole number
// with an optional suffix (us, ms, s, m, min, h, d); a bare number is
// milliseconds.
func ParseLivyTime(s string) (time.Duration, error) {
	m := livyTimePattern.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return 0, fmt.Errorf("%q is not a time like 30m, 8h or 7d", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a time like 30m, 8h or 7d", s)
	}
	unit := time.Millisecond
	if m[2] != "" {
		u, ok := livyTimeUnits[m[2]]
		if !ok {
			return 0, fmt.Errorf("%q has an unknown unit %q (us, ms, s, m, min, h, d)", s, m[2])
		}
		unit = u
	}
	if n > int64(math.MaxInt64/unit) {
		return 0, fmt.Errorf("%q is too long", s)
	}
	return time.Duration(n) * unit, nil
}

// FormatLivyTime writes d in the largest Livy unit that holds it exactly
// ("8h", "90m", "1500ms").
func FormatLivyTime(d time.Duration) string {
	for _, u := range []struct {
		suffix string
		d      time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}, {"ms", time.Millisecond}} {
		if d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(d/time.Microsecond), 10) + "us"
}
