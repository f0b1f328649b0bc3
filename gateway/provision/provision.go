// Package provision runs a user sync: it reads the users from JupyterHub
// (and optionally an LDAP group), and makes sure each has a correct HDFS
// home. `livygate sync` runs it once; `livygate serve` runs it on a timer.
package provision

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/livygate/livygate/hdfs"
	"github.com/livygate/livygate/jupyterhub"
)

// HubUsers lists the Hub's users.
type HubUsers interface {
	ListUsers(ctx context.Context) ([]jupyterhub.User, error)
}

// Syncer holds what one sync needs.
type Syncer struct {
	Hub HubUsers
	// GroupMembers, when set, adds the members of an LDAP group.
	GroupMembers func(ctx context.Context) ([]string, error)
	// Connect dials HDFS; the returned func closes the connection.
	Connect  func() (hdfs.FS, func() error, error)
	Options  hdfs.Options
	LockFile string
	Now      func() time.Time
	// Gate, when set, lets Every's timed runs happen on one replica only.
	Gate Gate
}

// Run is the record of one sync.
type Run struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	DryRun   bool      `json:"dry_run"`
	// Sources counts the users each source gave before merging.
	Sources map[string]int `json:"sources"`
	Users   int            `json:"users"`
	// Summary counts results by action.
	Summary map[hdfs.Action]int `json:"summary"`
	Results []hdfs.Result       `json:"results"`
	// Orphans are homes whose user is in no source; never deleted.
	Orphans []string `json:"orphans"`
	// Error says why the run could not run at all; empty otherwise.
	Error string `json:"error,omitempty"`
}

// Exit codes of `livygate sync`.
const (
	ExitOK        = 0 // every user provisioned or already right
	ExitSomeUsers = 1 // some users refused or failed
	ExitCouldNot  = 2 // the run could not run: config, Hub, LDAP, HDFS or lock
)

// ExitCode is the run's exit code for cron.
func (r *Run) ExitCode() int {
	switch {
	case r.Error != "":
		return ExitCouldNot
	case r.Summary[hdfs.ActionRefused] > 0 || r.Summary[hdfs.ActionFailed] > 0:
		return ExitSomeUsers
	}
	return ExitOK
}

// SummaryLine is one line for logs and cron mail.
func (r *Run) SummaryLine() string {
	mode := "sync"
	if r.DryRun {
		mode = "sync (dry run)"
	}
	if r.Error != "" {
		return fmt.Sprintf("%s could not run: %s", mode, r.Error)
	}
	var parts []string
	for _, a := range hdfs.Actions {
		if n := r.Summary[a]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", a, n))
		}
	}
	if len(parts) == 0 {
		parts = []string{"no users"}
	}
	return fmt.Sprintf("%s of %d users in %s: %s; %d orphaned homes",
		mode, r.Users, r.Finished.Sub(r.Started).Round(time.Millisecond), strings.Join(parts, ", "), len(r.Orphans))
}

// ErrLocked says another sync holds the lock.
var ErrLocked = errors.New("another sync is running")

// Run performs one sync. A run that could not run at all is returned with
// its Error set, and also as the error.
func (s *Syncer) Run(ctx context.Context, dryRun bool) (*Run, error) {
	now := s.Now
	if now == nil {
		now = time.Now
	}
	run := &Run{Started: now(), DryRun: dryRun, Sources: map[string]int{}, Summary: map[hdfs.Action]int{}}
	fail := func(err error) (*Run, error) {
		run.Error = err.Error()
		run.Finished = now()
		return run, err
	}
	unlock, err := lock(s.LockFile)
	if err != nil {
		return fail(err)
	}
	defer unlock()

	users, err := s.users(ctx, run)
	if err != nil {
		return fail(err)
	}
	run.Users = len(users)
	fs, closeFS, err := s.Connect()
	if err != nil {
		return fail(fmt.Errorf("connecting to HDFS: %w", err))
	}
	defer closeFS()
	opts := s.Options
	opts.DryRun = dryRun
	report, err := hdfs.Provision(ctx, fs, users, opts)
	run.Results, run.Orphans = report.Results, report.Orphans
	for _, r := range report.Results {
		run.Summary[r.Action]++
	}
	if err != nil {
		return fail(fmt.Errorf("provisioning homes: %w", err))
	}
	run.Finished = now()
	return run, nil
}

// users merges the sources, each name once, in order.
func (s *Syncer) users(ctx context.Context, run *Run) ([]string, error) {
	hubUsers, err := s.Hub.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, u := range hubUsers {
		if u.Kind == "" || u.Kind == "user" { // services are not people
			names = append(names, u.Name)
		}
	}
	run.Sources["jupyterhub"] = len(names)
	if s.GroupMembers != nil {
		members, err := s.GroupMembers(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the LDAP group: %w", err)
		}
		run.Sources["ldap"] = len(members)
		names = append(names, members...)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// lock takes an exclusive, non-blocking lock on path and writes our pid
// into it. The kernel drops the lock if the process dies.
func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := make([]byte, 32)
		n, _ := f.Read(holder)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (lock %s held by pid %s)", ErrLocked, path, strings.TrimSpace(string(holder[:n])))
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// History keeps the last runs for the admin endpoint.
type History struct {
	mu   sync.Mutex
	max  int
	runs []*Run // newest first
}

// NewHistory keeps at most max runs.
func NewHistory(max int) *History { return &History{max: max} }

// Add records a run.
func (h *History) Add(r *Run) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.runs = append([]*Run{r}, h.runs...)
	if len(h.runs) > h.max {
		h.runs = h.runs[:h.max]
	}
}

// Runs returns the kept runs, newest first.
func (h *History) Runs() []*Run {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*Run{}, h.runs...) // [] rather than null in JSON
}

// Gate decides whether this replica runs a timed job now: with several
// gateway replicas, the one holding the job's lease (store.Singleton). A
// nil Gate runs it every time.
type Gate interface {
	Do(ctx context.Context, job func(context.Context)) bool
}

// Every runs the sync now and then every interval until ctx ends, recording
// each run and reporting it to logf. With s.Gate set, a tick runs the sync
// only when the gate lets it.
func (s *Syncer) Every(ctx context.Context, interval time.Duration, h *History, logf func(r *Run)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	run := func(ctx context.Context) {
		r, _ := s.Run(ctx, false)
		h.Add(r)
		logf(r)
	}
	for {
		if s.Gate != nil {
			s.Gate.Do(ctx, run)
		} else {
			run(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
