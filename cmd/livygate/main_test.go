package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCheckConfigPrintsEveryProblem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	bad := "listen:\n  address: nope\nlivy:\n  url: ftp://x\nauth:\n  ldap:\n    url: ldap://h\nlog:\n  format: xml\n"
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI("check-config", "--config", path)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{"listen.address", "livy.url", "allow_insecure", "user_base_dn", "log.format"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("problem %q missing from:\n%s", want, stderr)
		}
	}
	if lines := strings.Count(stderr, "\n  - "); lines < 5 {
		t.Errorf("%d problem lines, want one per problem:\n%s", lines, stderr)
	}
}

func TestCheckConfigAcceptsAGoodFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "good.yaml")
	if err := os.WriteFile(path, []byte(ldapSection), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := runCLI("check-config", "--config", path); code != 0 || !strings.Contains(out, "valid") {
		t.Errorf("exit %d, out %q, err %q", code, out, stderr)
	}
}

func TestCLIErrors(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "Usage"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"check-config"}, 2, "--config FILE is required"},
		{[]string{"serve", "--config", "/does/not/exist.yaml"}, 1, "no such file"},
		{[]string{"check-config", "--config", "x", "extra"}, 2, "unexpected argument"},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
	if code, out, _ := runCLI("version"); code != 0 || !strings.HasPrefix(out, "livygate ") {
		t.Errorf("version: %d %q", code, out)
	}
}
