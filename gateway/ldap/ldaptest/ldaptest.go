//go:build integration

// Package ldaptest runs a private OpenLDAP server (Debian's slapd) for
// integration tests: deploy/dev/ldap/slapd.sh starts it on a free loopback
// port in a temporary directory, loaded with deploy/dev/ldap/users.ldif.tmpl
// and fresh random passwords, and stops it when the test ends.
//
// slapd must be installed (`make deps`, or deploy/dev/ldap/slapd.sh install);
// without it Start fails the test. It never skips.
package ldaptest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/ldap"
)

// The directory tree in users.ldif.tmpl.
const (
	Suffix      = "dc=livygate,dc=test"
	RootDN      = "cn=admin," + Suffix
	UserBaseDN  = "ou=people," + Suffix
	GroupBaseDN = "ou=groups," + Suffix
	ServiceDN   = "cn=livygate,ou=services," + Suffix

	// AnalystsGroup holds Alice, Bob and Dave; AdminGroup holds Carol.
	AnalystsGroup = "analysts"
	AdminGroup    = "livygate-admins"

	Alice = "alice"
	Bob   = "bob"
	Carol = "carol"
	// Dave's uid is made of LDAP filter specials; his DN escapes the
	// backslash as \5C.
	Dave   = `d*ve(x)\u`
	DaveDN = `uid=d*ve(x)\5Cu,` + UserBaseDN
	// Twin names two entries: a login as Twin is ambiguous.
	Twin = "twin"
)

// Server is a running slapd.
type Server struct {
	// URL is ldap://127.0.0.1:PORT: plain LDAP, and StartTLS when started
	// WithTLS.
	URL  string
	Addr string
	// With WithTLS: LDAPSURL is ldaps://127.0.0.1:PORT2, CAFile the PEM of
	// the CA that signed the server's certificate (for 127.0.0.1 and
	// localhost), OtherCAFile a CA that did not.
	LDAPSURL    string
	CAFile      string
	OtherCAFile string
	// Dir holds slapd.conf, the database and slapd.pid.
	Dir string

	RootPassword string
	// BindDN and BindPassword are the gateway's service account;
	// BindPasswordFile holds the service account's password.
	BindDN           string
	BindPassword     string
	BindPasswordFile string
	// Passwords maps each user (Alice, Bob, Carol, Dave, Twin) to theirs.
	Passwords map[string]string

	t        testing.TB
	script   string
	env      []string
	startEnv []string // the environment and arguments of the start that worked,
	startArg []string // for Restart
	mu       sync.Mutex
	running  bool
}

// Option changes how Start runs slapd.
type Option func(*options)

type options struct{ tls bool }

// WithTLS gives slapd a certificate from a fresh test CA: StartTLS on URL
// and ldaps:// on LDAPSURL.
func WithTLS() Option { return func(o *options) { o.tls = true } }

// repoFile returns the path of a file relative to the module root.
func repoFile(rel string) string {
	_, here, _, _ := runtime.Caller(0) // …/gateway/ldap/ldaptest/ldaptest.go
	return filepath.Join(filepath.Dir(here), "..", "..", "..", filepath.FromSlash(rel))
}

// Installed reports whether slapd and the ldap-utils the script needs are
// present, and if not what is missing.
func Installed() (bool, string) {
	var missing []string
	for _, tool := range []string{"slapd", "slappasswd", "ldapadd", "ldapsearch"} {
		if _, err := exec.LookPath(tool); err == nil {
			continue
		}
		if _, err := os.Stat(filepath.Join("/usr/sbin", tool)); err == nil {
			continue
		}
		missing = append(missing, tool)
	}
	return len(missing) == 0, strings.Join(missing, ", ")
}

// Start runs a fresh slapd for this test and stops it at t.Cleanup.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if ok, missing := Installed(); !ok {
		t.Fatalf("slapd is missing: run `make deps` (it runs deploy/dev/ldap/slapd.sh install); not found: %s", missing)
	}
	script := repoFile("deploy/dev/ldap/slapd.sh")
	tmpl, err := os.ReadFile(repoFile("deploy/dev/ldap/users.ldif.tmpl"))
	if err != nil {
		t.Fatalf("ldaptest: reading the LDIF template: %v", err)
	}

	dir := t.TempDir()
	s := &Server{
		Dir:          filepath.Join(dir, "slapd"),
		RootPassword: randomPassword(),
		BindDN:       ServiceDN,
		BindPassword: randomPassword(),
		Passwords: map[string]string{
			Alice: randomPassword(),
			Bob:   randomPassword(),
			Carol: randomPassword(),
			// Characters that Basic and LDAP must carry untouched.
			Dave: randomPassword() + `:é *)(\`,
			Twin: randomPassword(),
		},
		t:      t,
		script: script,
	}
	ldif, err := renderLDIF(string(tmpl), map[string]string{
		"SERVICE": s.BindPassword,
		"ALICE":   s.Passwords[Alice],
		"BOB":     s.Passwords[Bob],
		"CAROL":   s.Passwords[Carol],
		"DAVE":    s.Passwords[Dave],
		"TWIN":    s.Passwords[Twin],
	})
	if err != nil {
		t.Fatalf("ldaptest: %v", err)
	}
	ldifPath := filepath.Join(dir, "users.ldif")
	if err := os.WriteFile(ldifPath, []byte(ldif), 0o600); err != nil {
		t.Fatal(err)
	}
	s.BindPasswordFile = filepath.Join(dir, "bind.pw")
	if err := os.WriteFile(s.BindPasswordFile, []byte(s.BindPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	if o.tls {
		certFile, keyFile, err := s.makeCerts(dir)
		if err != nil {
			t.Fatalf("ldaptest: making TLS certificates: %v", err)
		}
		s.env = append(s.env, "SLAPD_TLS_CERT="+certFile, "SLAPD_TLS_KEY="+keyFile)
	}

	// A free port can be taken between our probe and slapd's bind; retry.
	var lastOut []byte
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("ldaptest: finding a free port: %v", err)
		}
		env := s.env
		ldapsPort := 0
		if o.tls {
			if ldapsPort, err = freePort(); err != nil {
				t.Fatalf("ldaptest: finding a free port: %v", err)
			}
			env = append(env, fmt.Sprint("SLAPD_LDAPS_PORT=", ldapsPort))
		}
		args := []string{"start", s.Dir, fmt.Sprint(port), ldifPath}
		out, err := s.runEnv(env, args...)
		if err == nil {
			s.startEnv, s.startArg, s.running = env, args, true
			s.Addr = net.JoinHostPort("127.0.0.1", fmt.Sprint(port))
			s.URL = "ldap://" + s.Addr
			if o.tls {
				s.LDAPSURL = "ldaps://" + net.JoinHostPort("127.0.0.1", fmt.Sprint(ldapsPort))
			}
			t.Cleanup(s.Stop)
			return s
		}
		lastOut = out
		s.run("stop", s.Dir) // whatever half-started
	}
	t.Fatalf("ldaptest: slapd did not start:\n%s", lastOut)
	return nil
}

// Stop stops slapd. It is safe to call more than once; Start registers it
// with t.Cleanup.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return
	}
	s.running = false
	if out, err := s.run("stop", s.Dir); err != nil {
		s.t.Errorf("ldaptest: stopping slapd: %v\n%s", err, out)
	}
}

// Restart starts a stopped slapd again on the same port with the same
// entries and passwords, as an operator bringing the directory back does.
func (s *Server) Restart() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return
	}
	if out, err := s.runEnv(s.startEnv, s.startArg...); err != nil {
		s.t.Fatalf("ldaptest: restarting slapd: %v\n%s", err, out)
	}
	s.running = true
}

func (s *Server) run(args ...string) ([]byte, error) { return s.runEnv(s.env, args...) }

func (s *Server) runEnv(env []string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{s.script}, args...)...)
	// The root password travels in the environment, not on a command line.
	cmd.Env = append(append(os.Environ(), "SLAPD_ROOTPW="+s.RootPassword), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("slapd.sh %s: %w", args[0], err)
	}
	return out, nil
}

// Config is an auth.ldap configuration for this server in memberOf mode:
// plain LDAP on loopback (AllowInsecure); the service account's password
// is in BindPasswordFile.
func (s *Server) Config() ldap.Config {
	return ldap.Config{
		URL:                      s.URL,
		AllowInsecure:            true,
		Timeout:                  5 * time.Second,
		BindDN:                   s.BindDN,
		UserBaseDN:               UserBaseDN,
		UserFilter:               "(objectClass=inetOrgPerson)",
		UsernameAttribute:        "uid",
		GroupMembershipAttribute: "memberOf",
		GroupNameAttribute:       "cn",
	}
}

// GroupSearchConfig is Config in group-search mode: groups found by
// searching GroupBaseDN for groupOfNames whose member is the user's DN.
func (s *Server) GroupSearchConfig() ldap.Config {
	c := s.Config()
	c.GroupMembershipAttribute = ""
	c.GroupBaseDN = GroupBaseDN
	c.GroupFilter = "(&(objectClass=groupOfNames)(member={dn}))"
	c.GroupNameAttribute = "cn"
	return c
}

var placeholder = regexp.MustCompile(`@([A-Z]+)_PASSWORD@`)

// renderLDIF fills each @NAME_PASSWORD@ outside comments with the {SSHA}
// hash of passwords[NAME].
func renderLDIF(tmpl string, passwords map[string]string) (string, error) {
	var missing []string
	lines := strings.SplitAfter(tmpl, "\n")
	for i, line := range lines {
		if strings.HasPrefix(line, "#") {
			continue
		}
		lines[i] = placeholder.ReplaceAllStringFunc(line, func(m string) string {
			pw, ok := passwords[placeholder.FindStringSubmatch(m)[1]]
			if !ok {
				missing = append(missing, m)
				return m
			}
			return ssha(pw)
		})
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("LDIF template placeholders without a password: %s", strings.Join(missing, ", "))
	}
	return strings.Join(lines, ""), nil
}

// ssha is an RFC 2307 {SSHA} userPassword value, as slappasswd makes.
func ssha(password string) string {
	salt := make([]byte, 8)
	rand.Read(salt)
	h := sha1.New()
	h.Write([]byte(password))
	h.Write(salt)
	return "{SSHA}" + base64.StdEncoding.EncodeToString(append(h.Sum(nil), salt...))
}

func randomPassword() string {
	b := make([]byte, 18)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Search runs ldapsearch as the root DN and returns its LDIF output, for
// tests that want to look at the directory directly.
func (s *Server) Search(base, filter string, attrs ...string) (string, error) {
	args := append([]string{"-x", "-LLL", "-o", "ldif-wrap=no", "-H", s.URL, "-D", RootDN, "-y", filepath.Join(s.Dir, "rootpw"), "-b", base, filter}, attrs...)
	cmd := exec.Command("ldapsearch", args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.String(), err
}

// makeCerts writes a test CA (CAFile), an unrelated CA (OtherCAFile) and a
// server certificate for 127.0.0.1 and localhost signed by the first.
func (s *Server) makeCerts(dir string) (certFile, keyFile string, err error) {
	newKey := func() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }
	writePEM := func(name, typ string, der []byte) (string, error) {
		path := filepath.Join(dir, name)
		return path, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
	}
	now := time.Now()
	makeCA := func(cn string) (*x509.Certificate, *ecdsa.PrivateKey, []byte, error) {
		key, err := newKey()
		if err != nil {
			return nil, nil, nil, err
		}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(now.UnixNano()),
			Subject:               pkix.Name{CommonName: cn},
			NotBefore:             now.Add(-time.Hour),
			NotAfter:              now.Add(24 * time.Hour),
			IsCA:                  true,
			BasicConstraintsValid: true,
			KeyUsage:              x509.KeyUsageCertSign,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			return nil, nil, nil, err
		}
		cert, err := x509.ParseCertificate(der)
		return cert, key, der, err
	}

	ca, caKey, caDER, err := makeCA("livygate test CA")
	if err != nil {
		return "", "", err
	}
	if s.CAFile, err = writePEM("ca.pem", "CERTIFICATE", caDER); err != nil {
		return "", "", err
	}
	_, _, otherDER, err := makeCA("some other CA")
	if err != nil {
		return "", "", err
	}
	if s.OtherCAFile, err = writePEM("other-ca.pem", "CERTIFICATE", otherDER); err != nil {
		return "", "", err
	}

	key, err := newKey()
	if err != nil {
		return "", "", err
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano() + 1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return "", "", err
	}
	if certFile, err = writePEM("server.pem", "CERTIFICATE", der); err != nil {
		return "", "", err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	keyFile, err = writePEM("server.key", "PRIVATE KEY", keyDER)
	return certFile, keyFile, err
}
