// Package hdfstest runs a real HDFS (the dev stack's MiniDFSCluster, started
// with deploy/dev/hdfs/hdfs.sh) for integration tests, and the real `hadoop
// fs` CLI (deploy/dev/hdfs/fs.sh) against it.
//
// Every Cluster has its own NameNode port, web port and data directory, so it
// never collides with a dev HDFS on the default port or with other tests. The
// jars are shared: Start runs `hdfs.sh install` (idempotent; it resolves them
// from Maven the first time) in the shared dev cache and links them into the
// cluster's own cache. A missing Java or Maven fails the test; nothing is
// skipped.
package hdfstest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Cluster is one running (or stopped) dev HDFS.
type Cluster struct {
	// Addr is the NameNode RPC address, 127.0.0.1:PORT.
	Addr string
	// HTTPPort is the NameNode web port.
	HTTPPort int
	// Dir is the cluster's own DEV_CACHE (data, conf, logs, pid file).
	Dir string
	// Superuser is the HDFS superuser (the NameNode's user).
	Superuser string

	root    string // repository root
	port    int
	mu      sync.Mutex
	running bool
}

// Timeouts of the scripts.
var (
	StartTimeout = 4 * time.Minute
	StopTimeout  = 90 * time.Second
	FSTimeout    = 5 * time.Minute
)

// RepoRoot finds the repository root (the directory with go.mod and
// deploy/dev/hdfs/hdfs.sh) from the working directory upwards.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if fileExists(filepath.Join(dir, "go.mod")) && fileExists(filepath.Join(dir, "deploy/dev/hdfs/hdfs.sh")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no repository root (go.mod + deploy/dev/hdfs/hdfs.sh) above the working directory")
		}
		dir = parent
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// sharedCache is the dev cache where `hdfs.sh install` keeps the jars.
func sharedCache(root string) string {
	if d := os.Getenv("DEV_CACHE"); d != "" {
		return d
	}
	return filepath.Join(root, ".cache", "dev")
}

// Start installs (if needed) and starts a new cluster on free ports with its
// own data directory, and stops it (and removes its directory) when the test
// ends. It fails the test if anything goes wrong.
func Start(t testing.TB) *Cluster {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatalf("hdfstest: %v", err)
	}
	install(t, root)

	dir, err := os.MkdirTemp("", "livygate-hdfstest-")
	if err != nil {
		t.Fatalf("hdfstest: %v", err)
	}
	shared := sharedCache(root)
	if err := os.MkdirAll(filepath.Join(dir, "hdfs"), 0o755); err != nil {
		t.Fatalf("hdfstest: %v", err)
	}
	if err := os.Symlink(filepath.Join(shared, "hdfs", "lib"), filepath.Join(dir, "hdfs", "lib")); err != nil {
		t.Fatalf("hdfstest: %v", err)
	}
	c := &Cluster{Dir: dir, root: root, Superuser: "hdfs"}
	t.Cleanup(func() {
		c.stop(t)
		if t.Failed() {
			t.Logf("hdfstest: kept %s for inspection; last lines of the NameNode log:\n%s", dir, c.LogTail(40))
			return
		}
		os.RemoveAll(dir)
	})

	// Free ports can be taken between the probe and the start: retry.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		ports, err := freePorts(2)
		if err != nil {
			t.Fatalf("hdfstest: %v", err)
		}
		c.port, c.HTTPPort = ports[0], ports[1]
		c.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port))
		if lastErr = c.start(); lastErr == nil {
			return c
		}
		if !strings.Contains(lastErr.Error(), "already in use") {
			break
		}
	}
	t.Fatalf("hdfstest: %v", lastErr)
	return nil
}

// install runs `hdfs.sh install` in the shared cache, under a file lock so
// that concurrent test binaries do not resolve the jars twice at once.
func install(t testing.TB, root string) {
	t.Helper()
	if _, err := exec.LookPath("java"); err != nil && os.Getenv("JAVA_HOME") == "" {
		t.Fatalf("hdfstest: java is required to run the real HDFS (install a JDK 17, e.g. apt-get install openjdk-17-jdk-headless): %v", err)
	}
	shared := sharedCache(root)
	if err := os.MkdirAll(shared, 0o755); err != nil {
		t.Fatalf("hdfstest: %v", err)
	}
	lock, err := os.OpenFile(filepath.Join(shared, ".hdfstest-install.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatalf("hdfstest: %v", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("hdfstest: lock: %v", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(root, "deploy/dev/hdfs/hdfs.sh"), "install")
	cmd.Env = withEnv(os.Environ(), "DEV_CACHE="+shared)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("hdfstest: hdfs.sh install failed (Maven and network to Maven Central are needed the first time): %v\n%s", err, out)
	}
}

// freePorts returns n loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// env is the environment of the scripts for this cluster.
func (c *Cluster) env() []string {
	return withEnv(os.Environ(),
		"DEV_CACHE="+c.Dir,
		"HDFS_PORT="+strconv.Itoa(c.port),
		"HDFS_HTTP_PORT="+strconv.Itoa(c.HTTPPort),
		"HDFS_SUPERUSER="+c.Superuser,
		"HADOOP_USER_NAME=",
		"HADOOP_PROXY_USER=",
	)
}

// withEnv returns env with the given KEY=VALUE settings replacing any
// earlier ones; an empty value removes the variable.
func withEnv(env []string, kv ...string) []string {
	drop := map[string]bool{}
	for _, s := range kv {
		drop[s[:strings.IndexByte(s, '=')+1]] = true
	}
	out := make([]string, 0, len(env)+len(kv))
	for _, e := range env {
		if i := strings.IndexByte(e, '='); i < 0 || !drop[e[:i+1]] {
			out = append(out, e)
		}
	}
	for _, s := range kv {
		if !strings.HasSuffix(s, "=") {
			out = append(out, s)
		}
	}
	return out
}

func (c *Cluster) script(ctx context.Context, name string, env []string, args ...string) ([]byte, []byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.root, "deploy/dev/hdfs", name), args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	return stdout.Bytes(), stderr.Bytes(), err
}

func (c *Cluster) start() error {
	out, errOut, err := c.hdfsSh("start", StartTimeout, true)
	if err != nil {
		return fmt.Errorf("hdfs.sh start (port %d): %v\n%s%s\nlog tail:\n%s", c.port, err, out, errOut, c.LogTail(30))
	}
	return nil
}

// hdfsSh runs `hdfs.sh cmd` within timeout, holding the lock; once it
// succeeds the cluster is running or not as the command leaves it.
func (c *Cluster) hdfsSh(cmd string, timeout time.Duration, running bool) (stdout, stderr []byte, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	stdout, stderr, err = c.script(ctx, "hdfs.sh", c.env(), cmd)
	if err == nil {
		c.running = running
	}
	return stdout, stderr, err
}

// Restart starts a stopped cluster again (same ports, same data).
func (c *Cluster) Restart(t testing.TB) {
	t.Helper()
	if err := c.start(); err != nil {
		t.Fatalf("hdfstest: %v", err)
	}
}

// Stop stops the cluster (its data is kept, so Restart brings it back).
func (c *Cluster) Stop(t testing.TB) {
	t.Helper()
	if err := c.stop(t); err != nil {
		t.Fatalf("hdfstest: %v", err)
	}
}

func (c *Cluster) stop(t testing.TB) error {
	out, errOut, err := c.hdfsSh("stop", StopTimeout, false)
	if err != nil {
		return fmt.Errorf("hdfs.sh stop: %v\n%s%s", err, out, errOut)
	}
	return nil
}

// Running reports whether the cluster was started and not stopped.
func (c *Cluster) Running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.running
}

// LogTail returns the last n lines of the NameNode log.
func (c *Cluster) LogTail(n int) string {
	b, err := os.ReadFile(filepath.Join(c.Dir, "logs", "hdfs.log"))
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// FSAs runs the real `hadoop fs` CLI as user ("" = the superuser) with args
// and returns its stdout, stderr and error.
func (c *Cluster) FSAs(user string, args ...string) (stdout, stderr string, err error) {
	if user == "" {
		user = c.Superuser
	}
	ctx, cancel := context.WithTimeout(context.Background(), FSTimeout)
	defer cancel()
	env := withEnv(c.env(), "HADOOP_USER_NAME="+user)
	o, e, err := c.script(ctx, "fs.sh", env, args...)
	return string(o), string(e), err
}

// FS runs the real `hadoop fs` CLI as the superuser and fails the test if it
// fails; it returns stdout.
func (c *Cluster) FS(t testing.TB, args ...string) string {
	t.Helper()
	out, errOut, err := c.FSAs("", args...)
	if err != nil {
		t.Fatalf("hadoop fs %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// Entry is one line of `hadoop fs -stat`.
type Entry struct {
	Name  string // base name
	Type  string // "directory", "regular file", …
	Owner string
	Group string
	Mode  string // octal, as %a prints it: "750", "1777"
}

// IsDir tells whether the entry is a directory.
func (e Entry) IsDir() bool { return e.Type == "directory" }

// List returns the entries directly under dir, by name, as the real CLI
// sees them (`hadoop fs -stat "%F|%u|%g|%a|%n" DIR DIR/*`). An empty dir
// gives an empty map; a missing dir fails the test.
func (c *Cluster) List(t testing.TB, dir string) map[string]Entry {
	t.Helper()
	dir = strings.TrimSuffix(dir, "/")
	glob := dir + "/*"
	if dir == "" {
		dir, glob = "/", "/*"
	}
	out, errOut, err := c.FSAs("", "-stat", "%F|%u|%g|%a|%n", dir, glob)
	first, rest, _ := strings.Cut(out, "\n")
	if !strings.HasPrefix(first, "directory|") {
		t.Fatalf("hadoop fs -stat %s: not a directory or missing: %v\n%s%s", dir, err, out, errOut)
	}
	if err != nil && !(strings.Contains(errOut, "`"+glob+"': No such file or directory") && rest == "") {
		t.Fatalf("hadoop fs -stat %s: %v\n%s%s", glob, err, out, errOut)
	}
	return parseStat(t, rest)
}

// Stat returns the entries for the given paths (keyed by base name).
func (c *Cluster) Stat(t testing.TB, paths ...string) map[string]Entry {
	t.Helper()
	args := append([]string{"-stat", "%F|%u|%g|%a|%n"}, paths...)
	return parseStat(t, c.FS(t, args...))
}

func parseStat(t testing.TB, out string) map[string]Entry {
	t.Helper()
	m := map[string]Entry{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		f := strings.SplitN(line, "|", 5)
		if len(f) != 5 {
			t.Fatalf("unexpected -stat line %q", line)
		}
		m[f[4]] = Entry{Type: f[0], Owner: f[1], Group: f[2], Mode: f[3], Name: f[4]}
	}
	return m
}
