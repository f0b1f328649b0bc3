package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livygate/livygate/gateway/store"
	"github.com/livygate/livygate/gateway/token"
)

// tokensConfig is the store: (at db) and tokens: sections of a gateway that
// mints tokens for audience s3, signed with keyFile (alg).
func tokensConfig(db, keyFile, alg string) string {
	return fmt.Sprintf(`store: {path: %q}
tokens:
  enabled: true
  issuer: https://livygate.test
  audience: [s3]
  signing_key: {file: %q, algorithm: %s}
`, db, keyFile, alg)
}

// `keys generate` then `token mint`: the token verifies with the key, the
// file is 0600, the mint is recorded in the store, and the token is printed
// nowhere.
func TestKeysGenerateAndTokenMint(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "k.pem")
	var out, errOut bytes.Buffer
	if code := run([]string{"keys", "generate", "--algorithm", "EdDSA", "--out", keyFile}, &out, &errOut); code != 0 {
		t.Fatalf("keys generate: %d %s", code, errOut.String())
	}
	if st, err := os.Stat(keyFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	if code := run([]string{"keys", "generate", "--out", keyFile}, &out, &errOut); code != 1 {
		t.Errorf("generating over an existing key: exit %d, want 1", code)
	}
	hubToken := writeTestFile(t, dir, "hub", "x")
	db := filepath.Join(dir, "livygate.db")
	cfg := writeTestFile(t, dir, "c.yaml", fmt.Sprintf(`
auth: {hub_token: {enabled: true}}
jupyterhub: {url: "http://127.0.0.1:9", token: {file: %q}}
`, hubToken)+tokensConfig(db, keyFile, "EdDSA"))
	tokFile := filepath.Join(dir, "alice.jwt")
	errOut.Reset()
	if code := run([]string{"token", "mint", "--config", cfg, "--user", "alice", "--groups", "analysts,etl", "--out", tokFile}, &out, &errOut); code != 0 {
		t.Fatalf("token mint: %d %s", code, errOut.String())
	}
	tok, err := os.ReadFile(tokFile)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(tokFile); st.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v", st.Mode().Perm())
	}
	if strings.Contains(out.String()+errOut.String(), string(tok)) {
		t.Error("the token was printed")
	}
	pem, _ := os.ReadFile(keyFile)
	key, err := token.ParsePrivateKey(pem, "EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	ks := token.NewKeySet(60e9, nil)
	if err := ks.Load(token.Loaded{Key: key}, nil); err != nil {
		t.Fatal(err)
	}
	v, err := token.NewMinter(ks, token.Options{Issuer: "https://livygate.test", Audience: []string{"s3"},
		GroupClaims: []token.GroupClaim{{Name: "groups"}}}).Verify(string(tok))
	if err != nil || v.User != "alice" || strings.Join(v.Groups, ",") != "analysts,etl" {
		t.Fatalf("minted token: %+v %v", v, err)
	}
	st, err := store.OpenSQLite(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	mints, err := st.Mints(context.Background(), 10)
	if err != nil || len(mints) != 1 || mints[0].User != "alice" || mints[0].JTI != v.ID || mints[0].Kid != key.ID {
		t.Errorf("store mints: %+v %v", mints, err)
	}
	// Missing flags are a usage error; tokens off is a plain failure.
	if code := run([]string{"token", "mint", "--config", cfg, "--user", "alice"}, &out, &errOut); code != 2 {
		t.Errorf("no --out: exit %d, want 2", code)
	}
}
