package hdfs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	upper := regexp.MustCompile(`^[A-Za-z]+$`)
	tests := []struct {
		name    string
		pattern *regexp.Regexp
		want    string // substring of the error; "" means valid
	}{
		{"alice", nil, ""},
		{"a", nil, ""},
		{"_svc", nil, ""},
		{"jean.dupont", nil, ""},
		{"x-y_z.9", nil, ""},
		{strings.Repeat("a", 64), nil, ""},
		{"", nil, "empty"},
		{".", nil, "relative path component"},
		{"..", nil, "relative path component"},
		{"a/b", nil, "contains '/'"},
		{"../x", nil, "contains '/'"},
		{"/etc", nil, "contains '/'"},
		{"x\n", nil, "control character (U+000A)"},
		{"\x00", nil, "control character (U+0000)"},
		{"a\tb", nil, "control character"},
		{"bell\a", nil, "control character"},
		{"del\x7f", nil, "control character"},
		{"c1\u0085", nil, "control character"},
		{"bad\xffutf8", nil, "not valid UTF-8"},
		{"ａlice", nil, "does not match"}, // full-width a
		{"ü", nil, "does not match"},
		{"Alice", nil, "does not match"},
		{"a b", nil, "does not match"},
		{"-rf", nil, "does not match"},
		{"1abc", nil, "does not match"},
		{"a:b", nil, "contains ':'"},
		{strings.Repeat("a", 65), nil, "does not match"},
		{strings.Repeat("a", 300), nil, "300 bytes long"},
		{strings.Repeat("a", 300), regexp.MustCompile(`^a+$`), "over the limit of 255"},
		{"Alice", upper, ""},
		{"alice", upper, ""},
		{"al1ce", upper, "does not match"},
		{"ü", regexp.MustCompile(`^.+$`), ""},
		{"ａlice", regexp.MustCompile(`^.+$`), ""},
		{"a/b", regexp.MustCompile(`^.+$`), "contains '/'"}, // checks hold whatever the pattern
		{"..", regexp.MustCompile(`^.+$`), "relative path component"},
		{"x\n", regexp.MustCompile(`(?s)^.+$`), "control character"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%.20q", tc.name), func(t *testing.T) {
			err := ValidateName(tc.name, tc.pattern)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("ValidateName(%q) = %v, want nil", tc.name, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ValidateName(%q) = %v, want an error containing %q", tc.name, err, tc.want)
			}
			if len(err.Error()) > 200 {
				t.Errorf("error too long (%d bytes): %s", len(err.Error()), err)
			}
		})
	}
}

func TestValidateNameUnanchoredPattern(t *testing.T) {
	// A pattern that matches part of the name is not enough.
	if err := ValidateName("alice; rm", regexp.MustCompile(`[a-z]+`)); err == nil {
		t.Fatal("a partial match was accepted")
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want []string // substrings of the error; none means valid
	}{
		{"zero value", Options{}, nil},
		{"explicit", Options{BaseDir: "/homes", Group: "analysts", Mode: 0o700, Concurrency: 3}, nil},
		{"0777 refused", Options{Mode: 0o777}, []string{"every home", "allow_world_writable"}},
		{"0757 refused", Options{Mode: 0o757}, []string{"every home"}},
		{"0777 allowed", Options{Mode: 0o777, AllowWorldWritable: true}, nil},
		{"0775 fine", Options{Mode: 0o775}, nil},
		{"relative base", Options{BaseDir: "user"}, []string{"not an absolute path"}},
		{"unclean base", Options{BaseDir: "/user/../etc"}, []string{"not a clean path"}},
		{"trailing slash", Options{BaseDir: "/user/"}, []string{"not a clean path"}},
		{"root base", Options{BaseDir: "/"}, []string{"must not be the root"}},
		{"base control char", Options{BaseDir: "/us\ner"}, []string{"control character"}},
		{"bad pattern", Options{NamePattern: "(["}, []string{"name pattern"}},
		{"negative concurrency", Options{Concurrency: -1}, []string{"concurrency -1"}},
		{"huge concurrency", Options{Concurrency: 100000}, []string{"concurrency 100000"}},
		{"setuid", Options{Mode: Mode(0o750 | os.ModeSetuid)}, []string{"other than permission bits"}},
		{"sticky", Options{Mode: Mode(0o750 | os.ModeSticky)}, []string{"other than permission bits"}},
		{"group control", Options{Group: "ana\x00lysts"}, []string{"group"}},
		{"group colon", Options{Group: "a:b"}, []string{"':'"}},
		{"group spaces", Options{Group: " analysts"}, []string{"spaces"}},
		{"all joined", Options{BaseDir: "rel", Mode: 0o777, Concurrency: -5, NamePattern: "("},
			[]string{"absolute", "every home", "concurrency", "name pattern"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %v, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestOptionsWarnings(t *testing.T) {
	if w := (Options{}).Warnings(); len(w) != 0 {
		t.Errorf("default options warn: %q", w)
	}
	if w := (Options{Mode: 0o777}).Warnings(); len(w) != 0 {
		t.Errorf("refused options warn (Validate reports them): %q", w)
	}
	w := Options{Mode: 0o777, AllowWorldWritable: true}.Warnings()
	if len(w) != 1 || !strings.Contains(w[0], "0777") || !strings.Contains(w[0], "world-writable") {
		t.Errorf("Warnings() = %q, want one about world-writable 0777", w)
	}
}

// results indexes a report by user.
func results(r Report) map[string]Result {
	m := map[string]Result{}
	for _, res := range r.Results {
		m[res.User] = res
	}
	return m
}

func mustProvision(t *testing.T, fs FS, users []string, o Options) Report {
	t.Helper()
	rep, err := Provision(context.Background(), fs, users, o)
	if err != nil {
		t.Fatalf("Provision: %v", err)
	}
	return rep
}

func wantEntry(t *testing.T, f *fakeFS, p, owner, group string, mode os.FileMode) {
	t.Helper()
	e, ok := f.get(p)
	if !ok {
		t.Fatalf("%s does not exist", p)
	}
	if !e.dir || e.owner != owner || e.group != group || e.mode != mode {
		t.Fatalf("%s = dir %v %s:%s %04o, want dir %s:%s %04o", p, e.dir, e.owner, e.group, uint32(e.mode), owner, group, uint32(mode))
	}
}

func TestProvisionCreates(t *testing.T) {
	f := newFakeFS()
	f.umask = 0o077 // mkdir alone would give 0700: the chmod must fix it
	rep := mustProvision(t, f, []string{"bob", "alice"}, Options{Group: "analysts"})
	if got, want := len(rep.Results), 2; got != want {
		t.Fatalf("%d results, want %d", got, want)
	}
	if rep.Results[0].User != "alice" || rep.Results[1].User != "bob" {
		t.Errorf("results not sorted by user: %+v", rep.Results)
	}
	for _, r := range rep.Results {
		if r.Action != ActionCreated || r.Path != "/user/"+r.User {
			t.Errorf("%+v, want created at /user/%s", r, r.User)
		}
		wantEntry(t, f, "/user/"+r.User, r.User, "analysts", 0o750)
	}
	// Per user: mkdir, then chown, then chmod.
	for _, u := range []string{"alice", "bob"} {
		var ops []string
		for _, c := range f.callList() {
			if strings.HasSuffix(c, " /user/"+u) {
				ops = append(ops, strings.Fields(c)[0])
			}
		}
		if !slices.Equal(ops, []string{"mkdir", "chown", "chmod"}) {
			t.Errorf("calls for %s = %q, want mkdir, chown, chmod", u, ops)
		}
	}
	if len(rep.Orphans) != 0 {
		t.Errorf("orphans %q", rep.Orphans)
	}
	if got := rep.Summary(); got != "2 users: 2 created; 0 orphans" {
		t.Errorf("Summary() = %q", got)
	}
}

func TestProvisionDefaultGroupIsInherited(t *testing.T) {
	f := newFakeFS()
	f.put("/user", fakeEntry{dir: true, owner: "hdfs", group: "hadoop", mode: 0o755})
	rep := mustProvision(t, f, []string{"alice"}, Options{})
	if r := rep.Results[0]; r.Action != ActionCreated {
		t.Fatalf("%+v", r)
	}
	wantEntry(t, f, "/user/alice", "alice", "hadoop", 0o750)
	if d := rep.Results[0].Detail; !strings.Contains(d, "group hadoop") {
		t.Errorf("detail %q does not name the group", d)
	}
	// A home in another group is no drift when no group is configured.
	f.put("/user/bob", fakeEntry{dir: true, owner: "bob", group: "other", mode: 0o750})
	rep = mustProvision(t, f, []string{"alice", "bob"}, Options{})
	for _, r := range rep.Results {
		if r.Action != ActionUnchanged {
			t.Errorf("%+v, want unchanged", r)
		}
	}
}

func TestProvisionRerunIsReadOnlyAndCheap(t *testing.T) {
	f := newFakeFS()
	users := make([]string, 1000)
	for i := range users {
		users[i] = fmt.Sprintf("user%04d", i)
	}
	o := Options{Group: "analysts"}
	rep := mustProvision(t, f, users, o)
	if n := rep.Count(ActionCreated); n != len(users) {
		t.Fatalf("created %d, want %d: %s", n, len(users), rep.Summary())
	}
	f.calls = nil
	rep = mustProvision(t, f, users, o)
	if n := rep.Count(ActionUnchanged); n != len(users) {
		t.Fatalf("unchanged %d, want %d: %s", n, len(users), rep.Summary())
	}
	if calls := f.callList(); len(calls) != 2 {
		t.Errorf("a no-change rerun made %d calls (%q...), want 2 (stat + readdir of the base dir)", len(calls), calls[:min(5, len(calls))])
	}
}

func TestProvisionDrift(t *testing.T) {
	setup := func() *fakeFS {
		f := newFakeFS()
		f.put("/user/alice", fakeEntry{dir: true, owner: "hdfs", group: "supergroup", mode: 0o777}) // the old script's
		f.put("/user/bob", fakeEntry{dir: true, owner: "bob", group: "analysts", mode: 0o755})      // mode only
		f.put("/user/carol", fakeEntry{dir: true, owner: "carol", group: "other", mode: 0o750})     // group only
		f.put("/user/dave", fakeEntry{dir: true, owner: "dave", group: "analysts", mode: 0o1750})   // sticky bit
		f.put("/user/erin", fakeEntry{dir: true, owner: "erin", group: "analysts", mode: 0o750})    // correct
		return f
	}
	users := []string{"alice", "bob", "carol", "dave", "erin"}
	o := Options{Group: "analysts"}

	f := setup()
	rep := mustProvision(t, f, users, o)
	res := results(rep)
	wantDetail := map[string][]string{
		"alice": {"owner hdfs (want alice)", "group supergroup (want analysts)", "mode 0777 (want 0750)"},
		"bob":   {"mode 0755 (want 0750)"},
		"carol": {"group other (want analysts)"},
		"dave":  {"mode 1750 (want 0750)"},
	}
	for u, parts := range wantDetail {
		r := res[u]
		if r.Action != ActionDrift {
			t.Errorf("%s: %+v, want drift", u, r)
		}
		for _, p := range parts {
			if !strings.Contains(r.Detail, p) {
				t.Errorf("%s: detail %q lacks %q", u, r.Detail, p)
			}
		}
	}
	if res["bob"].Detail != "mode 0755 (want 0750)" {
		t.Errorf("bob: detail %q should name only the mode", res["bob"].Detail)
	}
	if res["erin"].Action != ActionUnchanged {
		t.Errorf("erin: %+v", res["erin"])
	}
	if m := f.mutations(); len(m) != 0 {
		t.Errorf("drift without repair changed things: %q", m)
	}

	// With repair.
	f = setup()
	o.Repair = true
	rep = mustProvision(t, f, users, o)
	res = results(rep)
	for u := range wantDetail {
		if r := res[u]; r.Action != ActionRepaired || !strings.HasPrefix(r.Detail, "was: ") {
			t.Errorf("%s: %+v, want repaired", u, r)
		}
		wantEntry(t, f, "/user/"+u, u, "analysts", 0o750)
	}
	muts := f.mutations()
	slices.Sort(muts)
	if want := []string{"chmod /user/alice", "chmod /user/bob", "chmod /user/dave", "chown /user/alice", "chown /user/carol"}; !slices.Equal(muts, want) {
		t.Errorf("repair calls %q, want only what differs: %q", muts, want)
	}
	// And then nothing is left to do.
	rep = mustProvision(t, f, users, o)
	if n := rep.Count(ActionUnchanged); n != len(users) {
		t.Errorf("after repair: %s", rep.Summary())
	}
}

func TestProvisionDryRun(t *testing.T) {
	f := newFakeFS()
	f.put("/user/bob", fakeEntry{dir: true, owner: "hdfs", group: "supergroup", mode: 0o777})
	f.put("/user/carol", fakeEntry{dir: true, owner: "carol", group: "analysts", mode: 0o750})
	f.put("/user/dave", fakeEntry{size: 3, owner: "hdfs", group: "supergroup", mode: 0o644})
	users := []string{"alice", "bob", "carol", "dave", "../x"}
	for _, repairOn := range []bool{false, true} {
		f.calls = nil
		rep := mustProvision(t, f, users, Options{Group: "analysts", DryRun: true, Repair: repairOn})
		res := results(rep)
		wantBob := ActionDrift
		if repairOn {
			wantBob = ActionWouldRepair
		}
		for u, want := range map[string]Action{"alice": ActionWouldCreate, "bob": wantBob, "carol": ActionUnchanged,
			"dave": ActionFailed, "../x": ActionRefused} {
			if res[u].Action != want {
				t.Errorf("repair=%v %s: %+v, want %s", repairOn, u, res[u], want)
			}
		}
		if !strings.Contains(res["alice"].Detail, "analysts") || !strings.Contains(res["bob"].Detail, "mode 0777") {
			t.Errorf("dry-run details: %q / %q", res["alice"].Detail, res["bob"].Detail)
		}
		if m := f.mutations(); len(m) != 0 {
			t.Errorf("dry run changed HDFS: %q", m)
		}
	}
	if _, ok := f.get("/user/alice"); ok {
		t.Error("dry run created a home")
	}
}

func TestProvisionOrphansAndNonDirs(t *testing.T) {
	f := newFakeFS()
	f.put("/user/olduser", fakeEntry{dir: true, owner: "olduser", group: "analysts", mode: 0o750})
	f.put("/user/zz-gone", fakeEntry{dir: true, owner: "x", group: "y", mode: 0o700})
	f.put("/user/README", fakeEntry{size: 10, owner: "hdfs", group: "supergroup", mode: 0o644})
	f.put("/user/Alice", fakeEntry{dir: true, owner: "Alice", group: "analysts", mode: 0o750}) // refused user
	f.put("/user/carol", fakeEntry{size: 7, owner: "hdfs", group: "supergroup", mode: 0o644})  // a file where a home goes
	rep := mustProvision(t, f, []string{"alice", "Alice", "carol"}, Options{Group: "analysts", Repair: true})
	if !slices.Equal(rep.Orphans, []string{"/user/olduser", "/user/zz-gone"}) {
		t.Errorf("orphans = %q", rep.Orphans)
	}
	res := results(rep)
	if r := res["carol"]; r.Action != ActionFailed || !strings.Contains(r.Detail, "is a file of 7 bytes") || !strings.Contains(r.Detail, "left untouched") {
		t.Errorf("carol: %+v", r)
	}
	if r := res["Alice"]; r.Action != ActionRefused || r.Path != "" {
		t.Errorf("Alice: %+v", r)
	}
	if r := res["alice"]; r.Action != ActionCreated {
		t.Errorf("alice: %+v", r)
	}
	for _, c := range f.mutations() {
		if !strings.HasSuffix(c, "/user/alice") {
			t.Errorf("unexpected change %q", c)
		}
	}
	for _, p := range []string{"/user/olduser", "/user/zz-gone", "/user/README", "/user/Alice", "/user/carol"} {
		if _, ok := f.get(p); !ok {
			t.Errorf("%s was deleted", p)
		}
	}
	if e, _ := f.get("/user/carol"); e.dir || e.owner != "hdfs" || e.mode != 0o644 {
		t.Errorf("the file at /user/carol was touched: %+v", e)
	}
}

func TestProvisionHostileNamesNeverTouchHDFS(t *testing.T) {
	f := newFakeFS()
	hostile := []string{"", ".", "..", "a/b", "../x", "../../etc", "x\n", "\x00", "ａlice", "ü", strings.Repeat("a", 300), "Alice", "a:b", "-rf"}
	users := append([]string{"alice", "bob"}, hostile...)
	rep := mustProvision(t, f, users, Options{})
	res := results(rep)
	for _, h := range hostile {
		if r := res[h]; r.Action != ActionRefused || r.Detail == "" || r.Path != "" {
			t.Errorf("%q: %+v, want refused with a reason", h, r)
		}
	}
	if rep.Count(ActionRefused) != len(hostile) || rep.Count(ActionCreated) != 2 {
		t.Errorf("%s", rep.Summary())
	}
	for _, c := range f.callList() {
		if c != "stat /user" && c != "readdir /user" && !strings.HasSuffix(c, "/user/alice") && !strings.HasSuffix(c, "/user/bob") {
			t.Errorf("unexpected call %q", c)
		}
	}
}

func TestProvisionHalfDoneFailuresAreReported(t *testing.T) {
	f := newFakeFS()
	denied := &os.PathError{Op: "x", Path: "p", Err: os.ErrPermission}
	f.fail["mkdir /user/dave"] = denied
	f.fail["chown /user/bob"] = denied
	f.fail["chmod /user/carol"] = denied
	f.put("/user/erin", fakeEntry{dir: true, owner: "x", group: "analysts", mode: 0o777})
	f.fail["chmod /user/erin"] = denied
	rep, err := Provision(context.Background(), f, []string{"alice", "bob", "carol", "dave", "erin"}, Options{Group: "analysts", Repair: true})
	if err != nil {
		t.Fatalf("Provision: %v (per-user failures are not a run error)", err)
	}
	res := results(rep)
	want := map[string]string{
		"bob":   "created, but chown to bob:analysts failed",
		"carol": "created and chowned to carol:analysts, but chmod 0750 failed",
		"dave":  "mkdir failed (nothing done)",
		"erin":  "chowned to erin:analysts, mode unchanged",
	}
	for u, w := range want {
		if r := res[u]; r.Action != ActionFailed || !strings.Contains(r.Detail, w) || !strings.Contains(r.Detail, "permission denied") {
			t.Errorf("%s: %+v, want failed with %q", u, r, w)
		}
	}
	if res["alice"].Action != ActionCreated {
		t.Errorf("alice: %+v", res["alice"])
	}
	if rep.Count(ActionFailed) != 4 {
		t.Errorf("%s", rep.Summary())
	}
}

// A run cut off between mkdir and chmod leaves mode 0000 (closed to all);
// the next run finishes the home even with repair off.
func TestProvisionFinishesInterruptedCreations(t *testing.T) {
	f := newFakeFS()
	denied := &os.PathError{Op: "x", Path: "p", Err: os.ErrPermission}
	f.fail["chown /user/bob"] = denied
	f.fail["chmod /user/carol"] = denied
	opts := Options{Group: "analysts"}
	if _, err := Provision(context.Background(), f, []string{"bob", "carol"}, opts); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"bob", "carol"} {
		if e, _ := f.get("/user/" + u); e.mode.Perm() != 0 {
			t.Errorf("%s's half-made home has mode %04o, want 0000", u, e.mode.Perm())
		}
	}
	delete(f.fail, "chown /user/bob")
	delete(f.fail, "chmod /user/carol")
	dry, _ := Provision(context.Background(), f, []string{"bob", "carol"}, Options{Group: "analysts", DryRun: true})
	if dry.Count(ActionWouldCreate) != 2 {
		t.Errorf("dry run of the rerun: %s", dry.Summary())
	}
	rep, err := Provision(context.Background(), f, []string{"bob", "carol"}, opts)
	if err != nil || rep.Count(ActionCreated) != 2 {
		t.Fatalf("rerun: %s %v", rep.Summary(), err)
	}
	for _, u := range []string{"bob", "carol"} {
		e, _ := f.get("/user/" + u)
		if e.owner != u || e.group != "analysts" || e.mode.Perm() != 0o750 {
			t.Errorf("%s after the rerun: %+v", u, e)
		}
		if r := results(rep)[u]; !strings.Contains(r.Detail, "interrupted") {
			t.Errorf("%s: %+v", u, r)
		}
	}
}

func TestProvisionDuplicates(t *testing.T) {
	f := newFakeFS()
	rep := mustProvision(t, f, []string{"bob", "alice", "bob", "alice", "bob", "..", ".."}, Options{})
	if len(rep.Results) != 3 {
		t.Fatalf("results %+v, want one per distinct name", rep.Results)
	}
	n := 0
	for _, c := range f.callList() {
		if strings.HasPrefix(c, "mkdir") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d mkdirs, want 2", n)
	}
}

func TestProvisionMkdirRace(t *testing.T) {
	// Someone creates the home between the listing and our mkdir.
	f := newFakeFS()
	f.before = func(op, name string) {
		if op == "mkdir" && name == "/user/alice" {
			f.put(name, fakeEntry{dir: true, owner: "alice", group: "analysts", mode: 0o750})
		}
		if op == "mkdir" && name == "/user/bob" {
			f.put(name, fakeEntry{dir: true, owner: "hdfs", group: "analysts", mode: 0o750})
		}
	}
	rep := mustProvision(t, f, []string{"alice", "bob"}, Options{Group: "analysts"})
	res := results(rep)
	if res["alice"].Action != ActionUnchanged {
		t.Errorf("alice: %+v", res["alice"])
	}
	if r := res["bob"]; r.Action != ActionDrift || r.Detail != "owner hdfs (want bob)" {
		t.Errorf("bob: %+v", r)
	}
}

func TestProvisionCancellation(t *testing.T) {
	f := newFakeFS()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.before = func(op, name string) {
		if op == "mkdir" && name == "/user/u02" {
			cancel()
		}
	}
	var users []string
	for i := range 10 {
		users = append(users, fmt.Sprintf("u%02d", i))
	}
	rep, err := Provision(ctx, f, users, Options{Concurrency: 1})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	res := results(rep)
	if len(rep.Results) != 10 {
		t.Fatalf("%d results, want all 10 reported", len(rep.Results))
	}
	for _, u := range []string{"u00", "u01", "u02"} {
		// u02 was started before the cancel and is finished, not left half-done.
		if res[u].Action != ActionCreated {
			t.Errorf("%s: %+v, want created", u, res[u])
		}
	}
	for _, u := range users[3:] {
		if r := res[u]; r.Action != ActionFailed || !strings.Contains(r.Detail, "not attempted") || !strings.Contains(r.Detail, "canceled") {
			t.Errorf("%s: %+v, want failed, not attempted", u, r)
		}
		if _, ok := f.get("/user/" + u); ok {
			t.Errorf("%s created after cancel", u)
		}
	}

	// Cancelled before the start: nothing at all.
	f = newFakeFS()
	if _, err := Provision(ctx, f, users, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if c := f.callList(); len(c) != 0 {
		t.Errorf("calls after cancel: %q", c)
	}
}

func TestProvisionNameNodeLostMidRun(t *testing.T) {
	f := newFakeFS()
	lost := &unavailableError{what: "NameNode 127.0.0.1:1", err: errors.New("connection refused")}
	f.fail["chown /user/u03"] = lost
	for i := 4; i < 10; i++ {
		f.fail[fmt.Sprintf("mkdir /user/u%02d", i)] = lost
	}
	var users []string
	for i := range 10 {
		users = append(users, fmt.Sprintf("u%02d", i))
	}
	rep, err := Provision(context.Background(), f, users, Options{Concurrency: 1})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "NameNode 127.0.0.1:1 unreachable") {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	res := results(rep)
	if r := res["u03"]; r.Action != ActionFailed || !strings.Contains(r.Detail, "created, but chown") {
		t.Errorf("u03: %+v", r)
	}
	for _, u := range users[4:] {
		if r := res[u]; r.Action != ActionFailed || !strings.Contains(r.Detail, "not attempted: NameNode 127.0.0.1:1 unreachable") {
			t.Errorf("%s: %+v", u, r)
		}
	}
	if rep.Count(ActionCreated) != 3 || len(rep.Results) != 10 {
		t.Errorf("%s", rep.Summary())
	}
}

func TestProvisionCouldNotRun(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fakeFS)
		o     Options
		want  string
	}{
		{"base missing", func(f *fakeFS) {}, Options{BaseDir: "/homes"}, "base dir /homes: stat /homes: file does not exist"},
		{"base is a file", func(f *fakeFS) { f.put("/homes", fakeEntry{size: 1, owner: "hdfs", group: "g", mode: 0o644}) },
			Options{BaseDir: "/homes"}, "base dir /homes is not a directory"},
		{"listing fails", func(f *fakeFS) { f.fail["readdir /user"] = errors.New("boom") }, Options{}, "listing base dir /user: boom"},
		{"namenode down", func(f *fakeFS) {
			f.fail["stat /user"] = &unavailableError{what: "NameNode 127.0.0.1:9820", err: errors.New("connection refused")}
		}, Options{}, "NameNode 127.0.0.1:9820 unreachable"},
		{"bad options", func(f *fakeFS) {}, Options{Mode: 0o777}, "invalid options"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeFS()
			tc.setup(f)
			rep, err := Provision(context.Background(), f, []string{"alice"}, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if len(rep.Results) != 0 {
				t.Errorf("results %+v", rep.Results)
			}
			if m := f.mutations(); len(m) != 0 {
				t.Errorf("changes: %q", m)
			}
		})
	}
}

func TestProvisionBoundedConcurrency(t *testing.T) {
	f := newFakeFS()
	f.delay = 2e6 // 2ms per call
	var users []string
	for i := range 40 {
		users = append(users, fmt.Sprintf("u%02d", i))
	}
	rep := mustProvision(t, f, users, Options{Concurrency: 3})
	if rep.Count(ActionCreated) != 40 {
		t.Fatal(rep.Summary())
	}
	if f.maxIn > 3 || f.maxIn < 2 {
		t.Errorf("max calls in flight %d, want 2..3", f.maxIn)
	}
}

func TestReportCountAndSummary(t *testing.T) {
	r := Report{Results: []Result{{Action: ActionCreated}, {Action: ActionFailed}, {Action: ActionCreated}}, Orphans: []string{"/user/x"}}
	if r.Count(ActionCreated) != 2 || r.Count(ActionFailed) != 1 || r.Count(ActionDrift) != 0 {
		t.Error("Count")
	}
	if got := r.Summary(); got != "3 users: 2 created, 1 failed; 1 orphans" {
		t.Errorf("Summary() = %q", got)
	}
	if got := (Report{}).Summary(); got != "0 users: nothing to do; 0 orphans" {
		t.Errorf("Summary() = %q", got)
	}
}
