package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/clocktest"
	"github.com/livygate/livygate/gateway/logging/logtest"
)

// fakeVerifier is a PasswordVerifier with a fixed user table that counts
// how often it is asked.
type fakeVerifier struct {
	mu    sync.Mutex
	calls int
	users map[string]fakeUser // by the name as typed
	err   error               // when set, every Verify fails with it
}

type fakeUser struct {
	canonical string
	password  string
	groups    []string
}

func (f *fakeVerifier) Verify(_ context.Context, user, password string) (*Identity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	u, ok := f.users[user]
	if !ok || u.password != password {
		return nil, fmt.Errorf("%w: fake: wrong user or password", ErrBadCredentials)
	}
	name := u.canonical
	if name == "" {
		name = user
	}
	return &Identity{User: name, Groups: append([]string(nil), u.groups...), Method: "fake"}, nil
}

func (f *fakeVerifier) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fakeVerifier) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func newFakeVerifier() *fakeVerifier {
	return &fakeVerifier{users: map[string]fakeUser{
		"alice":                  {password: "alice-pw", groups: []string{"analysts"}},
		"carol":                  {password: "carol-pw", groups: []string{"analysts", "LivyGate-Admins"}},
		"ALICE":                  {canonical: "alice", password: "alice-pw", groups: []string{"analysts"}},
		strings.Repeat("u", 256): {password: "pw"},
		"d*ve(x)\\u":             {password: "p:ss wörd"},
	}}
}

// clock is a settable time source.
func newClock() *clocktest.Clock { return clocktest.New(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)) }

func testAuthConfig() Config {
	return Config{
		Realm:      "livygate",
		AdminGroup: "livygate-admins",
		Cache:      CacheConfig{TTL: time.Minute, MaxEntries: 100},
		Lockout:    LockoutConfig{MaxFailures: 3, MaxFailuresPerAddress: 3, Window: 5 * time.Minute, Duration: 10 * time.Minute},
	}
}

// A user whose notebook is running with verified credentials keeps working
// while someone else fails logins under that name.
func TestBasicCachedCredentialsPassALock(t *testing.T) {
	ctx := context.Background()
	v := newFakeVerifier()
	c := newClock()
	b := newTestBasic(t, testAuthConfig(), v, c)
	if _, err := b.Authenticate(ctx, basicRequest("alice", "alice-pw", "192.0.2.1:1")); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		_, _ = b.Authenticate(ctx, basicRequest("alice", "guess", "198.51.100.1:1"))
	}
	var locked *LockedError
	if _, err := b.Authenticate(ctx, basicRequest("alice", "guess2", "198.51.100.1:1")); !errors.As(err, &locked) {
		t.Fatalf("guesser not locked: %v", err)
	}
	calls := v.Calls()
	if id, err := b.Authenticate(ctx, basicRequest("alice", "alice-pw", "192.0.2.1:1")); err != nil || id.User != "alice" {
		t.Fatalf("cached credentials refused during the lock: %v", err)
	}
	if v.Calls() != calls {
		t.Error("the verifier was asked during the lock")
	}
}

// The per-address limit is its own: all notebook kernels share one address.
func TestBasicAddressLimitIsSeparate(t *testing.T) {
	ctx := context.Background()
	for _, perAddr := range []int{0, 10} {
		cfg := testAuthConfig()
		cfg.Lockout.MaxFailuresPerAddress = perAddr
		b := newTestBasic(t, cfg, newFakeVerifier(), newClock())
		for _, u := range []string{"u1", "u2", "u3", "u4", "u5"} {
			_, _ = b.Authenticate(ctx, basicRequest(u, "typo", "10.0.0.5:1"))
		}
		if _, err := b.Authenticate(ctx, basicRequest("alice", "alice-pw", "10.0.0.5:2")); err != nil {
			t.Errorf("per-address limit %d: alice refused after 5 other users' typos: %v", perAddr, err)
		}
	}
}

func newTestBasic(t *testing.T, cfg Config, v PasswordVerifier, c *clocktest.Clock) *Basic {
	t.Helper()
	b, err := NewBasic(cfg, v, c.Now)
	if err != nil {
		t.Fatalf("NewBasic: %v", err)
	}
	b.Log = logtest.Discard()
	return b
}

func basicRequest(user, password, remote string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/sessions", nil)
	r.SetBasicAuth(user, password)
	if remote != "" {
		r.RemoteAddr = remote
	}
	return r
}

func TestBasicAuthenticate(t *testing.T) {
	withHeader := func(h string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/sessions", nil)
		r.Header.Set("Authorization", h)
		return r
	}
	tests := []struct {
		name      string
		req       *http.Request
		verifyErr error
		wantErr   error
		wantCalls int
		wantUser  string
		wantAdmin bool
	}{
		{name: "no header", req: httptest.NewRequest(http.MethodGet, "/sessions", nil), wantErr: ErrNoCredentials},
		{name: "bearer scheme", req: withHeader("Bearer abc.def.ghi"), wantErr: ErrNoCredentials},
		{name: "short header", req: withHeader("Basi"), wantErr: ErrNoCredentials},
		{name: "malformed base64", req: withHeader("Basic !!!not-base64"), wantErr: ErrBadCredentials},
		{name: "no colon", req: withHeader("Basic YWxpY2U="), wantErr: ErrBadCredentials},
		{name: "empty password", req: basicRequest("alice", "", ""), wantErr: ErrBadCredentials},
		{name: "empty user", req: basicRequest("", "alice-pw", ""), wantErr: ErrBadCredentials},
		{name: "blank user", req: basicRequest("  ", "alice-pw", ""), wantErr: ErrBadCredentials},
		{name: "NUL in user", req: basicRequest("al\x00ice", "alice-pw", ""), wantErr: ErrBadCredentials},
		{name: "newline in user", req: basicRequest("alice\n", "alice-pw", ""), wantErr: ErrBadCredentials},
		{name: "C1 control in user", req: basicRequest("alice\u0085", "alice-pw", ""), wantErr: ErrBadCredentials},
		{name: "invalid UTF-8 user", req: basicRequest("alice\xff", "alice-pw", ""), wantErr: ErrBadCredentials},
		{name: "user of 257 bytes", req: basicRequest(strings.Repeat("u", 257), "pw", ""), wantErr: ErrBadCredentials},
		{name: "huge password", req: basicRequest("alice", strings.Repeat("p", MaxPasswordBytes+1), ""), wantErr: ErrBadCredentials},
		{name: "user of 256 bytes", req: basicRequest(strings.Repeat("u", 256), "pw", ""), wantCalls: 1, wantUser: strings.Repeat("u", 256)},
		{name: "good", req: basicRequest("alice", "alice-pw", ""), wantCalls: 1, wantUser: "alice"},
		{name: "lower-case scheme", req: withHeader("basic YWxpY2U6YWxpY2UtcHc="), wantCalls: 1, wantUser: "alice"},
		{name: "canonical name from the verifier", req: basicRequest("ALICE", "alice-pw", ""), wantCalls: 1, wantUser: "alice"},
		{name: "special characters and colon in password", req: basicRequest(`d*ve(x)\u`, "p:ss wörd", ""), wantCalls: 1, wantUser: `d*ve(x)\u`},
		{name: "admin group, any case", req: basicRequest("carol", "carol-pw", ""), wantCalls: 1, wantUser: "carol", wantAdmin: true},
		{name: "wrong password", req: basicRequest("alice", "nope", ""), wantErr: ErrBadCredentials, wantCalls: 1},
		{name: "unknown user", req: basicRequest("mallory", "alice-pw", ""), wantErr: ErrBadCredentials, wantCalls: 1},
		{name: "backend down", req: basicRequest("alice", "alice-pw", ""), verifyErr: fmt.Errorf("%w: ldap down", ErrUnavailable), wantErr: ErrUnavailable, wantCalls: 1},
		{name: "unknown verifier error is unavailable", req: basicRequest("alice", "alice-pw", ""), verifyErr: errors.New("boom"), wantErr: ErrUnavailable, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newFakeVerifier()
			v.err = tt.verifyErr
			b := newTestBasic(t, testAuthConfig(), v, newClock())
			id, err := b.Authenticate(context.Background(), tt.req)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if id != nil {
					t.Fatalf("identity %+v returned with an error", id)
				}
			} else if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got := v.Calls(); got != tt.wantCalls {
				t.Errorf("verifier called %d times, want %d", got, tt.wantCalls)
			}
			if tt.wantUser != "" {
				if id.User != tt.wantUser {
					t.Errorf("User = %q, want %q", id.User, tt.wantUser)
				}
				if id.Admin != tt.wantAdmin {
					t.Errorf("Admin = %v, want %v", id.Admin, tt.wantAdmin)
				}
				if id.Method != "fake" {
					t.Errorf("Method = %q, want the verifier's", id.Method)
				}
			}
			if err != nil && strings.Contains(err.Error(), "alice-pw") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestBasicNoAdminGroup(t *testing.T) {
	cfg := testAuthConfig()
	cfg.AdminGroup = ""
	b := newTestBasic(t, cfg, newFakeVerifier(), newClock())
	id, err := b.Authenticate(context.Background(), basicRequest("carol", "carol-pw", ""))
	if err != nil {
		t.Fatal(err)
	}
	if id.Admin {
		t.Fatal("Admin set although no admin group is configured")
	}
}

func TestBasicCache(t *testing.T) {
	v := newFakeVerifier()
	c := newClock()
	b := newTestBasic(t, testAuthConfig(), v, c) // TTL 1m
	ctx := context.Background()
	auth := func(user, pw string) (*Identity, error) {
		return b.Authenticate(ctx, basicRequest(user, pw, "192.0.2.1:5000"))
	}

	first, err := auth("carol", "carol-pw")
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		c.Add(10 * time.Second) // hits do not extend the entry
		id, err := auth("carol", "carol-pw")
		if err != nil {
			t.Fatal(err)
		}
		if id.User != "carol" || !id.Admin || !id.InGroup("analysts") {
			t.Fatalf("cached identity %+v differs from the verified one %+v", id, first)
		}
	}
	if v.Calls() != 1 {
		t.Fatalf("verifier called %d times, want 1 (cache hits)", v.Calls())
	}

	// A different password is a different key: never served from the cache.
	if _, err := auth("carol", "carol-pw2"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("wrong password after a cached login: err = %v", err)
	}
	if v.Calls() != 2 {
		t.Fatalf("verifier called %d times, want 2", v.Calls())
	}

	// Callers cannot change what the cache holds.
	id, _ := auth("carol", "carol-pw")
	id.Groups[0] = "mutated"
	id.User = "mallory"
	id2, _ := auth("carol", "carol-pw")
	if id2.User != "carol" || id2.Groups[0] != "analysts" {
		t.Fatalf("cache entry was mutated through a returned identity: %+v", id2)
	}

	// 60 s after the verification the entry is gone, although it was hit.
	c.Add(10 * time.Second)
	if _, err := auth("carol", "carol-pw"); err != nil {
		t.Fatal(err)
	}
	if v.Calls() != 3 {
		t.Fatalf("verifier called %d times after the TTL, want 3", v.Calls())
	}

	// Disabled cache: every request asks the verifier.
	cfg := testAuthConfig()
	cfg.Cache = CacheConfig{}
	v2 := newFakeVerifier()
	b2 := newTestBasic(t, cfg, v2, c)
	for range 3 {
		if _, err := b2.Authenticate(ctx, basicRequest("alice", "alice-pw", "")); err != nil {
			t.Fatal(err)
		}
	}
	if v2.Calls() != 3 {
		t.Fatalf("disabled cache: verifier called %d times, want 3", v2.Calls())
	}
}

func TestBasicLockout(t *testing.T) {
	ctx := context.Background()

	t.Run("per user, across addresses", func(t *testing.T) {
		v := newFakeVerifier()
		c := newClock()
		b := newTestBasic(t, testAuthConfig(), v, c) // 3 failures in 5m → 10m
		for i := range 3 {
			_, err := b.Authenticate(ctx, basicRequest("alice", "wrong", fmt.Sprintf("192.0.2.%d:1", i+1)))
			if !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("failure %d: err = %v", i+1, err)
			}
		}
		c.Add(time.Minute)
		calls := v.Calls()
		_, err := b.Authenticate(ctx, basicRequest("alice", "alice-pw", "198.51.100.7:1"))
		var locked *LockedError
		if !errors.As(err, &locked) {
			t.Fatalf("after 3 failures: err = %v, want *LockedError", err)
		}
		if locked.RetryAfter != 9*time.Minute {
			t.Errorf("RetryAfter = %v, want 9m", locked.RetryAfter)
		}
		if v.Calls() != calls {
			t.Error("the verifier was asked while the user was locked")
		}
		// The lock is per user: bob is fine from the same addresses.
		v.users["bob"] = fakeUser{password: "bob-pw"}
		if _, err := b.Authenticate(ctx, basicRequest("bob", "bob-pw", "198.51.100.7:1")); err != nil {
			t.Fatalf("bob locked by alice's failures: %v", err)
		}
		// Case and spaces do not make a new user.
		if _, err := b.Authenticate(ctx, basicRequest(" ALICE ", "alice-pw", "198.51.100.8:1")); !errors.As(err, &locked) {
			t.Fatalf("' ALICE ' not locked with alice: err = %v", err)
		}
		c.Add(9 * time.Minute)
		if _, err := b.Authenticate(ctx, basicRequest("alice", "alice-pw", "198.51.100.7:1")); err != nil {
			t.Fatalf("still refused after the lock ran out: %v", err)
		}
	})

	t.Run("per address, across users", func(t *testing.T) {
		v := newFakeVerifier()
		c := newClock()
		b := newTestBasic(t, testAuthConfig(), v, c)
		for _, u := range []string{"u1", "u2", "u3"} {
			if _, err := b.Authenticate(ctx, basicRequest(u, "guess", "203.0.113.9:4444")); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("%s: err = %v", u, err)
			}
		}
		var locked *LockedError
		// Another port of the same host is the same client.
		if _, err := b.Authenticate(ctx, basicRequest("alice", "alice-pw", "203.0.113.9:5555")); !errors.As(err, &locked) {
			t.Fatalf("address not locked: err = %v", err)
		}
		if _, err := b.Authenticate(ctx, basicRequest("alice", "alice-pw", "203.0.113.10:5555")); err != nil {
			t.Fatalf("another address is locked too: %v", err)
		}
	})

	t.Run("success clears the user's count", func(t *testing.T) {
		v := newFakeVerifier()
		b := newTestBasic(t, testAuthConfig(), v, newClock())
		fail := func(addr string) {
			t.Helper()
			if _, err := b.Authenticate(ctx, basicRequest("alice", "wrong", addr)); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("err = %v", err)
			}
		}
		fail("192.0.2.1:1")
		fail("192.0.2.1:1")
		if _, err := b.Authenticate(ctx, basicRequest("alice", "alice-pw", "192.0.2.2:1")); err != nil {
			t.Fatal(err)
		}
		fail("192.0.2.3:1")
		fail("192.0.2.3:1")
		// 4 failures in all, but never 3 since the success, nor 3 per address.
		if _, err := b.Authenticate(ctx, basicRequest("alice", "alice-pw", "192.0.2.4:1")); err != nil {
			t.Fatalf("locked although the success cleared the count: %v", err)
		}
	})

	t.Run("outages do not count", func(t *testing.T) {
		v := newFakeVerifier()
		v.err = fmt.Errorf("%w: ldap down", ErrUnavailable)
		b := newTestBasic(t, testAuthConfig(), v, newClock())
		for range 10 {
			if _, err := b.Authenticate(ctx, basicRequest("alice", "alice-pw", "192.0.2.1:1")); !errors.Is(err, ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
		}
		v.setErr(nil)
		if _, err := b.Authenticate(ctx, basicRequest("alice", "alice-pw", "192.0.2.1:1")); err != nil {
			t.Fatalf("locked out by an outage: %v", err)
		}
	})

	t.Run("refusals before the backend do not count", func(t *testing.T) {
		v := newFakeVerifier()
		b := newTestBasic(t, testAuthConfig(), v, newClock())
		for range 10 {
			if _, err := b.Authenticate(ctx, basicRequest("alice", "", "192.0.2.1:1")); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("err = %v", err)
			}
		}
		if _, err := b.Authenticate(ctx, basicRequest("alice", "alice-pw", "192.0.2.1:1")); err != nil {
			t.Fatalf("locked out by empty passwords: %v", err)
		}
		if v.Calls() != 1 {
			t.Fatalf("verifier called %d times, want 1", v.Calls())
		}
	})

	t.Run("disabled", func(t *testing.T) {
		cfg := testAuthConfig()
		cfg.Lockout = LockoutConfig{}
		v := newFakeVerifier()
		b := newTestBasic(t, cfg, v, newClock())
		for range 20 {
			if _, err := b.Authenticate(ctx, basicRequest("alice", "wrong", "192.0.2.1:1")); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("err = %v", err)
			}
		}
		if _, err := b.Authenticate(ctx, basicRequest("alice", "alice-pw", "192.0.2.1:1")); err != nil {
			t.Fatalf("locked although the lockout is disabled: %v", err)
		}
	})
}

func TestNewBasicRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		v    PasswordVerifier
	}{
		{name: "no verifier", edit: func(*Config) {}},
		{name: "negative max failures", edit: func(a *Config) { a.Lockout.MaxFailures = -1 }, v: newFakeVerifier()},
		{name: "lockout without window", edit: func(a *Config) { a.Lockout.Window = 0 }, v: newFakeVerifier()},
		{name: "lockout without duration", edit: func(a *Config) { a.Lockout.Duration = 0 }, v: newFakeVerifier()},
		{name: "negative cache size", edit: func(a *Config) { a.Cache.MaxEntries = -1 }, v: newFakeVerifier()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testAuthConfig()
			tt.edit(&cfg)
			if _, err := NewBasic(cfg, tt.v, nil); err == nil {
				t.Fatal("NewBasic accepted a bad configuration")
			}
		})
	}
}

func TestBasicConcurrent(t *testing.T) {
	v := newFakeVerifier()
	b := newTestBasic(t, testAuthConfig(), v, newClock())
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for j := range 200 {
				user, pw := "alice", "alice-pw"
				if (i+j)%7 == 0 {
					pw = "wrong"
				}
				_, _ = b.Authenticate(context.Background(), basicRequest(user, pw, fmt.Sprintf("192.0.2.%d:1", i)))
			}
		})
	}
	wg.Wait()
}

// BenchmarkBasicCacheHit measures the hot path of every proxied request
// with a fake verifier (the real-LDAP variant is BenchmarkBasicCached in
// the integration tests).
func BenchmarkBasicCacheHit(b *testing.B) {
	auth, err := NewBasic(testAuthConfig(), newFakeVerifier(), nil)
	if err != nil {
		b.Fatal(err)
	}
	req := basicRequest("carol", "carol-pw", "192.0.2.1:1234")
	ctx := context.Background()
	if _, err := auth.Authenticate(ctx, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := auth.Authenticate(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
