//go:build !linux

package goruntime

// ReleaseStartupPages does nothing where /proc/self/maps does not exist.
func ReleaseStartupPages() error { return nil }
