package ldap

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-ldap/ldap/v3"

	"github.com/livygate/livygate/gateway/logging/logtest"
)

// testLDAPConfig is a valid plain-LDAP configuration for unit tests.
func testLDAPConfig(t *testing.T) Config {
	t.Helper()
	return Config{
		URL:                      "ldap://127.0.0.1:1",
		AllowInsecure:            true,
		Timeout:                  2 * time.Second,
		BindDN:                   "cn=livygate,ou=services,dc=livygate,dc=test",
		UserBaseDN:               "ou=people,dc=livygate,dc=test",
		UsernameAttribute:        "uid",
		GroupMembershipAttribute: "memberOf",
		GroupNameAttribute:       "cn",
	}
}

func writeCAFile(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "livygate test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestNewConfig(t *testing.T) {
	caFile := writeCAFile(t)
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr []string // substrings; nil means valid
	}{
		{name: "plain with allow_insecure", edit: func(*Config) {}},
		{name: "plain without allow_insecure", edit: func(c *Config) { c.AllowInsecure = false },
			wantErr: []string{"plain LDAP", "allow_insecure"}},
		{name: "starttls", edit: func(c *Config) { c.AllowInsecure = false; c.StartTLS = true; c.CAFile = caFile }},
		{name: "ldaps", edit: func(c *Config) { c.AllowInsecure = false; c.URL = "ldaps://ldap.example.com"; c.CAFile = caFile }},
		{name: "ldaps with system roots", edit: func(c *Config) { c.URL = "ldaps://ldap.example.com:1636" }},
		{name: "ldaps and starttls", edit: func(c *Config) { c.URL = "ldaps://ldap.example.com"; c.StartTLS = true },
			wantErr: []string{"start_tls"}},
		{name: "missing CA file", edit: func(c *Config) { c.StartTLS = true; c.CAFile = "/nonexistent/ca.pem" },
			wantErr: []string{"ca_file"}},
		{name: "CA file without certificates", edit: func(c *Config) { c.StartTLS = true; c.CAFile = garbage },
			wantErr: []string{"no PEM certificate"}},
		{name: "CA file without TLS", edit: func(c *Config) { c.CAFile = caFile }, wantErr: []string{"uses no TLS"}},
		{name: "no URL", edit: func(c *Config) { c.URL = "" }, wantErr: []string{"url is required"}},
		{name: "http URL", edit: func(c *Config) { c.URL = "http://ldap.example.com" }, wantErr: []string{"ldap:// or ldaps://"}},
		{name: "URL with a DN", edit: func(c *Config) { c.URL = "ldap://h/dc=x" }, wantErr: []string{"only scheme, host and port"}},
		{name: "no user base DN", edit: func(c *Config) { c.UserBaseDN = "" }, wantErr: []string{"user_base_dn is required"}},
		{name: "user filter without parentheses", edit: func(c *Config) { c.UserFilter = "objectClass=inetOrgPerson" }},
		{name: "broken user filter", edit: func(c *Config) { c.UserFilter = "(&(objectClass=person)" },
			wantErr: []string{"user_filter"}},
		{name: "bad username attribute", edit: func(c *Config) { c.UsernameAttribute = "uid)(cn" },
			wantErr: []string{"username_attribute"}},
		{name: "both group modes", edit: func(c *Config) { c.GroupBaseDN = "ou=groups,dc=livygate,dc=test" },
			wantErr: []string{"not both"}},
		{name: "group search", edit: func(c *Config) {
			c.GroupMembershipAttribute = ""
			c.GroupBaseDN = "ou=groups,dc=livygate,dc=test"
			c.GroupFilter = "(&(objectClass=groupOfNames)(member={dn}))"
		}},
		{name: "broken group filter", edit: func(c *Config) {
			c.GroupMembershipAttribute = ""
			c.GroupBaseDN = "ou=groups,dc=livygate,dc=test"
			c.GroupFilter = "(member={dn}"
		}, wantErr: []string{"group_filter"}},
		{name: "group filter without base", edit: func(c *Config) { c.GroupMembershipAttribute = ""; c.GroupFilter = "(member={dn})" },
			wantErr: []string{"needs auth.ldap.group_base_dn"}},
		{name: "every problem at once", edit: func(c *Config) {
			c.AllowInsecure = false
			c.UserBaseDN = ""
			c.UsernameAttribute = "bad attr"
		}, wantErr: []string{"allow_insecure", "user_base_dn", "username_attribute"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testLDAPConfig(t)
			tt.edit(&cfg)
			l, err := New(cfg, "service-secret", nil)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if l == nil {
					t.Fatal("New returned nil without an error")
				}
				return
			}
			if err == nil {
				t.Fatal("New accepted a bad configuration")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "service-secret") {
				t.Errorf("error leaks the bind password: %v", err)
			}
		})
	}
}

func TestNewTLSConfig(t *testing.T) {
	cfg := testLDAPConfig(t)
	cfg.URL = "ldap://ldap.example.com"
	cfg.StartTLS = true
	cfg.AllowInsecure = false
	cfg.CAFile = writeCAFile(t)
	l, err := New(cfg, "service-secret", nil)
	if err != nil {
		t.Fatal(err)
	}
	if l.tlsConfig == nil || l.tlsConfig.RootCAs == nil {
		t.Fatal("StartTLS without a tls.Config holding the CA file")
	}
	if l.tlsConfig.ServerName != "ldap.example.com" || l.tlsConfig.InsecureSkipVerify {
		t.Fatalf("tls.Config does not verify ldap.example.com: %+v", l.tlsConfig)
	}
	if l.addr != "ldap.example.com:389" {
		t.Errorf("addr = %q, want the default port 389", l.addr)
	}
}

func TestUserSearchFilter(t *testing.T) {
	l := &settings{userAttr: "uid"}
	withFilter := &settings{userAttr: "uid", userFilter: "(objectClass=inetOrgPerson)"}
	tests := []struct {
		name string
		l    *settings
		want string
	}{
		{"alice", l, "(uid=alice)"},
		{"*", l, `(uid=\2a)`},
		{"*)(uid=*", l, `(uid=\2a\29\28uid=\2a)`},
		{"alice)(|(uid=*", l, `(uid=alice\29\28|\28uid=\2a)`},
		{"admin*", l, `(uid=admin\2a)`},
		{`d*ve(x)\u`, l, `(uid=d\2ave\28x\29\5cu)`},
		{`already\2a`, l, `(uid=already\5c2a)`}, // escaped once, never "unescaped"
		{"zoë", l, `(uid=zo\c3\ab)`},
		{"alice", withFilter, "(&(objectClass=inetOrgPerson)(uid=alice))"},
		{"*", withFilter, `(&(objectClass=inetOrgPerson)(uid=\2a))`},
	}
	for _, tt := range tests {
		if got := tt.l.userSearchFilter(tt.name); got != tt.want {
			t.Errorf("userSearchFilter(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// equalityValue compiles filter and returns the assertion value of its one
// equality match (the last one when the filter is an AND).
func equalityValue(t testing.TB, filter string) string {
	t.Helper()
	p, err := ldap.CompileFilter(filter)
	if err != nil {
		t.Fatalf("CompileFilter(%q): %v", filter, err)
	}
	if p.Tag == ldap.FilterAnd {
		p = p.Children[len(p.Children)-1]
	}
	if p.Tag != ldap.FilterEqualityMatch || len(p.Children) != 2 {
		t.Fatalf("filter %q is not one equality match (tag %d)", filter, p.Tag)
	}
	return p.Children[1].Data.String()
}

// FuzzUserSearchFilter: for any acceptable user name, the filter compiles to
// exactly one equality match whose value is the name, byte for byte: no
// wildcard, no extra clause, no double escaping.
func FuzzUserSearchFilter(f *testing.F) {
	for _, s := range []string{"alice", "*", "*)(uid=*", "alice)(|(uid=*", "admin*", `d*ve(x)\u`, `\2a`, "zoë", "a\\", "(", ")"} {
		f.Add(s)
	}
	l := &settings{userAttr: "uid", userFilter: "(objectClass=inetOrgPerson)"}
	f.Fuzz(func(t *testing.T, name string) {
		if strings.TrimSpace(name) == "" || !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0 {
			return // auth refuses such names before the directory sees them
		}
		filter := l.userSearchFilter(name)
		p, err := ldap.CompileFilter(filter)
		if err != nil {
			t.Fatalf("CompileFilter(%q): %v", filter, err)
		}
		if p.Tag != ldap.FilterAnd || len(p.Children) != 2 {
			t.Fatalf("filter %q is not (&(class)(match))", filter)
		}
		if got := equalityValue(t, filter); got != name {
			t.Fatalf("filter %q matches %q, want %q", filter, got, name)
		}
	})
}

func TestGroupSearchFilter(t *testing.T) {
	l := &settings{groupFilter: "(|(member={dn})(memberUid={user}))"}
	got := l.groupSearchFilter(`uid=d*ve(x)\5Cu,ou=people,dc=livygate,dc=test`, `d*ve(x)\u`)
	want := `(|(member=uid=d\2ave\28x\29\5c5Cu,ou=people,dc=livygate,dc=test)(memberUid=d\2ave\28x\29\5cu))`
	if got != want {
		t.Errorf("groupSearchFilter = %q, want %q", got, want)
	}
	// A placeholder inside a substituted value is not substituted again.
	got = l.groupSearchFilter("cn={user},dc=x", "bob")
	if want := `(|(member=cn={user},dc=x)(memberUid=bob))`; got != want {
		t.Errorf("groupSearchFilter = %q, want %q", got, want)
	}
	if _, err := ldap.CompileFilter(got); err != nil {
		t.Errorf("group filter does not compile: %v", err)
	}
}

func TestGroupsFromDNs(t *testing.T) {
	l := &Client{settings: settings{memberAttr: "memberOf"}, log: logtest.Discard()}
	got := l.groupsFromDNs([]string{
		"cn=analysts,ou=groups,dc=livygate,dc=test",
		"CN=livygate-admins,OU=Groups,DC=example,DC=com",
		`cn=R\26D\2c Europe,ou=groups,dc=x`,
		"cn=analysts,ou=other,dc=x", // same name twice: once
		"not a dn",
		"",
	}, "alice")
	want := []string{"analysts", "livygate-admins", "R&D, Europe"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("groups = %q, want %q", got, want)
	}
}

func TestCanonicalName(t *testing.T) {
	l := &Client{settings: settings{userAttr: "uid"}}
	entry := ldap.NewEntry("uid=alice,ou=people,dc=x", map[string][]string{"UID": {"alice.smith", "Alice"}})
	tests := []struct{ typed, want string }{
		{"alice", "Alice"},
		{" ALICE ", "Alice"},
		{"alice.smith", "alice.smith"},
		{"a.smith", "alice.smith"}, // matched otherwise (e.g. a server-side rule): first value
	}
	for _, tt := range tests {
		got, err := l.canonicalName(entry, tt.typed)
		if err != nil || got != tt.want {
			t.Errorf("canonicalName(%q) = %q, %v; want %q", tt.typed, got, err, tt.want)
		}
	}
	if _, err := l.canonicalName(ldap.NewEntry("uid=x,dc=x", nil), "x"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("entry without the attribute: err = %v, want ErrUnavailable", err)
	}
}

func TestServerDown(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{ldap.NewError(ldap.ErrorNetwork, errors.New("connection reset")), true},
		{ldap.NewError(ldap.LDAPResultUnavailable, errors.New("x")), true},
		{ldap.NewError(ldap.LDAPResultBusy, errors.New("x")), true},
		{ldap.NewError(ldap.LDAPResultServerDown, errors.New("x")), true},
		{fmt.Errorf("wrapped: %w", ldap.NewError(ldap.LDAPResultTimeLimitExceeded, errors.New("x"))), true},
		{&net.OpError{Op: "dial", Err: errors.New("refused")}, true},
		{io.EOF, true},
		{context.DeadlineExceeded, true},
		{ldap.NewError(ldap.LDAPResultInvalidCredentials, errors.New("x")), false},
		{ldap.NewError(ldap.LDAPResultNoSuchObject, errors.New("x")), false},
		{errors.New("something else"), false},
	}
	for _, tt := range tests {
		if got := serverDown(tt.err); got != tt.want {
			t.Errorf("serverDown(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// listener accepts TCP connections on loopback, counts them and never
// answers: a server that hangs.
func silentServer(t *testing.T) (addr string, accepted *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = new(atomic.Int32)
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			mu.Lock()
			conns = append(conns, c) // held open, never read
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String(), accepted
}

func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestVerifyUnavailable(t *testing.T) {
	silent, _ := silentServer(t)
	tests := []struct {
		name    string
		url     string
		timeout time.Duration
		ctx     func() (context.Context, context.CancelFunc)
		want    string
	}{
		{name: "connection refused", url: "ldap://" + closedPort(t), want: "unreachable"},
		{name: "server never answers", url: "ldap://" + silent, timeout: 300 * time.Millisecond, want: "unreachable"},
		{name: "request abandoned", url: "ldap://" + silent, want: "abandoned",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 200*time.Millisecond)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testLDAPConfig(t)
			cfg.URL = tt.url
			if tt.timeout > 0 {
				cfg.Timeout = tt.timeout
			}
			l, err := New(cfg, "service-secret", logtest.Discard())
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			if tt.ctx != nil {
				ctx, cancel = tt.ctx()
			}
			defer cancel()
			start := time.Now()
			_, err = l.Verify(ctx, "alice", "secret-password")
			if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrBadCredentials) {
				t.Fatalf("err = %v, want ErrUnavailable only", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret-password") || strings.Contains(err.Error(), "service-secret") {
				t.Errorf("error leaks a password: %v", err)
			}
			if d := time.Since(start); d > 1500*time.Millisecond {
				t.Errorf("Verify took %v; the timeout does not bound it", d)
			}
		})
	}
}

func TestVerifyRefusesBeforeConnecting(t *testing.T) {
	addr, accepted := silentServer(t)
	cfg := testLDAPConfig(t)
	cfg.URL = "ldap://" + addr
	l, err := New(cfg, "service-secret", logtest.Discard())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ user, password string }{
		{"alice", ""},
		{"", "pw"},
	} {
		if _, err := l.Verify(context.Background(), c.user, c.password); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("Verify(%q, %q): err = %v, want ErrBadCredentials", c.user, c.password, err)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if n := accepted.Load(); n != 0 {
		t.Fatalf("%d connections made for credentials refused up front", n)
	}
}
