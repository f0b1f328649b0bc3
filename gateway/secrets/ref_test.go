package secrets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeSecretFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRefSources(t *testing.T) {
	file := writeSecretFile(t, "hunter2\n")
	if v, err := (Ref{File: file}).Resolve(); err != nil || v != "hunter2" {
		t.Errorf("file secret: %q %v", v, err)
	}
	t.Setenv("LG_TEST_SECRET", "s3")
	if v, err := (Ref{Env: "LG_TEST_SECRET"}).Resolve(); err != nil || v != "s3" {
		t.Errorf("env secret: %q %v", v, err)
	}
	_, err := (Ref{Env: "LG_TEST_MISSING"}).Resolve()
	if err == nil || !strings.Contains(err.Error(), "LG_TEST_MISSING") {
		t.Errorf("missing env: %v", err)
	}
	if _, err := (Ref{File: file, Env: "X"}).Resolve(); err == nil {
		t.Error("both sources accepted")
	}
	empty := writeSecretFile(t, "\n")
	if _, err := (Ref{File: empty}).Resolve(); err == nil {
		t.Error("empty secret file accepted")
	}
}
