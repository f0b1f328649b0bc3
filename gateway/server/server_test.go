package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus/hooks/test"

	"github.com/livygate/livygate/gateway/audit"
	"github.com/livygate/livygate/gateway/auth"
)

type fixedAuth struct {
	id  *auth.Identity
	err error
}

func (f fixedAuth) Authenticate(context.Context, *http.Request) (*auth.Identity, error) {
	return f.id, f.err
}

type nopSink struct{}

func (nopSink) Record(audit.Event) {}

type okPinger struct{}

func (okPinger) Version(context.Context) error { return nil }

func newTestServer(a auth.Authenticator, h http.Handler, listen Config) *Server {
	log, _ := test.NewNullLogger()
	return New(Options{Listen: listen, Realm: "r", Authn: a, Livy: h, Ready: okPinger{}, Audit: nopSink{}, Log: log})
}

// serve runs s on a loopback port until the test ends, and returns its
// address.
func serve(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = s.Serve(ctx, ln) }()
	return ln.Addr().String()
}

func TestAuthFailuresMapToStatus(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	cases := []struct {
		err        error
		status     int
		retryAfter string
	}{
		{auth.ErrNoCredentials, 401, ""},
		{auth.ErrBadCredentials, 401, ""},
		{&auth.LockedError{RetryAfter: 90500 * time.Millisecond}, 429, "91"},
		{auth.ErrUnavailable, 503, ""},
	}
	for _, c := range cases {
		srv := httptest.NewServer(newTestServer(fixedAuth{err: c.err}, ok, Default()).Handler())
		resp, err := http.Get(srv.URL + "/sessions")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if resp.StatusCode != c.status || resp.Header.Get("Retry-After") != c.retryAfter ||
			!strings.HasPrefix(string(body), `{"msg":`) || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%v: %d %q %s", c.err, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
		if (c.status == 401) != (resp.Header.Get("WWW-Authenticate") != "") {
			t.Errorf("%v: WWW-Authenticate %q", c.err, resp.Header.Get("WWW-Authenticate"))
		}
	}
}

func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	started := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		_, _ = io.WriteString(w, "done")
	})
	id := &auth.Identity{User: "alice"}
	s := newTestServer(fixedAuth{id: id}, slow, Default())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/sessions")
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	<-started
	cancel()
	if body := <-got; body != "done" {
		t.Errorf("in-flight request got %q", body)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve returned %v", err)
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		t.Error("server still accepts connections after shutdown")
	}
}

func TestTLSListener(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	listen := Default()
	listen.TLSCertFile, listen.TLSKeyFile = certFile, keyFile
	addr := serve(t, newTestServer(fixedAuth{}, http.NotFoundHandler(), listen))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Errorf("TLS healthz: %d, tls %v", resp.StatusCode, resp.TLS != nil)
	}
}

func selfSigned(t *testing.T, dir string) (string, string, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
