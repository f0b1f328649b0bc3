//go:build integration

package hdfs

import (
	"errors"
	"strings"
	"testing"

	"github.com/livygate/livygate/hdfs/hdfstest"
)

// The token file in a real home: written by the superuser over RPC, then
// checked with the real `hadoop fs` CLI as the owner, as another user and
// as the superuser.
func TestIntegrationWriteUserFile(t *testing.T) {
	c := hdfstest.Start(t)
	fs, done, err := ConnectFiles([]string{c.Addr}, c.Superuser)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	if _, err := Provision(t.Context(), fs, []string{"alice", "bob"}, Options{}); err != nil {
		t.Fatal(err)
	}

	p, err := WriteUserFile(fs, "/user/alice", ".livygate", "token", "alice", []byte("first-token"))
	if err != nil || p != "/user/alice/.livygate/token" {
		t.Fatalf("WriteUserFile = %q, %v", p, err)
	}
	// Replaced atomically, and no temporary file left behind.
	if _, err := WriteUserFile(fs, "/user/alice", ".livygate", "token", "alice", []byte("second-token")); err != nil {
		t.Fatal(err)
	}
	entries := c.List(t, "/user/alice/.livygate")
	if len(entries) != 1 {
		t.Errorf("entries in .livygate: %v, want only token", entries)
	}
	tok := entries["token"]
	if tok.Owner != "alice" || tok.Mode != "600" || tok.Type != "regular file" {
		t.Errorf("token file is %+v, want a regular file alice, mode 600", tok)
	}
	dir := c.Stat(t, "/user/alice/.livygate")[".livygate"]
	if dir.Owner != "alice" || dir.Mode != "700" {
		t.Errorf(".livygate is %+v, want alice, mode 700", dir)
	}
	if out, errOut, err := c.FSAs("alice", "-cat", "/user/alice/.livygate/token"); err != nil || out != "second-token" {
		t.Errorf("alice reads %q (%v %s), want the second token", out, err, errOut)
	}
	out, errOut, err := c.FSAs("bob", "-cat", "/user/alice/.livygate/token")
	if err == nil || strings.Contains(out, "token") || !strings.Contains(errOut, "Permission denied") {
		t.Errorf("bob reads alice's token: %q, %v, %s", out, err, errOut)
	}

	// No home, or a home someone else owns: refused, nothing written.
	if _, err := WriteUserFile(fs, "/user/carol", ".livygate", "token", "carol", []byte("x")); !errors.Is(err, ErrNoHome) {
		t.Errorf("no home: %v, want ErrNoHome", err)
	}
	if _, err := WriteUserFile(fs, "/user/bob", ".livygate", "token", "alice", []byte("x")); !errors.Is(err, ErrNoHome) {
		t.Errorf("bob's home for alice: %v, want ErrNoHome", err)
	}
	if got := c.List(t, "/user/bob"); len(got) != 0 {
		t.Errorf("bob's home holds %v after a refused write", got)
	}
}
