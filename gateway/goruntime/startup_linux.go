package goruntime

import (
	"bufio"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"syscall"
)

// ReleaseStartupPages unmaps the executable's read-only pages (code and
// constant data) from this process; the ones still used are mapped again
// on their next use. Start-up runs the initialisation of every package
// once, and the kernel maps 64 KiB around each page it touches: ~20 MB of
// the binary stayed resident, of which serving uses ~14 (README,
// Performance). The pages stay in the page cache: nothing is read from
// disk again.
func ReleaseStartupPages() error {
	maps, err := os.Open("/proc/self/maps")
	if err != nil {
		return err
	}
	defer maps.Close()
	self := uint64(reflect.ValueOf(ReleaseStartupPages).Pointer())
	type mapping struct {
		start, end  uint64
		perms, file string
	}
	var all []mapping
	exe := ""
	s := bufio.NewScanner(maps)
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) < 6 {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil {
			return fmt.Errorf("reading /proc/self/maps: bad range %q", f[0])
		}
		m := mapping{start, end, f[1], strings.Join(f[5:], " ")}
		all = append(all, m)
		if start <= self && self < end {
			exe = m.file
		}
	}
	if err := s.Err(); err != nil {
		return err
	}
	if exe == "" {
		return fmt.Errorf("the executable's mapping is not in /proc/self/maps")
	}
	for _, m := range all {
		if m.file != exe || strings.Contains(m.perms, "w") {
			continue
		}
		// Private read-only file pages: dropping them loses nothing.
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, uintptr(m.start), uintptr(m.end-m.start), syscall.MADV_DONTNEED); errno != 0 {
			return fmt.Errorf("madvise: %w", errno)
		}
	}
	return nil
}
