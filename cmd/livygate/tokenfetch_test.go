package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Secrets in these tests contain "s3cr3t" or are the JWT below, so a leak
// onto stderr is easy to spot.
const (
	tfPassword = "alice:s3cr3t:pa ss"
	tfHubToken = "s3cr3t-hub-token"
)

var tfJWT = b64(`{"alg":"ES256","kid":"k1","typ":"JWT"}`) + "." + b64(`{"sub":"alice","exp":1795417200}`) + "." + b64("s3cr3t-signature")

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// fakeTokenGateway records what it was asked and answers as told.
type fakeTokenGateway struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
	status   int
	header   http.Header
	body     string
}

func newFakeTokenGateway(t *testing.T, status int, body string) *fakeTokenGateway {
	t.Helper()
	g := &fakeTokenGateway{status: status, body: body, header: http.Header{}}
	g.Server = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.Close)
	return g
}

func (g *fakeTokenGateway) serve(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	g.requests = append(g.requests, r.Clone(r.Context()))
	g.mu.Unlock()
	for k, v := range g.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(g.status)
	_, _ = w.Write([]byte(g.body))
}

func (g *fakeTokenGateway) only(t *testing.T) *http.Request {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.requests) != 1 {
		t.Fatalf("gateway got %d requests, want 1", len(g.requests))
	}
	return g.requests[0]
}

func (g *fakeTokenGateway) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.requests)
}

func okAnswer(user string) string {
	b, _ := json.Marshal(map[string]string{
		"token": tfJWT, "token_type": "Bearer", "user": user, "kid": "k1",
		"expires_at": "2026-11-23T07:00:00Z", "issued_at": "2026-11-22T07:00:00Z",
	})
	return string(b)
}

func runTokenFetch(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := tokenFetch(args, &stdout, &stderr)
	if stdout.Len() != 0 {
		t.Errorf("stdout is not empty (%d bytes)", stdout.Len())
	}
	for _, secret := range []string{tfJWT, "s3cr3t", b64("s3cr3t-signature")} {
		if strings.Contains(stderr.String(), secret) {
			t.Errorf("stderr shows a secret: %q", strings.ReplaceAll(stderr.String(), secret, "<SECRET>"))
		}
	}
	return code, stderr.String()
}

// freeAddr is a loopback address nothing listens on (just now).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func writeTestFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestTokenFetchSuccess(t *testing.T) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(tfPassword))
	for _, tc := range []struct {
		desc      string
		prefix    string // path prefix of the gateway URL
		creds     func(t *testing.T, dir string) []string
		extra     []string
		answerFor string
		wantAuth  string
		wantPath  string
		wantQuery string
	}{
		{
			desc: "credentials file with trailing newline",
			creds: func(t *testing.T, dir string) []string {
				return []string{"--credentials", writeTestFile(t, dir, "creds", tfPassword+"\r\nsecond line ignored\n")}
			},
			answerFor: "alice", wantAuth: basic, wantPath: "/token",
		},
		{
			desc: "credentials env",
			creds: func(t *testing.T, dir string) []string {
				t.Setenv("TF_TEST_CREDS", tfPassword)
				return []string{"--credentials-env", "TF_TEST_CREDS"}
			},
			answerFor: "alice", wantAuth: basic, wantPath: "/token",
		},
		{
			desc: "hub token file",
			creds: func(t *testing.T, dir string) []string {
				return []string{"--hub-token-file", writeTestFile(t, dir, "hub", tfHubToken+"\n")}
			},
			answerFor: "alice", wantAuth: "token " + tfHubToken, wantPath: "/token",
		},
		{
			desc: "hub token env",
			creds: func(t *testing.T, dir string) []string {
				t.Setenv("TF_TEST_HUB", tfHubToken)
				return []string{"-hub-token-env=TF_TEST_HUB"}
			},
			answerFor: "alice", wantAuth: "token " + tfHubToken, wantPath: "/token",
		},
		{
			desc:   "path prefix and --user",
			prefix: "/livygate/",
			creds: func(t *testing.T, dir string) []string {
				return []string{"--credentials", writeTestFile(t, dir, "creds", tfPassword)}
			},
			extra:     []string{"--user", "bob smith&x=y"},
			answerFor: "bob smith&x=y", wantAuth: basic, wantPath: "/livygate/token", wantQuery: "user=bob+smith%26x%3Dy",
		},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			g := newFakeTokenGateway(t, http.StatusOK, okAnswer(tc.answerFor))
			dir := t.TempDir()
			out := filepath.Join(dir, "out", "token")
			if err := os.Mkdir(filepath.Dir(out), 0o755); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"--gateway", g.URL + tc.prefix, "--out", out}, tc.creds(t, dir)...)
			code, stderr := runTokenFetch(t, append(args, tc.extra...)...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			req := g.only(t)
			if req.Method != http.MethodGet || req.URL.Path != tc.wantPath || req.URL.RawQuery != tc.wantQuery {
				t.Errorf("request %s %s?%s, want GET %s?%s", req.Method, req.URL.Path, req.URL.RawQuery, tc.wantPath, tc.wantQuery)
			}
			if got := req.Header.Get("Authorization"); got != tc.wantAuth {
				t.Error("wrong Authorization header")
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tfJWT {
				t.Errorf("file holds %d bytes, not exactly the token", len(b))
			}
			st, err := os.Stat(out)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("file mode %v, want 0600", st.Mode().Perm())
			}
			if names := dirNames(t, filepath.Dir(out)); !slices.Equal(names, []string{"token"}) {
				t.Errorf("directory holds %v, want only the token", names)
			}
			want := "livygate: token for " + tc.answerFor + " (kid k1) written to " + out + ", expires 2026-11-23T07:00:00Z\n"
			if stderr != want {
				t.Errorf("stderr %q, want %q", stderr, want)
			}
		})
	}
}

func TestTokenFetchReplacesAnOldToken(t *testing.T) {
	g := newFakeTokenGateway(t, http.StatusOK, okAnswer("alice"))
	dir := t.TempDir()
	out := writeTestFile(t, dir, "token", "old-token-that-is-longer-than-the-new-one-"+strings.Repeat("x", 500))
	if err := os.Chmod(out, 0o644); err != nil {
		t.Fatal(err)
	}
	hub := writeTestFile(t, dir, "hub", tfHubToken)
	if code, stderr := runTokenFetch(t, "--gateway", g.URL, "--out", out, "--hub-token-file", hub); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, _ := os.ReadFile(out)
	st, _ := os.Stat(out)
	if string(b) != tfJWT || st.Mode().Perm() != 0o600 {
		t.Errorf("old token not replaced by the new one with mode 0600 (mode %v)", st.Mode().Perm())
	}
}

func TestTokenFetchFailures(t *testing.T) {
	answer := func(fields map[string]string) string {
		b, _ := json.Marshal(fields)
		return string(b)
	}
	for _, tc := range []struct {
		desc   string
		status int
		header http.Header
		body   string
		extra  []string
		want   string // the whole reason after "livygate: token fetch: "
	}{
		{desc: "401", status: 401, body: `{"msg": "invalid credentials"}`, want: "gateway answered 401: invalid credentials"},
		{desc: "403", status: 403, body: `{"msg": "only administrators may fetch another user's token"}`, extra: []string{"--user", "bob"}, want: "gateway answered 403: only administrators may fetch another user's token"},
		{desc: "429", status: 429, header: http.Header{"Retry-After": {"30"}}, body: `{"msg": "too many requests"}`, want: "gateway answered 429: too many requests (retry after 30)"},
		{desc: "503 not JSON", status: 503, body: "<html>down</html>", want: "gateway answered 503: Service Unavailable"},
		{desc: "multi-line msg", status: 500, body: `{"msg": "boom\nsecond line"}`, want: "gateway answered 500: boom second line"},
		{desc: "redirect not followed", status: 302, header: http.Header{"Location": {"http://elsewhere.invalid/token"}}, want: "gateway answered 302: Found"},
		{desc: "not JSON", status: 200, body: "s3cr3t-not-json", want: "malformed answer: not a JSON token object"},
		{desc: "no token", status: 200, body: answer(map[string]string{"user": "alice"}), want: "answer has no token"},
		{desc: "token not a JWT", status: 200, body: answer(map[string]string{"token": "s3cr3t-opaque", "user": "alice"}), want: "answer's token is not a JWT"},
		{desc: "JWT with empty signature", status: 200, body: answer(map[string]string{"token": b64(`{"alg":"none"}`) + "." + b64(`{"sub":"s3cr3t"}`) + ".", "user": "alice"}), want: "answer's token is not a JWT"},
		{desc: "JWT header not JSON", status: 200, body: answer(map[string]string{"token": b64("s3cr3t") + "." + b64(`{}`) + "." + b64("sig"), "user": "alice"}), want: "answer's token is not a JWT"},
		{desc: "token type", status: 200, body: answer(map[string]string{"token": tfJWT, "token_type": "MAC", "user": "alice"}), want: `answer's token type is "MAC", not Bearer`},
		{desc: "wrong user", status: 200, body: okAnswer("alice"), extra: []string{"--user", "bob"}, want: `gateway answered a token for "alice", not for "bob"`},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			g := newFakeTokenGateway(t, tc.status, tc.body)
			g.header = tc.header
			for _, existing := range []bool{false, true} {
				dir := t.TempDir()
				out := filepath.Join(dir, "token")
				if existing {
					writeTestFile(t, dir, "token", "old-token")
				}
				hub := writeTestFile(t, t.TempDir(), "hub", tfHubToken)
				args := append([]string{"--gateway", g.URL, "--out", out, "--hub-token-file", hub}, tc.extra...)
				code, stderr := runTokenFetch(t, args...)
				if code != 1 {
					t.Errorf("exit %d, want 1", code)
				}
				if want := "livygate: token fetch: " + tc.want + "\n"; stderr != want {
					t.Errorf("stderr %q, want %q", stderr, want)
				}
				b, err := os.ReadFile(out)
				switch {
				case existing && string(b) != "old-token":
					t.Error("the existing token file was changed")
				case !existing && !os.IsNotExist(err):
					t.Errorf("a token file was written (err %v)", err)
				}
				if names := dirNames(t, dir); len(names) != map[bool]int{false: 0, true: 1}[existing] {
					t.Errorf("directory holds %v", names)
				}
			}
		})
	}
}

func TestTokenFetchGatewayDown(t *testing.T) {
	addr := freeAddr(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "token")
	t.Setenv("TF_TEST_CREDS", tfPassword)
	code, stderr := runTokenFetch(t, "--gateway", "http://"+addr, "--out", out, "--credentials-env", "TF_TEST_CREDS")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if want := "livygate: token fetch: cannot reach gateway http://" + addr + ": connection refused\n"; stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("directory holds %v", names)
	}
}

func TestTokenFetchTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	t.Setenv("TF_TEST_HUB", tfHubToken)
	start := time.Now()
	code, stderr := runTokenFetch(t, "--gateway", srv.URL, "--out", filepath.Join(dir, "token"), "--hub-token-env", "TF_TEST_HUB", "--timeout", "200ms")
	if code != 1 || !strings.HasSuffix(stderr, ": no answer within 200ms\n") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v despite --timeout 200ms", d)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("directory holds %v", names)
	}
}

func TestTokenFetchHTTPSWithCAFile(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(okAnswer("alice")))
	}))
	defer srv.Close()
	dir := t.TempDir()
	ca := writeTestFile(t, dir, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})))
	hub := writeTestFile(t, dir, "hub", tfHubToken)
	out := filepath.Join(dir, "token")

	code, stderr := runTokenFetch(t, "--gateway", srv.URL, "--out", out, "--hub-token-file", hub)
	if code != 1 || !strings.Contains(stderr, "certificate") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("without --ca-file: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Error("token file written without a trusted certificate")
	}
	if code, stderr := runTokenFetch(t, "--gateway", srv.URL, "--out", out, "--hub-token-file", hub, "--ca-file", ca); code != 0 {
		t.Errorf("with --ca-file: exit %d, stderr %q", code, stderr)
	}
	if b, _ := os.ReadFile(out); string(b) != tfJWT {
		t.Error("token file does not hold the token")
	}
}

func TestTokenFetchLocalFailures(t *testing.T) {
	g := newFakeTokenGateway(t, http.StatusOK, okAnswer("alice"))
	dir := t.TempDir()
	noColon := writeTestFile(t, dir, "nocolon", "s3cr3t-no-colon\n")
	empty := writeTestFile(t, dir, "empty", "\n")
	hub := writeTestFile(t, dir, "hub", tfHubToken)
	notPEM := writeTestFile(t, dir, "ca.pem", "s3cr3t")
	t.Setenv("TF_TEST_EMPTY", "")
	for _, tc := range []struct {
		desc string
		args []string
		want string
		gw   string // gateway URL; g.URL when empty
	}{
		{desc: "credentials file missing", args: []string{"--credentials", filepath.Join(dir, "missing")}, want: "reading credentials file"},
		{desc: "credentials without colon", args: []string{"--credentials", noColon}, want: "credentials file " + noColon + " does not hold user:password"},
		{desc: "credentials file empty", args: []string{"--credentials", empty}, want: "is empty or not set"},
		{desc: "env not set", args: []string{"--credentials-env", "TF_TEST_UNSET_VAR"}, want: "environment variable TF_TEST_UNSET_VAR is empty or not set"},
		{desc: "env empty", args: []string{"--hub-token-env", "TF_TEST_EMPTY"}, want: "environment variable TF_TEST_EMPTY is empty or not set"},
		{desc: "CA file not PEM", gw: "https://127.0.0.1:1", args: []string{"--hub-token-file", hub, "--ca-file", notPEM}, want: "holds no PEM certificate"},
		{desc: "out dir missing", args: []string{"--hub-token-file", hub, "--out", filepath.Join(dir, "nodir", "token")}, want: "writing the token file"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			before := g.count()
			gw := tc.gw
			if gw == "" {
				gw = g.URL
			}
			out := filepath.Join(t.TempDir(), "token")
			code, stderr := runTokenFetch(t, append([]string{"--gateway", gw, "--out", out}, tc.args...)...)
			if code != 1 || !strings.HasPrefix(stderr, "livygate: token fetch: ") || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want exit 1 and one line with %q", code, stderr, tc.want)
			}
			if strings.HasPrefix(tc.want, "writing") {
				return // the gateway was asked; the file could not be written
			}
			if g.count() != before {
				t.Error("the gateway was asked despite a local failure")
			}
		})
	}
}

// A rename that fails (here over a non-empty directory) leaves no temporary
// file behind.
func TestTokenFetchWriteFailureLeavesNoTempFile(t *testing.T) {
	g := newFakeTokenGateway(t, http.StatusOK, okAnswer("alice"))
	dir := t.TempDir()
	out := filepath.Join(dir, "token")
	if err := os.Mkdir(out, 0o700); err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, out, "keep", "x")
	hub := writeTestFile(t, t.TempDir(), "hub", tfHubToken)
	code, stderr := runTokenFetch(t, "--gateway", g.URL, "--out", out, "--hub-token-file", hub)
	if code != 1 || !strings.HasPrefix(stderr, "livygate: token fetch: writing the token file "+out+": ") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"token"}) {
		t.Errorf("directory holds %v, want only the old entry", names)
	}
}

func TestTokenFetchUsageErrors(t *testing.T) {
	g := newFakeTokenGateway(t, http.StatusOK, okAnswer("alice"))
	dir := t.TempDir()
	out := filepath.Join(dir, "token")
	creds := writeTestFile(t, dir, "creds", tfPassword)
	hub := writeTestFile(t, dir, "hub", tfHubToken)
	for _, tc := range []struct {
		desc string
		args []string
		want string
	}{
		{desc: "no --out", args: []string{"--gateway", g.URL, "--credentials", creds}, want: "--out FILE is required"},
		{desc: "no --gateway", args: []string{"--out", out, "--credentials", creds}, want: "--gateway URL is required"},
		{desc: "no credentials", args: []string{"--gateway", g.URL, "--out", out}, want: "exactly one of"},
		{desc: "two credential sources", args: []string{"--gateway", g.URL, "--out", out, "--credentials", creds, "--hub-token-file", hub}, want: "exactly one of"},
		{desc: "basic twice", args: []string{"--gateway", g.URL, "--out", out, "--credentials", creds, "--credentials-env", "X"}, want: "exactly one of"},
		{desc: "ftp gateway", args: []string{"--gateway", "ftp://h", "--out", out, "--credentials", creds}, want: "http:// or https://"},
		{desc: "gateway without scheme", args: []string{"--gateway", "localhost:8998", "--out", out, "--credentials", creds}, want: "http:// or https://"},
		{desc: "credentials in URL", args: []string{"--gateway", "http://u:s3cr3t@h", "--out", out, "--credentials", creds}, want: "must not hold credentials"},
		{desc: "query in URL", args: []string{"--gateway", g.URL + "?user=bob", "--out", out, "--credentials", creds}, want: "query"},
		{desc: "ca-file with http", args: []string{"--gateway", g.URL, "--out", out, "--credentials", creds, "--ca-file", creds}, want: "only for an https gateway"},
		{desc: "bad timeout", args: []string{"--gateway", g.URL, "--out", out, "--credentials", creds, "--timeout", "0s"}, want: "--timeout must be positive"},
		{desc: "extra argument", args: []string{"--gateway", g.URL, "--out", out, "--credentials", creds, "now"}, want: `unexpected argument "now"`},
		{desc: "unknown flag", args: []string{"--password", "x"}, want: "flag provided but not defined"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			code, stderr := runTokenFetch(t, tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 mentioning %q", code, stderr, tc.want)
			}
		})
	}
	if g.count() != 0 {
		t.Errorf("the gateway got %d requests on usage errors", g.count())
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Error("a token file was written on a usage error")
	}
}
