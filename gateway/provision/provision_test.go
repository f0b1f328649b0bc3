package provision

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livygate/livygate/hdfs"
	"github.com/livygate/livygate/jupyterhub"
)

type fakeHub struct {
	users []jupyterhub.User
	err   error
}

func (f fakeHub) ListUsers(context.Context) ([]jupyterhub.User, error) { return f.users, f.err }

// memFS is an in-memory HDFS: directories with owner, group and mode. The
// provisioner calls it from several workers, so it locks.
type memFS struct {
	mu   sync.Mutex
	dirs map[string]*memInfo
}

type memInfo struct {
	name, owner, group string
	mode               os.FileMode
}

func (m *memInfo) Name() string       { return m.name }
func (m *memInfo) Size() int64        { return 0 }
func (m *memInfo) Mode() os.FileMode  { return os.ModeDir | m.mode }
func (m *memInfo) ModTime() time.Time { return time.Time{} }
func (m *memInfo) IsDir() bool        { return true }
func (m *memInfo) Sys() any           { return nil }
func (m *memInfo) Owner() string      { return m.owner }
func (m *memInfo) OwnerGroup() string { return m.group }

func newMemFS() *memFS {
	return &memFS{dirs: map[string]*memInfo{"/user": {name: "user", owner: "hdfs", group: "supergroup", mode: 0o755}}}
}

func (f *memFS) ReadDir(dir string) ([]os.FileInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []os.FileInfo
	for p, d := range f.dirs {
		if filepath.Dir(p) == dir && p != dir {
			out = append(out, d)
		}
	}
	return out, nil
}

func (f *memFS) Stat(name string) (os.FileInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d, ok := f.dirs[name]; ok {
		return d, nil
	}
	return nil, os.ErrNotExist
}

func (f *memFS) Mkdir(name string, perm os.FileMode) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dirs[name] = &memInfo{name: filepath.Base(name), owner: "hdfs", group: "supergroup", mode: perm}
	return nil
}

func (f *memFS) Chown(name, user, group string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dirs[name].owner, f.dirs[name].group = user, group
	return nil
}

func (f *memFS) Chmod(name string, perm os.FileMode) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dirs[name].mode = perm
	return nil
}

func newSyncer(t *testing.T, hub HubUsers, fs *memFS) *Syncer {
	t.Helper()
	return &Syncer{
		Hub:      hub,
		Connect:  func() (hdfs.FS, func() error, error) { return fs, func() error { return nil }, nil },
		Options:  hdfs.Options{BaseDir: "/user", Group: "analysts", Mode: 0o750, Concurrency: 2},
		LockFile: filepath.Join(t.TempDir(), "sync.lock"),
	}
}

func TestRunMergesSourcesAndReports(t *testing.T) {
	fs := newMemFS()
	fs.dirs["/user/gone"] = &memInfo{name: "gone", owner: "gone", group: "analysts", mode: 0o750}
	hub := fakeHub{users: []jupyterhub.User{{Name: "alice"}, {Name: "bob"}, {Name: "svc", Kind: "service"}, {Name: "../etc"}}}
	s := newSyncer(t, hub, fs)
	s.GroupMembers = func(context.Context) ([]string, error) { return []string{"bob", "dave"}, nil }

	run, err := s.Run(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if run.Users != 4 || run.Sources["jupyterhub"] != 3 || run.Sources["ldap"] != 2 {
		t.Errorf("users %d, sources %v", run.Users, run.Sources)
	}
	if run.Summary[hdfs.ActionCreated] != 3 || run.Summary[hdfs.ActionRefused] != 1 {
		t.Errorf("summary %v", run.Summary)
	}
	if len(run.Orphans) != 1 || !strings.HasSuffix(run.Orphans[0], "gone") {
		t.Errorf("orphans %v", run.Orphans)
	}
	if run.ExitCode() != ExitSomeUsers {
		t.Errorf("exit %d with a refused name, want 1", run.ExitCode())
	}
	if d := fs.dirs["/user/dave"]; d == nil || d.owner != "dave" || d.group != "analysts" || d.mode != 0o750 {
		t.Errorf("dave's home: %+v", d)
	}
	if line := run.SummaryLine(); !strings.Contains(line, "created 3") || !strings.Contains(line, "refused 1") || !strings.Contains(line, "1 orphaned") {
		t.Errorf("summary line %q", line)
	}
	if _, ok := fs.dirs["/user/svc"]; ok {
		t.Error("a Hub service got a home")
	}

	s.GroupMembers = nil
	s.Hub = fakeHub{users: []jupyterhub.User{{Name: "alice"}, {Name: "bob"}, {Name: "dave"}}}
	again, _ := s.Run(context.Background(), false)
	if again.Summary[hdfs.ActionUnchanged] != 3 || again.ExitCode() != ExitOK {
		t.Errorf("rerun: %v exit %d", again.Summary, again.ExitCode())
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	fs := newMemFS()
	s := newSyncer(t, fakeHub{users: []jupyterhub.User{{Name: "alice"}}}, fs)
	run, err := s.Run(context.Background(), true)
	if err != nil || run.Summary[hdfs.ActionWouldCreate] != 1 || len(fs.dirs) != 1 {
		t.Errorf("dry run: %v %v, dirs %d", run.Summary, err, len(fs.dirs))
	}
	if !strings.Contains(run.SummaryLine(), "dry run") {
		t.Errorf("summary %q", run.SummaryLine())
	}
}

func TestCouldNotRun(t *testing.T) {
	hubDown := fakeHub{err: jupyterhub.ErrUnreachable}
	s := newSyncer(t, hubDown, newMemFS())
	run, err := s.Run(context.Background(), false)
	if err == nil || run.ExitCode() != ExitCouldNot || !strings.Contains(run.SummaryLine(), "could not run") {
		t.Errorf("hub down: %v, exit %d, %q", err, run.ExitCode(), run.SummaryLine())
	}
	s = newSyncer(t, fakeHub{users: []jupyterhub.User{{Name: "a"}}}, newMemFS())
	s.Connect = func() (hdfs.FS, func() error, error) { return nil, nil, errors.New("NameNode unreachable") }
	if run, _ := s.Run(context.Background(), false); run.ExitCode() != ExitCouldNot || !strings.Contains(run.Error, "NameNode") {
		t.Errorf("hdfs down: %+v", run)
	}
}

func TestLockKeepsRunsApart(t *testing.T) {
	s := newSyncer(t, fakeHub{users: []jupyterhub.User{{Name: "a"}}}, newMemFS())
	unlock, err := lock(s.LockFile)
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.Run(context.Background(), false)
	if !errors.Is(err, ErrLocked) || run.ExitCode() != ExitCouldNot || !strings.Contains(run.Error, "pid") {
		t.Errorf("overlapping run: %v %+v", err, run)
	}
	unlock()
	if _, err := s.Run(context.Background(), false); err != nil {
		t.Errorf("after unlock: %v", err)
	}
}

func TestHistoryKeepsNewestFirst(t *testing.T) {
	h := NewHistory(2)
	for i := range 3 {
		h.Add(&Run{Users: i})
	}
	runs := h.Runs()
	if len(runs) != 2 || runs[0].Users != 2 || runs[1].Users != 1 {
		t.Errorf("history %+v", runs)
	}
}

func TestEveryRunsUntilCancelled(t *testing.T) {
	s := newSyncer(t, fakeHub{users: []jupyterhub.User{{Name: "alice"}}}, newMemFS())
	h := NewHistory(10)
	ctx, cancel := context.WithCancel(context.Background())
	runs := make(chan *Run, 10)
	done := make(chan struct{})
	go func() {
		s.Every(ctx, 20*time.Millisecond, h, func(r *Run) { runs <- r })
		close(done)
	}()
	first, second := <-runs, <-runs
	cancel()
	<-done
	if first.Summary[hdfs.ActionCreated] != 1 || second.Summary[hdfs.ActionUnchanged] != 1 {
		t.Errorf("runs: %v then %v", first.Summary, second.Summary)
	}
	if len(h.Runs()) < 2 || h.Runs()[0] == first {
		t.Errorf("history: %d runs, newest first expected", len(h.Runs()))
	}
}
