// Package hdfs provisions user home directories on HDFS: for every user a
// directory <BaseDir>/<user> owned by the user, with a configured group and
// mode. It talks to the NameNode over its native RPC protocol (see Connect)
// and depends on nothing else in livygate.
//
// Provision is idempotent and conservative: correct homes are left alone,
// drift is only reported unless repair is enabled, nothing is ever deleted,
// and every user gets exactly one Result saying what happened.
package hdfs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
)

// Action is what Provision did (or, in a dry run, would do) for one user.
type Action string

// The actions of a Result.
const (
	ActionCreated     Action = "created"      // home was missing and was created
	ActionUnchanged   Action = "unchanged"    // home exists and is correct
	ActionDrift       Action = "drift"        // home exists with wrong owner/group/mode, not repaired
	ActionRepaired    Action = "repaired"     // drift fixed (Options.Repair)
	ActionRefused     Action = "refused"      // user name is not a safe directory name; HDFS not touched
	ActionFailed      Action = "failed"       // something went wrong; Detail says what and what was done
	ActionWouldCreate Action = "would-create" // dry run: would be created
	ActionWouldRepair Action = "would-repair" // dry run with Repair: drift would be fixed
)

// Actions lists every Action, in the order reports show them.
var Actions = []Action{ActionCreated, ActionUnchanged, ActionDrift, ActionRepaired,
	ActionRefused, ActionFailed, ActionWouldCreate, ActionWouldRepair}

// Result is the outcome for one user.
type Result struct {
	User   string `json:"user"`
	Path   string `json:"path,omitempty"` // empty for refused names
	Action Action `json:"action"`
	// Detail says what differs (drift), why a name was refused, or which
	// step failed and what had already been done.
	Detail string `json:"detail,omitempty"`
}

// Report is the outcome of one Provision run.
type Report struct {
	// Results has one entry per distinct user, sorted by user name.
	Results []Result `json:"results"`
	// Orphans are the paths of directories under BaseDir whose name is not
	// one of the users given. They are reported, never deleted.
	Orphans []string `json:"orphans"`
}

// Count returns how many results have action a.
func (r Report) Count(a Action) int {
	n := 0
	for _, res := range r.Results {
		if res.Action == a {
			n++
		}
	}
	return n
}

// Summary is a one-line count of every action that occurred plus orphans,
// e.g. "3 users: 1 created, 2 unchanged; 0 orphans".
func (r Report) Summary() string {
	var parts []string
	for _, a := range Actions {
		if n := r.Count(a); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, a))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "nothing to do")
	}
	return fmt.Sprintf("%d users: %s; %d orphans", len(r.Results), strings.Join(parts, ", "), len(r.Orphans))
}

// FS is what the provisioner needs from HDFS. Connect returns one backed by
// the NameNode; tests use fakes. The os.FileInfo values must also provide
// Owner() and OwnerGroup() (see OwnerInfo), as colinmarc/hdfs's do.
type FS interface {
	ReadDir(dir string) ([]os.FileInfo, error)
	Stat(name string) (os.FileInfo, error)
	Mkdir(name string, perm os.FileMode) error // not MkdirAll: BaseDir must exist
	Chown(name, user, group string) error
	Chmod(name string, perm os.FileMode) error
}

// OwnerInfo is implemented by the os.FileInfo values of an FS: HDFS owner and
// group names. colinmarc/hdfs's *FileInfo implements it.
type OwnerInfo interface {
	Owner() string
	OwnerGroup() string
}

// ownerOf returns the owner and group of fi, ok false when fi does not say.
func ownerOf(fi os.FileInfo) (owner, group string, ok bool) {
	if oi, is := fi.(OwnerInfo); is {
		return oi.Owner(), oi.OwnerGroup(), true
	}
	if oi, is := fi.Sys().(OwnerInfo); is {
		return oi.Owner(), oi.OwnerGroup(), true
	}
	return "", "", false
}

// ErrUnavailable is wrapped by the errors of an FS (and of Provision) when
// the NameNode cannot be reached, as opposed to an operation it refused.
var ErrUnavailable = errors.New("NameNode unavailable")

// permBits are the mode bits compared: permissions and the sticky bit (HDFS
// reports it as 01000 in the raw permission).
const permBits = os.FileMode(0o1777)

// job is one home to create or repair.
type job struct {
	idx   int // into results
	user  string
	path  string
	fi    os.FileInfo // nil: create
	diffs drift
	// finish: the home exists with mode 0000, left by an interrupted run.
	finish bool
}

// drift is what differs between an existing home and the policy.
type drift struct {
	notADir      bool   // the entry is not a directory
	notADirDesc  string // what it is
	ownerUnknown bool   // the FS does not report owners
	empty        bool   // no difference

	owner, group, mode   bool // which ones differ
	haveOwner, haveGroup string
	wantOwner, wantGroup string
	haveMode, wantMode   os.FileMode
	chownGroup           string // group to pass to Chown when repairing
}

func (d drift) String() string {
	var s []string
	if d.owner {
		s = append(s, fmt.Sprintf("owner %s (want %s)", d.haveOwner, d.wantOwner))
	}
	if d.group {
		s = append(s, fmt.Sprintf("group %s (want %s)", d.haveGroup, d.wantGroup))
	}
	if d.mode {
		s = append(s, fmt.Sprintf("mode %04o (want %04o)", uint32(d.haveMode), uint32(d.wantMode)))
	}
	return strings.Join(s, ", ")
}

// check compares an existing entry with the policy.
func check(fi os.FileInfo, user string, o Options) drift {
	d := drift{wantOwner: user, wantGroup: o.Group, wantMode: o.Mode.Perm()}
	if !fi.IsDir() {
		d.notADir = true
		d.notADirDesc = describe(fi)
		return d
	}
	owner, group, ok := ownerOf(fi)
	if !ok {
		d.ownerUnknown = true
		return d
	}
	d.haveOwner, d.haveGroup, d.haveMode = owner, group, fi.Mode()&permBits
	d.owner = owner != user
	d.group = o.Group != "" && group != o.Group
	d.mode = d.haveMode != d.wantMode
	d.chownGroup = o.Group
	if d.chownGroup == "" {
		d.chownGroup = group // keep it
	}
	d.empty = !d.owner && !d.group && !d.mode
	return d
}

// describe says what a non-directory entry is.
func describe(fi os.FileInfo) string {
	kind := "a file"
	switch m := fi.Mode(); {
	case m&os.ModeSymlink != 0:
		kind = "a symlink"
	case m.IsRegular():
		kind = fmt.Sprintf("a file of %d bytes", fi.Size())
	}
	if owner, group, ok := ownerOf(fi); ok {
		return fmt.Sprintf("%s owned by %s:%s", kind, owner, group)
	}
	return kind
}

// Provision makes sure every user has a correct home under opts.BaseDir.
//
// User names are validated first: refused names never touch HDFS. BaseDir is
// statted and listed once, so a run that changes nothing costs a handful of
// RPCs whatever the number of users. A missing home is created with Mkdir,
// with mode 0000, then Chown(user, group), then Chmod(mode) last: a home
// left with mode 0000 by a run that was cut off is finished by the next run,
// repair or not. An existing home with the wrong owner, group
// or mode is drift, fixed only with opts.Repair. Something at a home's path
// that is not a directory is failed and left untouched. Nothing is ever
// deleted; directories under BaseDir that belong to no given user are
// reported as Orphans. A failure part way through a home is failed with a
// Detail saying what had been done. Duplicate names are provisioned once and
// Results are sorted by user.
//
// The error is nil when the run went to the end (the Report then says, per
// user, what failed). It is non-nil when the run could not start (invalid
// options, BaseDir missing or unreadable, NameNode unreachable: the Report is
// then empty) or was cut short, because ctx was cancelled or the NameNode
// became unreachable (errors.Is(err, ErrUnavailable)): then the Report is
// still complete, with every user not attempted reported as failed
// ("not attempted: …"), so nothing half-done goes unreported.
func Provision(ctx context.Context, fs FS, users []string, opts Options) (Report, error) {
	if err := opts.Validate(); err != nil {
		return Report{}, fmt.Errorf("invalid options: %w", err)
	}
	o := opts.withDefaults()
	re, err := compilePattern(o.NamePattern)
	if err != nil {
		return Report{}, err
	}
	if fs == nil {
		return Report{}, errors.New("no FS")
	}
	if o.DryRun {
		fs = readOnlyFS{fs}
	}
	if err := ctx.Err(); err != nil {
		return Report{}, fmt.Errorf("not started: %w", err)
	}

	// Distinct names, sorted.
	seen := make(map[string]struct{}, len(users))
	names := make([]string, 0, len(users))
	for _, u := range users {
		if _, dup := seen[u]; !dup {
			seen[u] = struct{}{}
			names = append(names, u)
		}
	}
	sort.Strings(names)

	// The base dir: must be a directory; its group is what new homes get
	// when no group is configured.
	base, err := fs.Stat(o.BaseDir)
	if err != nil {
		return Report{}, fmt.Errorf("base dir %s: %w", o.BaseDir, err)
	}
	if !base.IsDir() {
		return Report{}, fmt.Errorf("base dir %s is not a directory (%s)", o.BaseDir, describe(base))
	}
	_, baseGroup, _ := ownerOf(base)
	if o.Group == "" && baseGroup == "" {
		return Report{}, fmt.Errorf("base dir %s: its group is unknown, so new homes cannot inherit it; configure a group", o.BaseDir)
	}
	entries, err := fs.ReadDir(o.BaseDir)
	if err != nil {
		return Report{}, fmt.Errorf("listing base dir %s: %w", o.BaseDir, err)
	}
	existing := make(map[string]os.FileInfo, len(entries))
	for _, fi := range entries {
		existing[fi.Name()] = fi
	}

	rep := Report{Results: make([]Result, len(names)), Orphans: []string{}}
	for _, fi := range entries {
		if _, isUser := seen[fi.Name()]; !isUser && fi.IsDir() {
			rep.Orphans = append(rep.Orphans, path.Join(o.BaseDir, fi.Name()))
		}
	}
	sort.Strings(rep.Orphans)

	var jobs []job
	for i, name := range names {
		r := &rep.Results[i]
		r.User = name
		if err := ValidateName(name, re); err != nil {
			r.Action, r.Detail = ActionRefused, err.Error()
			continue
		}
		r.Path = path.Join(o.BaseDir, name)
		fi, ok := existing[name]
		if !ok {
			if o.DryRun {
				r.Action = ActionWouldCreate
				r.Detail = fmt.Sprintf("would create with owner %s, group %s, mode %04o", name, groupDesc(o.Group, baseGroup), uint32(o.Mode))
				continue
			}
			jobs = append(jobs, job{idx: i, user: name, path: r.Path})
			continue
		}
		switch {
		case fi.IsDir() && fi.Mode().Perm() == 0 && o.Mode.Perm() != 0:
			// Only this provisioner makes homes with mode 0000, and only
			// until its last step: an earlier run was cut off here.
			if o.DryRun {
				r.Action, r.Detail = ActionWouldCreate, "would finish an interrupted creation (mode 0000)"
				continue
			}
			jobs = append(jobs, job{idx: i, user: name, path: r.Path, finish: true})
		default:
			if res, d, fix := judge(fi, name, r.Path, o); fix {
				jobs = append(jobs, job{idx: i, user: name, path: r.Path, fi: fi, diffs: d})
			} else {
				*r = res
			}
		}
	}

	runErr := runJobs(ctx, fs, jobs, o, baseGroup, rep.Results)
	return rep, runErr
}

// groupDesc describes the group a new home gets.
func groupDesc(want, baseGroup string) string {
	if want != "" {
		return want
	}
	return baseGroup + " (inherited)"
}

// runJobs creates and repairs homes with at most o.Concurrency at once. It
// stops starting jobs when ctx is done or the NameNode is unavailable; the
// jobs not started are reported as failed.
func runJobs(ctx context.Context, fs FS, jobs []job, o Options, baseGroup string, results []Result) error {
	if len(jobs) == 0 {
		return nil
	}
	var (
		mu       sync.Mutex
		stopErr  error // first reason to stop starting jobs
		next     int
		wg       sync.WaitGroup
		nWorkers = min(o.Concurrency, len(jobs))
	)
	take := func() (job, bool) {
		mu.Lock()
		defer mu.Unlock()
		if stopErr == nil {
			if err := ctx.Err(); err != nil {
				stopErr = fmt.Errorf("interrupted: %w", err)
			}
		}
		if stopErr != nil || next >= len(jobs) {
			return job{}, false
		}
		j := jobs[next]
		next++
		return j, true
	}
	for w := 0; w < nWorkers; w++ {
		wg.Go(func() {
			for {
				j, ok := take()
				if !ok {
					return
				}
				var res Result
				var err error
				if j.fi == nil {
					res, err = create(fs, j, o, baseGroup)
				} else {
					res, err = repair(fs, j)
				}
				results[j.idx] = res
				if errors.Is(err, ErrUnavailable) {
					mu.Lock()
					if stopErr == nil {
						stopErr = err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if stopErr == nil {
		return nil
	}
	// Everything not started is reported.
	for _, j := range jobs[next:] {
		results[j.idx] = Result{User: j.user, Path: j.path, Action: ActionFailed,
			Detail: "not attempted: " + stopErr.Error()}
	}
	return stopErr
}

// create makes a missing home. The returned error is the one that made it
// fail, for the caller to tell an unreachable NameNode.
func create(fs FS, j job, o Options, baseGroup string) (Result, error) {
	r := Result{User: j.user, Path: j.path}
	group := o.Group
	if group == "" {
		// Chown needs a group: an empty one would set the group to "".
		group = baseGroup
	}
	if j.finish {
		// An earlier run was cut off after its mkdir: finish its work.
		return finishCreate(fs, j, o, group)
	}
	// Mode 0000 until the last step: a half-made home is closed to
	// everyone, and a home with mode 0000 can only be an interrupted
	// creation, which the next run finishes (see Provision).
	if err := fs.Mkdir(j.path, 0); err != nil {
		if errors.Is(err, os.ErrExist) {
			// Created by someone else since the listing: judge what is there.
			return recheck(fs, j, o)
		}
		r.Action, r.Detail = ActionFailed, fmt.Sprintf("mkdir failed (nothing done): %v", err)
		if errors.Is(err, ErrUnavailable) {
			r.Detail = fmt.Sprintf("mkdir failed, the directory may or may not exist: %v", err)
		}
		return r, err
	}
	return finishCreate(fs, j, o, group)
}

// finishCreate gives a home made with mode 0000 its owner, group and mode.
func finishCreate(fs FS, j job, o Options, group string) (Result, error) {
	r := Result{User: j.user, Path: j.path}
	done := "created"
	if j.finish {
		done = "found an interrupted creation (mode 0000)"
	}
	if err := fs.Chown(j.path, j.user, group); err != nil {
		r.Action, r.Detail = ActionFailed, fmt.Sprintf("%s, but chown to %s:%s failed (mode 0000 until a rerun finishes it): %v", done, j.user, group, err)
		return r, err
	}
	if err := fs.Chmod(j.path, o.Mode.Perm()); err != nil {
		r.Action, r.Detail = ActionFailed, fmt.Sprintf("%s and chowned to %s:%s, but chmod %04o failed (mode 0000 until a rerun finishes it): %v", done, j.user, group, uint32(o.Mode), err)
		return r, err
	}
	r.Action, r.Detail = ActionCreated, fmt.Sprintf("owner %s, group %s, mode %04o", j.user, group, uint32(o.Mode))
	if j.finish {
		r.Detail = "finished an interrupted creation: " + r.Detail
	}
	return r, nil
}

// recheck judges a home that appeared after the listing, by statting it.
func recheck(fs FS, j job, o Options) (Result, error) {
	r := Result{User: j.user, Path: j.path}
	fi, err := fs.Stat(j.path)
	if err != nil {
		r.Action, r.Detail = ActionFailed, fmt.Sprintf("mkdir found an existing entry, and stat failed: %v", err)
		return r, err
	}
	res, d, fix := judge(fi, j.user, j.path, o)
	if !fix {
		return res, nil
	}
	j.fi, j.diffs = fi, d
	return repair(fs, j)
}

// judge classifies an existing home. fix says drift must be repaired (repair
// on, not a dry run); otherwise the Result is final.
func judge(fi os.FileInfo, user, p string, o Options) (Result, drift, bool) {
	r := Result{User: user, Path: p}
	d := check(fi, user, o)
	switch {
	case d.notADir:
		r.Action, r.Detail = ActionFailed, fmt.Sprintf("%s exists but is %s; left untouched", p, d.notADirDesc)
	case d.ownerUnknown:
		r.Action, r.Detail = ActionFailed, "cannot tell the owner of the existing home (the FS does not report it); left untouched"
	case d.empty:
		r.Action = ActionUnchanged
	case !o.Repair:
		r.Action, r.Detail = ActionDrift, d.String()
	case o.DryRun:
		r.Action, r.Detail = ActionWouldRepair, d.String()
	default:
		return r, d, true
	}
	return r, d, false
}

// repair fixes the drift of an existing home.
func repair(fs FS, j job) (Result, error) {
	r := Result{User: j.user, Path: j.path}
	d := j.diffs
	var done []string
	if d.owner || d.group {
		if err := fs.Chown(j.path, j.user, d.chownGroup); err != nil {
			r.Action, r.Detail = ActionFailed, fmt.Sprintf("drift: %s; chown to %s:%s failed (nothing changed): %v", d, j.user, d.chownGroup, err)
			return r, err
		}
		done = append(done, fmt.Sprintf("chowned to %s:%s", j.user, d.chownGroup))
	}
	if d.mode {
		if err := fs.Chmod(j.path, d.wantMode); err != nil {
			what := "nothing changed"
			if len(done) > 0 {
				what = strings.Join(done, ", ") + ", mode unchanged"
			}
			r.Action, r.Detail = ActionFailed, fmt.Sprintf("drift: %s; chmod %04o failed (%s): %v", d, uint32(d.wantMode), what, err)
			return r, err
		}
	}
	r.Action, r.Detail = ActionRepaired, "was: "+d.String()
	return r, nil
}

// readOnlyFS refuses every change: the guard of a dry run.
type readOnlyFS struct{ FS }

var errDryRun = errors.New("dry run: no change allowed")

func (readOnlyFS) Mkdir(string, os.FileMode) error    { return errDryRun }
func (readOnlyFS) Chown(string, string, string) error { return errDryRun }
func (readOnlyFS) Chmod(string, os.FileMode) error    { return errDryRun }
