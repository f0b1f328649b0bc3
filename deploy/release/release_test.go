// Package release holds the test of `make release` (deploy/release/release.sh).
package release

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The release is a static binary per platform with the version built in,
// checksums that verify, and each binary's module list.
func TestReleaseBuildsStaticVersionedBinaries(t *testing.T) {
	for _, tool := range []string{"bash", "go", "sha256sum", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed: %v", tool, err)
		}
	}
	out := t.TempDir()
	cmd := exec.Command("bash", "release.sh")
	cmd.Env = append(os.Environ(), "OUT="+out, "VERSION=v9.8.7-test")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("release.sh: %v\n%s", err, b)
	}
	sums := exec.Command("sha256sum", "-c", "SHA256SUMS")
	sums.Dir = out
	if b, err := sums.CombinedOutput(); err != nil || strings.Count(string(b), ": OK") != 2 {
		t.Fatalf("checksums: %v\n%s", err, b)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		name := filepath.Join(out, "livygate-v9.8.7-test-linux-"+arch)
		modules, err := os.ReadFile(name + ".modules")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"mod\tgithub.com/livygate/livygate", "dep\tgithub.com/gorilla/mux", "build\tCGO_ENABLED=0", "build\tGOARCH=" + arch} {
			if !strings.Contains(string(modules), want) {
				t.Errorf("%s.modules lacks %q", filepath.Base(name), want)
			}
		}
	}
	v, err := exec.Command(filepath.Join(out, "livygate-v9.8.7-test-linux-amd64"), "version").Output()
	if err != nil || strings.TrimSpace(string(v)) != "livygate v9.8.7-test" {
		t.Errorf("version: %q %v", v, err)
	}
	bad := exec.Command("bash", "release.sh")
	bad.Env = append(os.Environ(), "OUT="+t.TempDir(), "VERSION=1.0; rm -rf /")
	if b, err := bad.CombinedOutput(); err == nil || !strings.Contains(string(b), "may hold only") {
		t.Errorf("a bad VERSION: %v %s", err, b)
	}
}
