//go:build integration

package auth_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/ldap/ldaptest"
	"github.com/livygate/livygate/gateway/logging/logtest"
	"github.com/livygate/livygate/gateway/secrets"
)

// hookLogger records log entries.
type hookLogger struct {
	*logrus.Logger
	mu      sync.Mutex
	entries []string
}

func newHookLogger() *hookLogger {
	h := &hookLogger{Logger: logtest.Discard()}
	h.AddHook(h)
	return h
}

func (h *hookLogger) Levels() []logrus.Level { return logrus.AllLevels }
func (h *hookLogger) Fire(e *logrus.Entry) error {
	line, _ := e.String()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.entries = append(h.entries, e.Level.String()+": "+line)
	return nil
}
func (h *hookLogger) all() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.entries, "\n")
}

// tcpProxy forwards loopback connections to target and counts them, so a
// test can tell whether the verifier talked to the directory at all.
type tcpProxy struct {
	ln    net.Listener
	conns atomic.Int32
}

func startProxy(t testing.TB, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln}
	var wg sync.WaitGroup
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.conns.Add(1)
			wg.Go(func() {
				defer c.Close()
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				done := make(chan struct{}, 2)
				go func() { io.Copy(up, c); done <- struct{}{} }()
				go func() { io.Copy(c, up); done <- struct{}{} }()
				<-done
			})
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return p
}

func (p *tcpProxy) URL() string { return "ldap://" + p.ln.Addr().String() }

func newVerifier(t testing.TB, cfg auth.LDAPConfig, log logrus.FieldLogger) *auth.Directory {
	t.Helper()
	if log == nil {
		log = logtest.Discard()
	}
	v, err := auth.OpenDirectory(cfg, log)
	if err != nil {
		t.Fatalf("OpenDirectory: %v", err)
	}
	return v
}

// dirConfig is the server's memberOf-mode configuration with its bind
// password.
func dirConfig(srv *ldaptest.Server) auth.LDAPConfig {
	return auth.LDAPConfig{Config: srv.Config(), BindPassword: secrets.Ref{File: srv.BindPasswordFile}}
}

// groupDirConfig is dirConfig in group-search mode.
func groupDirConfig(srv *ldaptest.Server) auth.LDAPConfig {
	return auth.LDAPConfig{Config: srv.GroupSearchConfig(), BindPassword: secrets.Ref{File: srv.BindPasswordFile}}
}

func basicReq(user, password string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/sessions/1", nil)
	r.SetBasicAuth(user, password)
	r.RemoteAddr = "127.0.0.1:50000"
	return r
}

func authConfig() auth.Config {
	return auth.Config{
		Realm:      "livygate",
		AdminGroup: ldaptest.AdminGroup,
		Cache:      auth.CacheConfig{TTL: time.Minute, MaxEntries: 1000},
		Lockout:    auth.LockoutConfig{MaxFailures: 5, Window: time.Minute, Duration: time.Minute},
	}
}

// checkVerify runs the good/bad/injection table against one configuration
// (memberOf or group search): both modes must behave the same.
func checkVerify(t *testing.T, srv *ldaptest.Server, cfg auth.LDAPConfig) {
	ctx := context.Background()
	proxy := startProxy(t, srv.Addr)
	cfg.URL = proxy.URL()
	log := newHookLogger()
	v := newVerifier(t, cfg, log)
	pw := srv.Passwords

	good := []struct {
		user, password string
		wantUser       string
		wantGroups     []string
		notGroups      []string
	}{
		{ldaptest.Alice, pw[ldaptest.Alice], "alice", []string{ldaptest.AnalystsGroup}, []string{ldaptest.AdminGroup}},
		{ldaptest.Bob, pw[ldaptest.Bob], "bob", []string{ldaptest.AnalystsGroup}, []string{ldaptest.AdminGroup}},
		{ldaptest.Carol, pw[ldaptest.Carol], "carol", []string{ldaptest.AdminGroup}, []string{ldaptest.AnalystsGroup}},
		{ldaptest.Dave, pw[ldaptest.Dave], ldaptest.Dave, []string{ldaptest.AnalystsGroup}, nil},
		// The directory's spelling wins (uid matches without regard to case).
		{"ALICE", pw[ldaptest.Alice], "alice", []string{ldaptest.AnalystsGroup}, nil},
		{"D*VE(X)\\U", pw[ldaptest.Dave], ldaptest.Dave, []string{ldaptest.AnalystsGroup}, nil},
	}
	for _, g := range good {
		t.Run("good/"+g.user, func(t *testing.T) {
			id, err := v.Verify(ctx, g.user, g.password)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if id.User != g.wantUser || id.Method != "ldap" {
				t.Errorf("identity = %+v, want user %q, method ldap", id, g.wantUser)
			}
			for _, grp := range g.wantGroups {
				if !id.InGroup(grp) {
					t.Errorf("groups %q lack %q", id.Groups, grp)
				}
			}
			for _, grp := range g.notGroups {
				if id.InGroup(grp) {
					t.Errorf("groups %q hold %q", id.Groups, grp)
				}
			}
		})
	}

	bad := []struct{ name, user, password string }{
		{"wrong password", ldaptest.Alice, "wrong-" + pw[ldaptest.Alice]},
		{"someone else's password", ldaptest.Alice, pw[ldaptest.Bob]},
		{"special user, wrong password", ldaptest.Dave, pw[ldaptest.Alice]},
		{"special user, password prefix", ldaptest.Dave, strings.SplitN(pw[ldaptest.Dave], ":", 2)[0]},
		{"unknown user", "mallory", pw[ldaptest.Alice]},
		{"ambiguous user, right password", ldaptest.Twin, pw[ldaptest.Twin]},
		{"DN as user name", "uid=alice," + ldaptest.UserBaseDN, pw[ldaptest.Alice]},
		{"service account as user", "livygate", srv.BindPassword},
		{"root DN as user", ldaptest.RootDN, srv.RootPassword},
	}
	for _, b := range bad {
		t.Run("bad/"+b.name, func(t *testing.T) {
			id, err := v.Verify(ctx, b.user, b.password)
			if !errors.Is(err, auth.ErrBadCredentials) || errors.Is(err, auth.ErrUnavailable) {
				t.Fatalf("Verify(%q) = %+v, %v; want ErrBadCredentials", b.user, id, err)
			}
			for _, secret := range []string{b.password, srv.BindPassword} {
				if strings.Contains(err.Error(), secret) || strings.Contains(log.all(), secret) {
					t.Fatalf("a password leaks into the error or the log: %v", err)
				}
			}
		})
	}
	if !strings.Contains(log.all(), "several entries") {
		t.Errorf("no warning logged for the ambiguous user; log:\n%s", log.all())
	}

	// Injection attempts: with every password there is, none authenticates.
	injections := []string{
		"*", "**", "*)(uid=*", "alice)(|(uid=*", "*)(|(objectClass=*", "admin*", "al*", "alice*", "*alice", "a*e",
		"carol)(uid=*))(|(uid=*", `\2a`, `alice\29`, "*)(&", "livygate-admins*", "d*",
	}
	passwords := []string{srv.BindPassword, srv.RootPassword}
	for _, p := range pw {
		passwords = append(passwords, p)
	}
	t.Run("injection", func(t *testing.T) {
		for _, user := range injections {
			for _, p := range passwords {
				id, err := v.Verify(ctx, user, p)
				switch {
				case err == nil:
					t.Errorf("injection %q authenticated as %+v", user, id)
				case !errors.Is(err, auth.ErrBadCredentials):
					t.Errorf("injection %q: err = %v, want ErrBadCredentials", user, err)
				}
			}
		}
	})

	t.Run("empty password binds nothing", func(t *testing.T) {
		before := proxy.conns.Load()
		for _, user := range []string{ldaptest.Alice, ldaptest.Carol, "*"} {
			if _, err := v.Verify(ctx, user, ""); !errors.Is(err, auth.ErrBadCredentials) {
				t.Fatalf("Verify(%q, \"\"): err = %v, want ErrBadCredentials", user, err)
			}
		}
		b, err := auth.NewBasic(authConfig(), v, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Authenticate(ctx, basicReq(ldaptest.Alice, "")); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("Basic with an empty password: err = %v", err)
		}
		if n := proxy.conns.Load() - before; n != 0 {
			t.Fatalf("%d connections to the directory for empty passwords, want 0", n)
		}
	})
}

func TestLDAPIntegrationMemberOf(t *testing.T) {
	srv := ldaptest.Start(t)
	// The memberof overlay really filled memberOf (else this mode tests nothing).
	out, err := srv.Search(ldaptest.DaveDN, "(objectClass=*)", "memberOf")
	if err != nil || !strings.Contains(out, "memberOf: cn=analysts,"+ldaptest.GroupBaseDN) {
		t.Fatalf("memberOf not maintained by slapd: %v\n%s", err, out)
	}
	checkVerify(t, srv, dirConfig(srv))
}

func TestLDAPIntegrationGroupSearch(t *testing.T) {
	srv := ldaptest.Start(t)
	checkVerify(t, srv, groupDirConfig(srv))

	// {user} in the filter: a user name with specials is escaped there too.
	cfg := groupDirConfig(srv)
	cfg.GroupFilter = "(&(objectClass=groupOfNames)(|(member={dn})(cn={user})))"
	v := newVerifier(t, cfg, nil)
	id, err := v.Verify(context.Background(), ldaptest.Dave, srv.Passwords[ldaptest.Dave])
	if err != nil {
		t.Fatal(err)
	}
	if len(id.Groups) != 1 || id.Groups[0] != ldaptest.AnalystsGroup {
		t.Fatalf("groups = %q, want [analysts]", id.Groups)
	}
}

func TestLDAPIntegrationBasic(t *testing.T) {
	srv := ldaptest.Start(t)
	proxy := startProxy(t, srv.Addr)
	cfg := dirConfig(srv)
	cfg.URL = proxy.URL()
	ctx := context.Background()
	now := time.Now()
	clock := func() time.Time { return now }
	b, err := auth.NewBasic(authConfig(), newVerifier(t, cfg, nil), clock)
	if err != nil {
		t.Fatal(err)
	}
	b.Log = logtest.Discard()

	// Carol is an admin, Alice is not.
	carol, err := b.Authenticate(ctx, basicReq(ldaptest.Carol, srv.Passwords[ldaptest.Carol]))
	if err != nil {
		t.Fatal(err)
	}
	if !carol.Admin || carol.User != "carol" {
		t.Fatalf("carol = %+v, want admin", carol)
	}
	alice, err := b.Authenticate(ctx, basicReq(ldaptest.Alice, srv.Passwords[ldaptest.Alice]))
	if err != nil {
		t.Fatal(err)
	}
	if alice.Admin {
		t.Fatalf("alice = %+v, want no admin", alice)
	}
	dave, err := b.Authenticate(ctx, basicReq(ldaptest.Dave, srv.Passwords[ldaptest.Dave]))
	if err != nil || dave.User != ldaptest.Dave {
		t.Fatalf("dave: %+v, %v", dave, err)
	}

	// Polling with the same credentials: no more LDAP connections.
	before := proxy.conns.Load()
	for range 50 {
		if _, err := b.Authenticate(ctx, basicReq(ldaptest.Alice, srv.Passwords[ldaptest.Alice])); err != nil {
			t.Fatal(err)
		}
	}
	if n := proxy.conns.Load() - before; n != 0 {
		t.Fatalf("%d LDAP connections for cached credentials, want 0", n)
	}
	// After the TTL the directory is asked again.
	now = now.Add(61 * time.Second)
	if _, err := b.Authenticate(ctx, basicReq(ldaptest.Alice, srv.Passwords[ldaptest.Alice])); err != nil {
		t.Fatal(err)
	}
	if n := proxy.conns.Load() - before; n != 1 {
		t.Fatalf("%d LDAP connections after the TTL, want 1", n)
	}

	// Five wrong passwords lock Bob out, even with the right one.
	for i := range 5 {
		if _, err := b.Authenticate(ctx, basicReq(ldaptest.Bob, "wrong")); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("wrong password %d: err = %v", i+1, err)
		}
	}
	var locked *auth.LockedError
	_, err = b.Authenticate(ctx, basicReq(ldaptest.Bob, srv.Passwords[ldaptest.Bob]))
	if !errors.As(err, &locked) || locked.RetryAfter <= 0 {
		t.Fatalf("after 5 failures: err = %v, want *LockedError", err)
	}
}

func TestLDAPIntegrationConcurrent(t *testing.T) {
	srv := ldaptest.Start(t)
	v := newVerifier(t, dirConfig(srv), nil)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 16 {
		wg.Go(func() {
			users := []string{ldaptest.Alice, ldaptest.Bob, ldaptest.Carol, ldaptest.Dave}
			u := users[i%len(users)]
			for range 5 {
				id, err := v.Verify(context.Background(), u, srv.Passwords[u])
				if err != nil {
					errs <- err
					return
				}
				if id.User != u {
					errs <- errors.New("wrong identity " + id.User + " for " + u)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestLDAPIntegrationStartTLSOnPlainServer(t *testing.T) {
	srv := ldaptest.Start(t)
	cfg := dirConfig(srv)
	cfg.AllowInsecure = false
	cfg.StartTLS = true
	v := newVerifier(t, cfg, nil)
	_, err := v.Verify(context.Background(), ldaptest.Alice, srv.Passwords[ldaptest.Alice])
	if !errors.Is(err, auth.ErrUnavailable) || errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if !strings.Contains(err.Error(), "StartTLS") {
		t.Errorf("error does not say StartTLS failed: %v", err)
	}

	// And without StartTLS or allow_insecure the config is refused up front.
	cfg.StartTLS = false
	if _, err := auth.OpenDirectory(cfg, logtest.Discard()); err == nil || !strings.Contains(err.Error(), "allow_insecure") {
		t.Fatalf("plain ldap:// without allow_insecure: err = %v", err)
	}
}

func TestLDAPIntegrationTLS(t *testing.T) {
	srv := ldaptest.Start(t, ldaptest.WithTLS())
	ctx := context.Background()
	tests := []struct {
		name     string
		url      string
		startTLS bool
		caFile   string
		wantErr  string // "" means the logins work
	}{
		{name: "StartTLS with the CA file", url: srv.URL, startTLS: true, caFile: srv.CAFile},
		{name: "ldaps with the CA file", url: srv.LDAPSURL, caFile: srv.CAFile},
		{name: "StartTLS, server certificate from another CA", url: srv.URL, startTLS: true, caFile: srv.OtherCAFile, wantErr: "StartTLS"},
		{name: "ldaps, server certificate from another CA", url: srv.LDAPSURL, caFile: srv.OtherCAFile, wantErr: "TLS handshake"},
		{name: "ldaps, system roots only", url: srv.LDAPSURL, wantErr: "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := dirConfig(srv)
			cfg.URL = tt.url
			cfg.AllowInsecure = false
			cfg.StartTLS = tt.startTLS
			cfg.CAFile = tt.caFile
			v := newVerifier(t, cfg, nil)
			id, err := v.Verify(ctx, ldaptest.Carol, srv.Passwords[ldaptest.Carol])
			if tt.wantErr != "" {
				if !errors.Is(err, auth.ErrUnavailable) || errors.Is(err, auth.ErrBadCredentials) {
					t.Fatalf("err = %v, want ErrUnavailable", err)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error does not mention %q: %v", tt.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if id.User != ldaptest.Carol || !id.InGroup(ldaptest.AdminGroup) {
				t.Errorf("identity = %+v", id)
			}
			if _, err := v.Verify(ctx, ldaptest.Carol, "wrong"); !errors.Is(err, auth.ErrBadCredentials) {
				t.Errorf("wrong password over TLS: err = %v, want ErrBadCredentials", err)
			}
		})
	}
}

func TestLDAPIntegrationServerDown(t *testing.T) {
	srv := ldaptest.Start(t)
	v := newVerifier(t, dirConfig(srv), nil)
	ctx := context.Background()
	if _, err := v.Verify(ctx, ldaptest.Alice, srv.Passwords[ldaptest.Alice]); err != nil {
		t.Fatalf("before the outage: %v", err)
	}
	b, err := auth.NewBasic(authConfig(), v, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Log = logtest.Discard()

	srv.Stop()
	for _, c := range []struct{ user, password string }{
		{ldaptest.Alice, srv.Passwords[ldaptest.Alice]},
		{ldaptest.Alice, "wrong"},
		{"mallory", "whatever"},
	} {
		_, err := v.Verify(ctx, c.user, c.password)
		if !errors.Is(err, auth.ErrUnavailable) || errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("server down, Verify(%q): err = %v, want ErrUnavailable", c.user, err)
		}
		if !strings.Contains(err.Error(), "unreachable") {
			t.Errorf("error does not say the server is unreachable: %v", err)
		}
	}
	// An outage never locks anybody out.
	for range 10 {
		if _, err := b.Authenticate(ctx, basicReq(ldaptest.Bob, srv.Passwords[ldaptest.Bob])); !errors.Is(err, auth.ErrUnavailable) {
			t.Fatalf("Basic while the server is down: err = %v, want ErrUnavailable", err)
		}
	}
}

func TestLDAPIntegrationMisconfigured(t *testing.T) {
	srv := ldaptest.Start(t)
	ctx := context.Background()
	wrongPW := filepath.Join(t.TempDir(), "wrong.pw")
	if err := os.WriteFile(wrongPW, []byte("not-the-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(*auth.LDAPConfig)
		want string
	}{
		{"wrong service password", func(c *auth.LDAPConfig) { c.BindPassword = secrets.Ref{File: wrongPW} }, "bind_password"},
		{"unknown service DN", func(c *auth.LDAPConfig) { c.BindDN = "cn=nobody,ou=services," + ldaptest.Suffix }, "bind_dn"},
		{"missing user base DN", func(c *auth.LDAPConfig) { c.UserBaseDN = "ou=nobody," + ldaptest.Suffix }, "user_base_dn"},
		{"missing group base DN", func(c *auth.LDAPConfig) {
			*c = groupDirConfig(srv)
			c.GroupBaseDN = "ou=nogroups," + ldaptest.Suffix
		}, "group_base_dn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := dirConfig(srv)
			tt.edit(&cfg)
			log := newHookLogger()
			v := newVerifier(t, cfg, log)
			// The user's password is right: the failure is the gateway's.
			_, err := v.Verify(ctx, ldaptest.Alice, srv.Passwords[ldaptest.Alice])
			if !errors.Is(err, auth.ErrUnavailable) || errors.Is(err, auth.ErrBadCredentials) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error does not point at %s: %v", tt.want, err)
			}
			if strings.Contains(err.Error()+log.all(), srv.Passwords[ldaptest.Alice]) ||
				strings.Contains(err.Error()+log.all(), "not-the-password") {
				t.Errorf("a password leaks: %v\n%s", err, log.all())
			}
		})
	}
}

// BenchmarkBasicCached is the cost every proxied request pays: a Basic
// check whose credentials are in the cache (LDAP verified them once).
func BenchmarkBasicCached(b *testing.B) {
	srv := ldaptest.Start(b)
	a, err := auth.NewBasic(authConfig(), newVerifier(b, dirConfig(srv), nil), nil)
	if err != nil {
		b.Fatal(err)
	}
	req := basicReq(ldaptest.Alice, srv.Passwords[ldaptest.Alice])
	ctx := context.Background()
	if _, err := a.Authenticate(ctx, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authenticate(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLDAPColdBind is a full verification against slapd on loopback:
// connect, service bind, search, user bind (memberOf groups).
func BenchmarkLDAPColdBind(b *testing.B) {
	srv := ldaptest.Start(b)
	v := newVerifier(b, dirConfig(srv), nil)
	ctx := context.Background()
	pw := srv.Passwords[ldaptest.Alice]
	start := time.Now()
	n := 0
	for b.Loop() {
		if _, err := v.Verify(ctx, ldaptest.Alice, pw); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(n), "ms/op")
}

// Lookup (an admin minting a token for someone) finds the entry and groups
// without a password, escapes the name once, and refuses unknown users and
// filter injection as an unknown user.
func TestLDAPIntegrationLookup(t *testing.T) {
	srv := ldaptest.Start(t)
	v := newVerifier(t, dirConfig(srv), nil)
	ctx := context.Background()
	for _, user := range []string{ldaptest.Alice, ldaptest.Dave} {
		id, err := v.Lookup(ctx, user)
		if err != nil || id.User != user || len(id.Groups) != 1 || id.Groups[0] != ldaptest.AnalystsGroup {
			t.Errorf("Lookup(%q) = %+v, %v", user, id, err)
		}
	}
	for _, user := range []string{"nobody", "*", "*)(uid=*", "alice)(|(uid=*"} {
		if id, err := v.Lookup(ctx, user); !errors.Is(err, auth.ErrBadCredentials) {
			t.Errorf("Lookup(%q) = %+v, %v; want ErrBadCredentials", user, id, err)
		}
	}
}

// Issue 11, item 4: a user the directory does not know must not answer
// measurably faster than a known user with a wrong password (both cost a
// search and a bind), and a wrong password names the entry it counts against.
func TestLDAPIntegrationUnknownUserNotFaster(t *testing.T) {
	srv := ldaptest.Start(t)
	v := newVerifier(t, dirConfig(srv), nil)
	ctx := context.Background()
	// The two are timed in alternation, so that a load change on the host
	// (CI runs other suites beside this one) weighs on both alike.
	timed := func(user string) time.Duration {
		start := time.Now()
		_, err := v.Verify(ctx, user, "wrong-password")
		if !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("%s: %v", user, err)
		}
		return time.Since(start)
	}
	median := func(ds []time.Duration) time.Duration {
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	for range 25 { // warm up the connection paths
		timed(ldaptest.Alice)
	}
	var knowns, unknowns []time.Duration
	for range 25 {
		knowns = append(knowns, timed(ldaptest.Alice))
		unknowns = append(unknowns, timed("nobody-such"))
	}
	known, unknown := median(knowns), median(unknowns)
	if unknown < known*6/10 {
		t.Errorf("unknown user %v, wrong password %v: the unknown user answers measurably faster", unknown, known)
	}
	_, err := v.Verify(ctx, ldaptest.Alice, "wrong-password")
	var bad *auth.BadPasswordError
	if !errors.As(err, &bad) || !strings.HasPrefix(strings.ToLower(bad.Entry), "uid=") {
		t.Errorf("wrong password: %v, want a BadPasswordError naming the entry", err)
	}
}
