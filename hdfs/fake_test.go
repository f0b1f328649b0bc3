package hdfs

import (
	"errors"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

// fakeFS is an in-memory FS for unit tests. Paths are absolute and clean.
// Like a NameNode, Mkdir gives the new directory the parent's group, the
// connecting user as owner and perm&^umask as mode.
type fakeFS struct {
	mu      sync.Mutex
	entries map[string]*fakeEntry
	umask   os.FileMode
	self    string // the connecting user

	calls    []string         // "mkdir /user/a", in order
	fail     map[string]error // "chown /user/a" → error to return
	before   func(op, name string)
	delay    time.Duration
	inFlight int
	maxIn    int
}

type fakeEntry struct {
	dir          bool
	owner, group string
	mode         os.FileMode
	size         int64
}

func newFakeFS() *fakeFS {
	f := &fakeFS{entries: map[string]*fakeEntry{}, umask: 0o022, self: "hdfs", fail: map[string]error{}}
	f.entries["/"] = &fakeEntry{dir: true, owner: "hdfs", group: "supergroup", mode: 0o755}
	f.entries["/user"] = &fakeEntry{dir: true, owner: "hdfs", group: "supergroup", mode: 0o755}
	return f
}

// put adds an entry.
func (f *fakeFS) put(p string, e fakeEntry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries[p] = &e
}

func (f *fakeFS) get(p string) (fakeEntry, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.entries[p]
	if !ok {
		return fakeEntry{}, false
	}
	return *e, true
}

// mutations returns the calls that change something.
func (f *fakeFS) mutations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var m []string
	for _, c := range f.calls {
		if !strings.HasPrefix(c, "stat ") && !strings.HasPrefix(c, "readdir ") {
			m = append(m, c)
		}
	}
	return m
}

func (f *fakeFS) callList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// enter records a call and returns the injected error, if any.
func (f *fakeFS) enter(op, name string) error {
	if f.before != nil {
		f.before(op, name)
	}
	f.mu.Lock()
	f.calls = append(f.calls, op+" "+name)
	err := f.fail[op+" "+name]
	f.inFlight++
	f.maxIn = max(f.maxIn, f.inFlight)
	d := f.delay
	f.mu.Unlock()
	if d > 0 {
		time.Sleep(d)
	}
	return err
}

func (f *fakeFS) leave() {
	f.mu.Lock()
	f.inFlight--
	f.mu.Unlock()
}

// call records a call and, unless an error is injected for it, runs do
// with the lock held.
func (f *fakeFS) call(op, name string, do func() error) error {
	err := f.enter(op, name)
	defer f.leave()
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return do()
}

// entry is name's entry, or op's "does not exist" error. f.mu is held.
func (f *fakeFS) entry(op, name string) (*fakeEntry, error) {
	e, ok := f.entries[name]
	if !ok {
		return nil, &os.PathError{Op: op, Path: name, Err: os.ErrNotExist}
	}
	return e, nil
}

func (f *fakeFS) ReadDir(dir string) ([]os.FileInfo, error) {
	var out []os.FileInfo
	err := f.call("readdir", dir, func() error {
		e, err := f.entry("open", dir)
		if err != nil {
			return err
		}
		if !e.dir {
			return &os.PathError{Op: "readdir", Path: dir, Err: errors.New("the file is not a directory")}
		}
		for p, e := range f.entries {
			if p != "/" && path.Dir(p) == dir {
				out = append(out, fakeInfo{name: path.Base(p), e: *e})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

func (f *fakeFS) Stat(name string) (os.FileInfo, error) {
	var info os.FileInfo
	err := f.call("stat", name, func() error {
		e, err := f.entry("stat", name)
		if err == nil {
			info = fakeInfo{name: path.Base(name), e: *e}
		}
		return err
	})
	return info, err
}

func (f *fakeFS) Mkdir(name string, perm os.FileMode) error {
	return f.call("mkdir", name, func() error {
		if _, ok := f.entries[name]; ok {
			return &os.PathError{Op: "mkdir", Path: name, Err: os.ErrExist}
		}
		parent, ok := f.entries[path.Dir(name)]
		if !ok || !parent.dir {
			return &os.PathError{Op: "mkdir", Path: name, Err: os.ErrNotExist}
		}
		f.entries[name] = &fakeEntry{dir: true, owner: f.self, group: parent.group, mode: perm &^ f.umask}
		return nil
	})
}

func (f *fakeFS) Chown(name, user, group string) error {
	return f.call("chown", name, func() error {
		e, err := f.entry("chown", name)
		if err == nil {
			e.owner, e.group = user, group
		}
		return err
	})
}

func (f *fakeFS) Chmod(name string, perm os.FileMode) error {
	return f.call("chmod", name, func() error {
		e, err := f.entry("chmod", name)
		if err == nil {
			e.mode = perm
		}
		return err
	})
}

// fakeInfo is the os.FileInfo of fakeFS; like colinmarc's it has Owner and
// OwnerGroup.
type fakeInfo struct {
	name string
	e    fakeEntry
}

func (i fakeInfo) Name() string { return i.name }
func (i fakeInfo) Size() int64  { return i.e.size }
func (i fakeInfo) Mode() os.FileMode {
	if i.e.dir {
		return i.e.mode | os.ModeDir
	}
	return i.e.mode
}
func (i fakeInfo) ModTime() time.Time { return time.Time{} }
func (i fakeInfo) IsDir() bool        { return i.e.dir }
func (i fakeInfo) Sys() any           { return nil }
func (i fakeInfo) Owner() string      { return i.e.owner }
func (i fakeInfo) OwnerGroup() string { return i.e.group }

var _ OwnerInfo = fakeInfo{}
