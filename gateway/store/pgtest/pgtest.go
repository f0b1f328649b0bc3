//go:build integration

// Package pgtest runs a private PostgreSQL server (Debian's postgresql
// binaries) for integration tests: a fresh cluster in a temporary
// directory, listening on a free loopback port only, with a random
// superuser password, stopped when the test ends. Each test then asks for
// a database of its own with NewDatabase.
//
// PostgreSQL must be installed (`make deps`, or deploy/dev/postgres.sh
// install); without it Start fails the test. It never skips. PostgreSQL
// refuses to run as root, so under root the server runs as the system
// "postgres" user (created by the Debian package), or "nobody".
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// Server is a running PostgreSQL.
type Server struct {
	// Addr is 127.0.0.1:PORT.
	Addr     string
	User     string
	Password string
	// Dir holds the cluster (data/) and the server's log (postgres.log).
	Dir string

	cmd     *exec.Cmd
	exited  chan struct{}
	nextDB  atomic.Int64
	t       testing.TB
	binDir  string
	runAs   *syscall.Credential
	logFile string
	opts    options
	port    int
}

// Option changes how Start runs the server.
type Option func(*options)

type options struct{ durable bool }

// Durable keeps PostgreSQL's own defaults (fsync and synchronous commit
// on), for benchmarks; tests run without them, which is faster and loses
// nothing a test needs.
func Durable() Option { return func(o *options) { o.durable = true } }

// BinDir finds the directory of initdb and postgres: PATH first, then the
// newest /usr/lib/postgresql/*/bin.
func BinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return versionOf(b) - versionOf(a) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("PostgreSQL is missing: run `make deps` (it runs deploy/dev/postgres.sh install); no initdb on PATH or in /usr/lib/postgresql/*/bin")
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// Start runs a fresh PostgreSQL for this test and stops it at t.Cleanup.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	bin, err := BinDir()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	s := &Server{t: t, binDir: bin, User: "livygate", Password: randomHex(16), opts: o}
	if s.runAs, err = unprivileged(); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	s.Dir = s.privateDir()
	s.initdb()
	// A free port can be taken between our probe and the server's bind; retry.
	for attempt := 0; attempt < 3; attempt++ {
		if err := s.start(o); err == nil {
			t.Cleanup(s.stop)
			return s
		} else if attempt == 2 {
			t.Fatalf("pgtest: PostgreSQL did not start: %v\n%s", err, s.logTail())
		}
	}
	return nil
}

// unprivileged is the user to run PostgreSQL as when the test runs as root
// (nil otherwise: the current user).
func unprivileged() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, fmt.Errorf("running as root and neither a postgres nor a nobody user exists to run PostgreSQL as")
}

// privateDir is a new directory the server's user owns. It is not under
// t.TempDir, whose parents are private to the test's own user.
func (s *Server) privateDir() string {
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		s.t.Fatalf("pgtest: %v", err)
	}
	s.t.Cleanup(func() { os.RemoveAll(dir) })
	if s.runAs != nil {
		if err := os.Chown(dir, int(s.runAs.Uid), int(s.runAs.Gid)); err != nil {
			s.t.Fatalf("pgtest: %v", err)
		}
	}
	s.logFile = filepath.Join(dir, "postgres.log")
	return dir
}

// command runs a PostgreSQL binary as the server's user.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.binDir, name), args...)
	cmd.Dir = s.Dir
	cmd.Env = []string{"LC_ALL=C", "PATH=" + os.Getenv("PATH")}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.runAs}
	return cmd
}

func (s *Server) initdb() {
	pwfile := filepath.Join(s.Dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(s.Password+"\n"), 0o600); err != nil {
		s.t.Fatalf("pgtest: %v", err)
	}
	if s.runAs != nil {
		_ = os.Chown(pwfile, int(s.runAs.Uid), int(s.runAs.Gid))
	}
	out, err := s.command("initdb", "-D", filepath.Join(s.Dir, "data"), "-U", s.User, "--pwfile", pwfile,
		"--auth-host=scram-sha-256", "--auth-local=reject", "-E", "UTF8", "--no-locale", "--no-sync").CombinedOutput()
	os.Remove(pwfile)
	if err != nil {
		s.t.Fatalf("pgtest: initdb: %v\n%s", err, out)
	}
}

func (s *Server) start(o options) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return s.run(o)
}

// run starts postgres on s.port and waits until it answers.
func (s *Server) run(o options) error {
	port := s.port
	args := []string{"-D", filepath.Join(s.Dir, "data"), "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=50"}
	if !o.durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	log, err := os.OpenFile(s.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := s.command("postgres", args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(s.exited) }()
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return s.waitReady()
}

// waitReady polls until the server answers a query, or gives up when it
// exits or takes more than 30 s.
func (s *Server) waitReady() error {
	db, err := sql.Open("pgx", s.DSN("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("postgres exited: %v", s.cmd.ProcessState)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return fmt.Errorf("not ready after 30 s: %w", err)
		}
	}
}

// Stop stops the server (its data is kept, so Restart brings it back), as
// an outage of the database does. The test's cleanup stops it too.
func (s *Server) Stop() { s.stop() }

// Restart starts a stopped server again on the same port with the same
// data, and waits until it answers.
func (s *Server) Restart() {
	select {
	case <-s.exited:
	default:
		return
	}
	if err := s.run(s.opts); err != nil {
		s.t.Fatalf("pgtest: restarting PostgreSQL: %v\n%s", err, s.logTail())
	}
}

// stop asks for a fast shutdown (SIGINT: sessions are cut, nothing is
// lost) and kills the server if it is not gone within 10 s.
func (s *Server) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		s.t.Errorf("pgtest: PostgreSQL did not stop within 10 s; killed\n%s", s.logTail())
	}
}

// DSN is the URL of database name on this server, with the password.
func (s *Server) DSN(name string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(s.User, s.Password), Host: s.Addr, Path: "/" + name,
		RawQuery: "sslmode=disable&connect_timeout=5"}
	return u.String()
}

// NewDatabase creates an empty database for one test and returns its DSN.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("test%d", s.nextDB.Add(1))
	db, err := sql.Open("pgx", s.DSN("postgres"))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("pgtest: creating database %s: %v", name, err)
	}
	return s.DSN(name)
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(s.logFile)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
