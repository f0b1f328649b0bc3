package hdfs

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestConnectRefused(t *testing.T) {
	addr := closedPort(t)
	start := time.Now()
	_, _, err := Connect([]string{addr}, "hdfs")
	if err == nil {
		t.Fatal("Connect to a closed port succeeded")
	}
	if !errors.Is(err, ErrUnavailable) || !strings.HasPrefix(err.Error(), "NameNode "+addr+" unreachable: ") ||
		!strings.Contains(err.Error(), "connection refused") {
		t.Errorf("err = %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}

func TestConnectHAAllDown(t *testing.T) {
	a, b := closedPort(t), closedPort(t)
	_, _, err := Connect([]string{a, b}, "hdfs")
	if err == nil || !errors.Is(err, ErrUnavailable) || !strings.HasPrefix(err.Error(), "NameNodes "+a+", "+b+" unreachable: ") {
		t.Errorf("err = %v", err)
	}
}

// A server that accepts and hangs up is not a NameNode: Connect must say so
// rather than hand back an FS that fails later.
func TestConnectNotANameNode(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			io.CopyN(io.Discard, c, 7) // the "hrpc" header, then hang up
			c.Close()
		}
	}()
	_, _, err = Connect([]string{l.Addr().String()}, "hdfs")
	if err == nil || !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), l.Addr().String()+" unreachable") {
		t.Errorf("err = %v", err)
	}
}

// A NameNode that never answers gives an error after rpcTimeout, not a hang.
func TestConnectHungNameNode(t *testing.T) {
	old := rpcTimeout
	rpcTimeout = 300 * time.Millisecond
	defer func() { rpcTimeout = old }()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); <-done; c.Close() }()
		}
	}()
	start := time.Now()
	_, _, err = Connect([]string{l.Addr().String()}, "hdfs")
	if err == nil || !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestConnectArguments(t *testing.T) {
	for _, tc := range []struct {
		addrs []string
		user  string
		want  string
	}{
		{nil, "hdfs", "no NameNode address"},
		{[]string{" "}, "hdfs", "empty NameNode address"},
		{[]string{"127.0.0.1:1"}, "", "no HDFS user"},
		{[]string{"a:b:c"}, "hdfs", "too many colons"},
	} {
		_, _, err := Connect(tc.addrs, tc.user)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Connect(%q, %q) = %v, want %q", tc.addrs, tc.user, err, tc.want)
		}
	}
}

func TestNormalizeAddrs(t *testing.T) {
	got, err := normalizeAddrs([]string{"nn1", " nn2:9000 ", "10.0.0.1", "[::1]", "[::1]:9820"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"nn1:8020", "nn2:9000", "10.0.0.1:8020", "[::1]:8020", "[::1]:9820"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

type remoteErr struct{}

func (remoteErr) Error() string     { return "remote" }
func (remoteErr) Method() string    { return "mkdirs" }
func (remoteErr) Desc() string      { return "ERROR_APPLICATION" }
func (remoteErr) Exception() string { return "org.apache.hadoop.ipc.RemoteException" }
func (remoteErr) Message() string   { return "boom" }

func TestIsConnErr(t *testing.T) {
	pe := func(err error) error { return &os.PathError{Op: "stat", Path: "/x", Err: err} }
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{pe(os.ErrNotExist), false},
		{pe(os.ErrPermission), false},
		{pe(os.ErrExist), false},
		{pe(syscall.ENOTEMPTY), false},
		{pe(remoteErr{}), false},
		{pe(errors.New("the file is not a directory")), false},
		{errClosed, false},
		{pe(io.EOF), true},
		{pe(io.ErrUnexpectedEOF), true},
		{pe(syscall.ECONNRESET), true},
		{pe(syscall.EPIPE), true},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, true},
		{pe(errors.New("no available namenodes: dial tcp: refused")), true},
	} {
		if got := isConnErr(tc.err); got != tc.want {
			t.Errorf("isConnErr(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestUnavailableError(t *testing.T) {
	err := fmt.Errorf("base dir /user: %w", &unavailableError{what: "NameNode h:1", err: io.EOF})
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, io.EOF) || err.Error() != "base dir /user: NameNode h:1 unreachable: EOF" {
		t.Errorf("%v", err)
	}
}
