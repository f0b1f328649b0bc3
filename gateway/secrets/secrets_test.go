package secrets

import (
	"context"
	"errors"
	"fmt"
	"github.com/livygate/livygate/gateway/clocktest"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestValidName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"db-password", true},
		{"A.b_c-9", true},
		{"0", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"", false},
		{".hidden", false},
		{"..", false},
		{"../x", false},
		{"a/b", false},
		{"-x", false},
		{"_x", false},
		{"a b", false},
		{"a\x00b", false},
		{"é", false},
	} {
		if got := ValidName(tc.name); got != tc.ok {
			t.Errorf("ValidName(%q) = %v, want %v", tc.name, got, tc.ok)
		}
	}
}

func TestDirProviderLookup(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "secrets")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "db-password"), "s3cr3t-db\n")
	writeFile(t, filepath.Join(dir, "crlf"), "s3cr3t-crlf\r\n")
	writeFile(t, filepath.Join(dir, "empty"), "\n")
	writeFile(t, filepath.Join(dir, ".hidden"), "s3cr3t-hidden")
	writeFile(t, filepath.Join(base, "outside"), "s3cr3t-outside")
	if err := os.Mkdir(filepath.Join(dir, "subdir"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../outside", filepath.Join(dir, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(base, "outside"), filepath.Join(dir, "escape-abs")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("db-password", filepath.Join(dir, "inside-link")); err != nil {
		t.Fatal(err)
	}
	p, err := NewDirProvider(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })

	checkLookups(t, p, []lookupCase{
		{name: "db-password", want: "s3cr3t-db"},
		{name: "crlf", want: "s3cr3t-crlf"},
		{name: "inside-link", want: "s3cr3t-db"},
		{name: "missing", notFound: true},
		{name: "empty"},
		{name: "subdir"},
		{name: "escape"},
		{name: "escape-abs"},
		{name: "../outside"},
		{name: "a/b"},
		{name: ".hidden"},
		{name: ""},
	})

	all, err := p.All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"db-password": "s3cr3t-db", "crlf": "s3cr3t-crlf", "inside-link": "s3cr3t-db"}
	if !maps.Equal(all, want) {
		t.Errorf("All returned names %v, want %v", slicesOfKeys(all), slicesOfKeys(want))
	}
}

// lookupCase is a name to look up, and what the provider must answer.
type lookupCase struct {
	name     string
	want     string
	notFound bool // want ErrNotFound; else any error when want is ""
}

// checkLookups looks every case up in p: a value where one is wanted, else
// an error without a value or a secret in it.
func checkLookups(t *testing.T, p Provider, cases []lookupCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := p.Lookup(context.Background(), tc.name)
			if tc.want != "" {
				if err != nil || got != tc.want {
					t.Fatalf("Lookup: err %v, value matches: %v", err, got == tc.want)
				}
				return
			}
			if err == nil {
				t.Fatal("Lookup succeeded, want an error")
			}
			if got != "" {
				t.Error("Lookup returned a value with its error")
			}
			if errors.Is(err, ErrNotFound) != tc.notFound {
				t.Errorf("errors.Is(err, ErrNotFound) = %v, want %v (err: %v)", !tc.notFound, tc.notFound, err)
			}
			assertNoSecret(t, err.Error())
		})
	}
}

func TestNewDirProviderNeedsADirectory(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	writeFile(t, file, "x")
	for _, path := range []string{filepath.Join(dir, "missing"), file} {
		if p, err := NewDirProvider(path); err == nil {
			p.Close()
			t.Errorf("NewDirProvider(%s) succeeded", path)
		}
	}
}

func TestEnvProvider(t *testing.T) {
	env := []string{
		"LGSECRET_DB_PASSWORD=s3cr3t-db",
		"LGSECRET_EMPTY=",
		"LGSECRET_=s3cr3t-noname",
		"LGSECRETX=s3cr3t-other",
		"LIVYGATE_SECRET_X=s3cr3t-config",
		"PATH=/usr/bin",
	}
	p := NewEnvProvider("", func() []string { return env })
	checkLookups(t, p, []lookupCase{
		{name: "db-password", want: "s3cr3t-db"},
		{name: "db.password", want: "s3cr3t-db"},
		{name: "DB_PASSWORD", want: "s3cr3t-db"},
		{name: "missing", notFound: true},
		{name: "empty"},
		{name: "../x"},
		{name: ""},
	})
	all, err := p.All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"DB_PASSWORD": "s3cr3t-db"}; !maps.Equal(all, want) {
		t.Errorf("All returned names %v, want %v", slicesOfKeys(all), slicesOfKeys(want))
	}

	custom := NewEnvProvider("MY_", func() []string { return []string{"MY_TOKEN=s3cr3t-tok"} })
	if v, err := custom.Lookup(context.Background(), "token"); err != nil || v != "s3cr3t-tok" {
		t.Errorf("custom prefix: err %v, value matches: %v", err, v == "s3cr3t-tok")
	}
}

// fakeProvider counts its calls and can be told to fail.
type fakeProvider struct {
	mu      sync.Mutex
	secrets map[string]string
	fail    error
	lookups atomic.Int32
	lists   atomic.Int32
}

func (f *fakeProvider) Lookup(_ context.Context, name string) (string, error) {
	f.lookups.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return "", f.fail
	}
	v, ok := f.secrets[name]
	if !ok {
		return "", fmt.Errorf("secret %q: %w", name, ErrNotFound)
	}
	return v, nil
}

func (f *fakeProvider) All(context.Context) (map[string]string, error) {
	f.lists.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	return maps.Clone(f.secrets), nil
}

func (f *fakeProvider) set(name, value string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.secrets[name] = value
}

// Every secret value in these tests starts with s3cr3t, so a leak is easy
// to spot.
func assertNoSecret(t *testing.T, text string) {
	t.Helper()
	if strings.Contains(text, "s3cr3t") {
		t.Errorf("a secret value appears in %q", strings.ReplaceAll(text, "s3cr3t", "<SECRET>"))
	}
}

func slicesOfKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range maps.Keys(m) {
		keys = append(keys, k)
	}
	return keys
}

func newTestResolver(t *testing.T) (*Resolver, *fakeProvider, *clocktest.Clock) {
	t.Helper()
	fp := &fakeProvider{secrets: map[string]string{
		"db-password": "s3cr3t-db",
		"api-key":     "s3cr3t-api",
		"team-key":    "s3cr3t-team",
		"other":       "s3cr3t-other",
		"pin":         "s3c", // too short to mask
	}}
	c := clocktest.New(time.Date(2026, 11, 22, 7, 0, 0, 0, time.UTC))
	r, err := NewResolver(Options{
		Provider: fp,
		Now:      c.Now,
		Access: map[string]Access{
			"db-password": {Users: []string{"alice"}},
			"api-key":     {Users: []string{"alice", "bob"}},
			"team-key":    {Groups: []string{"data-eng"}},
			"pin":         {Users: []string{"alice"}},
			"ghost":       {Users: []string{"alice"}}, // granted but not in the store
			"late":        {Users: []string{"alice"}}, // added to the store later
			// "other" is in the store but granted to nobody.
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return r, fp, c
}

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		desc   string
		user   string
		groups []string
		conf   map[string]string
		want   map[string]string
		subs   map[string]string
	}{
		{
			desc: "allowed by user",
			user: "alice",
			conf: map[string]string{"spark.db.password": "secret@db-password", "spark.app.name": "x"},
			want: map[string]string{"spark.db.password": "s3cr3t-db", "spark.app.name": "x"},
			subs: map[string]string{"s3cr3t-db": "secret@db-password"},
		},
		{
			desc:   "allowed by group",
			user:   "carol",
			groups: []string{"staff", "data-eng"},
			conf:   map[string]string{"k": "secret@team-key"},
			want:   map[string]string{"k": "s3cr3t-team"},
			subs:   map[string]string{"s3cr3t-team": "secret@team-key"},
		},
		{
			desc: "same reference twice",
			user: "bob",
			conf: map[string]string{"a": "secret@api-key", "b": "secret@api-key"},
			want: map[string]string{"a": "s3cr3t-api", "b": "s3cr3t-api"},
			subs: map[string]string{"s3cr3t-api": "secret@api-key"},
		},
		{
			desc: "values that are not exactly a reference pass unchanged",
			user: "alice",
			conf: map[string]string{"a": " secret@db-password", "b": "Secret@db-password", "c": "xsecret@db-password", "d": "secret@db-password"},
			want: map[string]string{"a": " secret@db-password", "b": "Secret@db-password", "c": "xsecret@db-password", "d": "s3cr3t-db"},
			subs: map[string]string{"s3cr3t-db": "secret@db-password"},
		},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			r, _, _ := newTestResolver(t)
			got, subs, err := r.Resolve(context.Background(), tc.user, tc.groups, tc.conf)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("conf differs from the expected one for keys %v", diffKeys(got, tc.want))
			}
			if !maps.Equal(subs, tc.subs) {
				t.Errorf("substitutions name %v, want %v", slicesOfValues(subs), slicesOfValues(tc.subs))
			}
			if got["spark.app.name"] != tc.conf["spark.app.name"] {
				t.Error("a plain value changed")
			}
		})
	}
}

func TestResolveRefuses(t *testing.T) {
	k := func(ref string) map[string]string { return map[string]string{"k": ref} }
	for _, tc := range []struct {
		desc   string
		user   string
		groups []string
		conf   map[string]string
		key    string // the key refused, with its reference
	}{
		{"not allowed", "bob", nil, k("secret@db-password"), "k"},
		{"group does not match", "bob", []string{"staff"}, k("secret@team-key"), "k"},
		{"in the store but granted to nobody", "alice", nil, k("secret@other"), "k"},
		{"granted but not in the store", "alice", nil, k("secret@ghost"), "k"},
		{"unknown", "alice", nil, k("secret@nope"), "k"},
		{"empty name", "alice", nil, k("secret@"), "k"},
		{"traversal", "alice", nil, k("secret@../db-password"), "k"},
		{"empty user matches nothing", "", nil, k("secret@api-key"), "k"},
		{"first bad key in sorted order, even after a good one", "alice", nil,
			map[string]string{"a": "secret@db-password", "z": "secret@nope", "m": "secret@other"}, "m"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			r, _, _ := newTestResolver(t)
			got, subs, err := r.Resolve(context.Background(), tc.user, tc.groups, tc.conf)
			want := RefusedError{Key: tc.key, Ref: tc.conf[tc.key]}
			var re *RefusedError
			if !errors.As(err, &re) || *re != want {
				t.Fatalf("err = %v, want %v", err, &want)
			}
			if got != nil || subs != nil {
				t.Error("a refused Resolve returned conf or substitutions")
			}
			assertNoSecret(t, err.Error())
		})
	}
}

func diffKeys(a, b map[string]string) []string {
	var d []string
	for k := range a {
		if a[k] != b[k] {
			d = append(d, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			d = append(d, k)
		}
	}
	return d
}

func slicesOfValues(m map[string]string) []string {
	var v []string
	for _, ref := range m {
		v = append(v, ref)
	}
	return v
}

// Whether a secret exists must not show in the answer.
func TestResolveRefusalsAreIndistinguishable(t *testing.T) {
	r, _, _ := newTestResolver(t)
	msg := func(user, name string) string {
		t.Helper()
		_, _, err := r.Resolve(context.Background(), user, nil, map[string]string{"k": "secret@" + name})
		if err == nil {
			t.Fatalf("%s using %s: no error", user, name)
		}
		assertNoSecret(t, err.Error())
		if name == "" {
			return err.Error()
		}
		// Only the name may differ between the messages.
		return strings.Replace(err.Error(), name, "NAME", 1)
	}
	want := `conf key "k": secret reference "secret@NAME" is unknown or not allowed for you`
	for _, tc := range []struct{ user, name string }{
		{"bob", "db-password"}, // exists, not allowed
		{"alice", "other"},     // exists, granted to nobody
		{"alice", "ghost"},     // granted, not in the store
		{"alice", "unknown"},   // neither
		{"alice", "../x"},      // malformed
		{"alice", ".x"},        // malformed
	} {
		if got := msg(tc.user, tc.name); got != want {
			t.Errorf("%s using %q: message %q, want %q", tc.user, tc.name, got, want)
		}
	}
	if got := msg("alice", ""); got != `conf key "k": secret reference "secret@" is unknown or not allowed for you` {
		t.Errorf("empty name: %q", got)
	}
}

func TestResolveWithoutReferencesDoesNoLookup(t *testing.T) {
	r, fp, _ := newTestResolver(t)
	conf := map[string]string{"spark.executor.memory": "4g", "spark.secret.note": "not secret@x"}
	got, subs, err := r.Resolve(context.Background(), "alice", nil, conf)
	if err != nil {
		t.Fatal(err)
	}
	if n := fp.lookups.Load(); n != 0 {
		t.Errorf("%d lookups, want 0", n)
	}
	if subs != nil {
		t.Errorf("substitutions %v, want none", subs)
	}
	// Same map, not a copy: the hot path allocates nothing.
	got["probe"] = "1"
	if conf["probe"] != "1" {
		t.Error("Resolve copied a conf without references")
	}
	if got, _, err := r.Resolve(context.Background(), "alice", nil, nil); err != nil || got != nil {
		t.Errorf("nil conf: %v, %v", got, err)
	}
}

func TestResolveDoesNotChangeItsInput(t *testing.T) {
	r, _, _ := newTestResolver(t)
	conf := map[string]string{"k": "secret@db-password"}
	if _, _, err := r.Resolve(context.Background(), "alice", nil, conf); err != nil {
		t.Fatal(err)
	}
	if conf["k"] != "secret@db-password" {
		t.Error("Resolve changed the caller's map")
	}
}

func TestResolveDoesNotLookUpWhatIsNotGranted(t *testing.T) {
	r, fp, _ := newTestResolver(t)
	for _, name := range []string{"other", "db-password", "../x"} {
		_, _, _ = r.Resolve(context.Background(), "bob", nil, map[string]string{"k": "secret@" + name})
	}
	if n := fp.lookups.Load(); n != 0 {
		t.Errorf("%d lookups for names bob may not use, want 0", n)
	}
}

func TestResolveStoreUnavailable(t *testing.T) {
	r, fp, _ := newTestResolver(t)
	fp.fail = fmt.Errorf("permission denied")
	_, _, err := r.Resolve(context.Background(), "alice", nil, map[string]string{"k": "secret@db-password"})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	var re *RefusedError
	if errors.As(err, &re) {
		t.Error("an unavailable store was reported as a refusal")
	}
	assertNoSecret(t, err.Error())

	// A refusal still wins over the store: nothing is looked up for it.
	_, _, err = r.Resolve(context.Background(), "bob", nil, map[string]string{"k": "secret@db-password"})
	if !errors.As(err, &re) {
		t.Errorf("err = %v, want a refusal", err)
	}
}

func TestResolveCancelledContext(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "db-password"), "s3cr3t-db")
	p, err := NewDirProvider(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r, err := NewResolver(Options{Provider: p, Access: map[string]Access{"db-password": {Users: []string{"alice"}}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err = r.Resolve(ctx, "alice", nil, map[string]string{"k": "secret@db-password"})
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want ErrUnavailable and context.Canceled", err)
	}
}

func TestResolveCustomPrefix(t *testing.T) {
	fp := &fakeProvider{secrets: map[string]string{"x": "s3cr3t-x"}}
	r, err := NewResolver(Options{Prefix: "vault:", Provider: fp, Access: map[string]Access{"x": {Users: []string{"alice"}}}})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := r.Resolve(context.Background(), "alice", nil, map[string]string{"a": "vault:x", "b": "secret@x"})
	if err != nil {
		t.Fatal(err)
	}
	if got["a"] != "s3cr3t-x" || got["b"] != "secret@x" {
		t.Error("custom prefix not honoured")
	}
}

func TestNewResolverValidates(t *testing.T) {
	fp := &fakeProvider{}
	for _, tc := range []struct {
		desc string
		opts Options
		want []string // substrings of the error; none means valid
	}{
		{desc: "valid", opts: Options{Provider: fp, Access: map[string]Access{"a": {Users: []string{"u"}}}}},
		{desc: "no access at all", opts: Options{Provider: fp}},
		{desc: "no provider", opts: Options{}, want: []string{"no secret provider"}},
		{
			desc: "every bad name reported",
			opts: Options{Provider: fp, Access: map[string]Access{"../x": {}, "a/b": {}, "ok": {Users: []string{""}}}},
			want: []string{`"../x"`, `"a/b"`, `"ok" lists an empty`},
		},
		{desc: "prefix with spaces", opts: Options{Provider: fp, Prefix: "secret@ "}, want: []string{"prefix"}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			r, err := NewResolver(tc.opts)
			if len(tc.want) == 0 {
				if err != nil || r == nil {
					t.Fatalf("err = %v", err)
				}
				if r.Prefix() != DefaultPrefix && tc.opts.Prefix == "" {
					t.Errorf("prefix %q, want the default", r.Prefix())
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestMasks(t *testing.T) {
	r, fp, c := newTestResolver(t)
	m := r.Masks()
	want := map[string]string{
		"s3cr3t-db":    "secret@db-password",
		"s3cr3t-api":   "secret@api-key",
		"s3cr3t-team":  "secret@team-key",
		"s3cr3t-other": "secret@other",
		// "s3c" is too short.
	}
	if !maps.Equal(m, want) {
		t.Fatalf("masks name %v, want %v", slicesOfValues(m), slicesOfValues(want))
	}
	if n := fp.lists.Load(); n != 1 {
		t.Errorf("%d All calls, want 1", n)
	}

	// Cached: within 30 s no new listing, and the very same map.
	fp.set("new-key", "s3cr3t-new")
	c.Add(29 * time.Second)
	m2 := r.Masks()
	if n := fp.lists.Load(); n != 1 {
		t.Errorf("%d All calls within 30 s, want 1", n)
	}
	if _, ok := m2["s3cr3t-new"]; ok {
		t.Error("masks refreshed before 30 s")
	}

	// A resolved value shows at once, even one the listing has not seen.
	fp.set("late", "s3cr3t-late")
	if _, _, err := r.Resolve(context.Background(), "alice", nil, map[string]string{"k": "secret@late", "p": "secret@pin"}); err != nil {
		t.Fatal(err)
	}
	m3 := r.Masks()
	if m3["s3cr3t-late"] != "secret@late" {
		t.Error("a resolved value is not masked")
	}
	if _, ok := m3["s3c"]; ok {
		t.Error("a value shorter than 4 bytes is masked")
	}
	if n := fp.lists.Load(); n != 1 {
		t.Errorf("%d All calls, want 1", n)
	}

	// After 30 s the listing is read again.
	c.Add(time.Second)
	m4 := r.Masks()
	if n := fp.lists.Load(); n != 2 {
		t.Errorf("%d All calls after 30 s, want 2", n)
	}
	if m4["s3cr3t-new"] != "secret@new-key" || m4["s3cr3t-late"] != "secret@late" {
		t.Error("refreshed masks miss a listed or a resolved value")
	}

	// A rotated secret: the old value stays masked, it may still be echoed.
	fp.set("late", "s3cr3t-late2")
	if _, _, err := r.Resolve(context.Background(), "alice", nil, map[string]string{"k": "secret@late"}); err != nil {
		t.Fatal(err)
	}
	m5 := r.Masks()
	if m5["s3cr3t-late"] == "" || m5["s3cr3t-late2"] == "" {
		t.Error("old or new value of a rotated secret is not masked")
	}
}

func TestMasksKeepsOldListWhenStoreFails(t *testing.T) {
	r, fp, c := newTestResolver(t)
	var reported atomic.Int32
	r.onRefreshError = func(err error) {
		reported.Add(1)
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("refresh error %v does not wrap ErrUnavailable", err)
		}
		assertNoSecret(t, err.Error())
	}
	if len(r.Masks()) == 0 {
		t.Fatal("no masks")
	}
	fp.mu.Lock()
	fp.fail = errors.New("disk gone")
	fp.mu.Unlock()
	c.Add(31 * time.Second)
	if r.Masks()["s3cr3t-db"] == "" {
		t.Error("masks lost after a failed refresh")
	}
	if reported.Load() != 1 {
		t.Errorf("%d errors reported, want 1", reported.Load())
	}
	// No retry before the next interval.
	r.Masks()
	if n := fp.lists.Load(); n != 2 {
		t.Errorf("%d All calls, want 2", n)
	}
}

func TestMasksConcurrent(t *testing.T) {
	r, _, c := newTestResolver(t)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for j := range 200 {
				if j%50 == 0 {
					c.Add(10 * time.Second)
				}
				if i%2 == 0 {
					if _, _, err := r.Resolve(context.Background(), "alice", nil, map[string]string{"k": "secret@db-password"}); err != nil {
						t.Error(err)
						return
					}
				}
				if r.Masks()["s3cr3t-db"] == "" {
					t.Error("a known value is not masked")
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkMasks(b *testing.B) {
	fp := &fakeProvider{secrets: map[string]string{"a": "s3cr3t-a"}}
	r, err := NewResolver(Options{Provider: fp})
	if err != nil {
		b.Fatal(err)
	}
	r.Masks()
	b.ReportAllocs()
	for b.Loop() {
		r.Masks()
	}
}
