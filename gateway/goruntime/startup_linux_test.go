package goruntime

import (
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// executableRSS is the resident kB of the mappings of this test binary's
// read-only pages, from /proc/self/smaps.
func executableRSS(t *testing.T) int {
	t.Helper()
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	self := uint64(reflect.ValueOf(executableRSS).Pointer())
	exe, inExe, total := "", false, 0
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 6 && strings.Contains(f[0], "-") {
			lo, hi, _ := strings.Cut(f[0], "-")
			start, _ := strconv.ParseUint(lo, 16, 64)
			end, _ := strconv.ParseUint(hi, 16, 64)
			if start <= self && self < end {
				exe = f[5]
			}
			inExe = f[5] == exe && exe != "" && !strings.Contains(f[1], "w")
			continue
		}
		if inExe && len(f) == 3 && f[0] == "Rss:" {
			kb, _ := strconv.Atoi(f[1])
			total += kb
		}
	}
	if exe == "" {
		t.Fatal("the test binary's mapping is not in /proc/self/smaps")
	}
	return total
}

func TestReleaseStartupPagesShrinksTheResidentExecutable(t *testing.T) {
	before := executableRSS(t)
	if err := ReleaseStartupPages(); err != nil {
		t.Fatal(err)
	}
	after := executableRSS(t)
	t.Logf("executable's read-only pages resident: %d kB before, %d kB after", before, after)
	if after >= before*3/4 {
		t.Errorf("resident executable pages went from %d to %d kB; want a quarter less at least", before, after)
	}
}
