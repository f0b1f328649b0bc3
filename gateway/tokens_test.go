package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/config"
	"github.com/livygate/livygate/gateway/logging"
	"github.com/livygate/livygate/gateway/logging/logtest"
	"github.com/livygate/livygate/gateway/secrets"
	"github.com/livygate/livygate/gateway/sparkconf/delivery"
	"github.com/livygate/livygate/gateway/token"
	"github.com/livygate/livygate/livy/livytest"
)

// Secret values the tests must never find in an answer or a log line.
const (
	dbPassword = "db-pa55word-value"
	apiKey     = "api-key-value-0123456789"
)

type tokenHarness struct {
	t    *testing.T
	gw   *Gateway
	srv  *httptest.Server
	livy *livytest.Fake
	logs *logtest.Buffer
	log  *logrus.Logger
}

// newTokenHarness runs the whole gateway, built from a configuration as
// `serve` builds it, in front of the fake Livy: tokens delivered in conf,
// secrets from a directory. Callers log in with tokens the gateway minted.
func newTokenHarness(t *testing.T, mode delivery.Mode, opts ...func(*config.Config)) *tokenHarness {
	t.Helper()
	dir := t.TempDir()
	_, pem, err := token.Generate("ES256")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "signing.pem")
	secretsDir := filepath.Join(dir, "secrets")
	if err := os.Mkdir(secretsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, value := range map[string]string{"db-password": dbPassword, "api-key": apiKey} {
		if err := os.WriteFile(filepath.Join(secretsDir, name), []byte(value+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(keyFile, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	fake := livytest.New()
	t.Cleanup(fake.Close)
	// Livy's log echoes the conf it was given, values and all.
	fake.LogLines = []string{"--conf spark.app.db=" + dbPassword, "using api key " + apiKey}

	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	cfg := config.Default()
	cfg.Livy.URL = fake.URL()
	cfg.Store.Path = filepath.Join(dir, "livygate.db")
	cfg.Tokens = token.Config{
		// The issuer is the gateway's own URL, as OIDC discovery needs.
		Enabled: true, Issuer: "http://" + srv.Listener.Addr().String(), Audience: []string{"s3-proxy"},
		Lifetime:          60 * 60e9,
		SigningKey:        token.KeyConfig{Ref: secrets.Ref{File: keyFile}, Algorithm: "ES256"},
		GroupClaims:       []token.GroupClaimConfig{{Name: "groups", Format: "array"}},
		AcceptBearer:      true,
		MintedTokensLogIn: true, // the harness logs in with minted tokens
		Delivery:          token.Delivery{Mode: mode, ConfKeys: []string{"spark.plugin.s3.jwt"}},
	}
	cfg.Secrets = secrets.Config{
		Prefix: "secret@", Provider: "dir", Dir: secretsDir,
		Access: map[string]secrets.Access{
			"db-password": {Users: []string{"alice"}},
			"api-key":     {Groups: []string{"analysts"}},
		},
	}
	for _, o := range opts {
		o(&cfg)
	}
	logs := &logtest.Buffer{}
	log, closeLog := logging.New(cfg.Log, logs)
	t.Cleanup(closeLog)
	gw, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = gw.Server.Handler()
	srv.Start()
	return &tokenHarness{t: t, gw: gw, srv: srv, livy: fake, logs: logs, log: log}
}

func (h *tokenHarness) bearer(user string, groups ...string) string {
	m, err := h.gw.minter.Mint(user, groups)
	if err != nil {
		h.t.Fatal(err)
	}
	return "Bearer " + m.Token
}

func (h *tokenHarness) do(authz, method, path string, body any) (int, []byte) {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, h.srv.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Requested-By", "test")
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// leaks fails the test if text holds a secret value or a token.
func leaks(t *testing.T, where, text string, tokens ...string) {
	t.Helper()
	for _, s := range append([]string{dbPassword, apiKey}, tokens...) {
		if strings.Contains(text, s) {
			t.Errorf("%s holds a secret or token (%.12s…)", where, s)
		}
	}
}

func TestSecretReferencesAndTokenInConf(t *testing.T) {
	h := newTokenHarness(t, "conf")
	alice := h.bearer("alice", "analysts")

	status, body := h.do(alice, http.MethodPost, "/sessions", map[string]any{
		"kind": "pyspark",
		"conf": map[string]string{"spark.app.db": "secret@db-password", "spark.app.key": "secret@api-key", "spark.plugin.s3.jwt": "mine"},
	})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	// Livy got the values and a fresh token for alice, not the caller's value.
	var sent struct{ Conf map[string]string }
	if err := json.Unmarshal(h.livy.Last().Body, &sent); err != nil {
		t.Fatal(err)
	}
	if sent.Conf["spark.app.db"] != dbPassword || sent.Conf["spark.app.key"] != apiKey {
		t.Errorf("Livy got conf %v without the resolved secrets", keysOf(sent.Conf))
	}
	delivered := sent.Conf["spark.plugin.s3.jwt"]
	v, err := h.gw.minter.Verify(delivered)
	if err != nil || v.User != "alice" {
		t.Fatalf("delivered token: %v, %+v", err, v)
	}
	// Answers show the references and mask the token, in conf and in logs.
	if !bytes.Contains(body, []byte(`"secret@db-password"`)) || !bytes.Contains(body, []byte(`"secret@api-key"`)) {
		t.Errorf("create answer does not show the references: %s", body)
	}
	leaks(t, "create answer", string(body), delivered)
	for _, path := range []string{"/sessions", "/sessions/0", "/sessions/0/log"} {
		status, body := h.do(alice, http.MethodGet, path, nil)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, status, body)
		}
		leaks(t, "GET "+path, string(body), delivered)
	}
	_, logBody := h.do(alice, http.MethodGet, "/sessions/0/log", nil)
	if !bytes.Contains(logBody, []byte("spark.app.db=secret@db-password")) {
		t.Errorf("log answer does not show the reference where Livy echoed the value: %s", logBody)
	}

	// bob may use api-key (group) but not db-password; an unknown secret
	// gets the same answer, and Livy sees nothing.
	before := h.livy.Count("sessions")
	bob := h.bearer("bob", "analysts")
	_, notAllowed := h.do(bob, http.MethodPost, "/sessions", map[string]any{"conf": map[string]string{"spark.x": "secret@db-password"}})
	st, unknown := h.do(bob, http.MethodPost, "/sessions", map[string]any{"conf": map[string]string{"spark.x": "secret@no-such"}})
	if st != http.StatusBadRequest {
		t.Errorf("unknown secret: %d %s", st, unknown)
	}
	msg := func(b []byte) string {
		var m struct{ Msg string }
		_ = json.Unmarshal(b, &m)
		return strings.ReplaceAll(m.Msg, "no-such", "db-password")
	}
	if msg(notAllowed) != msg(unknown) || msg(unknown) == "" {
		t.Errorf("not allowed %q and unknown %q differ", notAllowed, unknown)
	}
	if h.livy.Count("sessions") != before {
		t.Error("a refused reference reached Livy")
	}
	if st, b := h.do(bob, http.MethodPost, "/sessions", map[string]any{"conf": map[string]string{"spark.x": "secret@api-key"}}); st != http.StatusCreated {
		t.Errorf("bob with api-key: %d %s", st, b)
	}

	h.log.Info("flush") // every line is out once the buffer is flushed
	logging.FlushOf(h.log).Flush()
	logs := h.logs.String()
	if !strings.Contains(logs, `"audit":true`) {
		t.Fatalf("no audit lines captured: %s", logs)
	}
	leaks(t, "the gateway's log", logs, delivered, strings.TrimPrefix(alice, "Bearer "), strings.TrimPrefix(bob, "Bearer "))
}

func TestTokenEndpointsAndBearerLogin(t *testing.T) {
	h := newTokenHarness(t, "none")
	alice := h.bearer("alice", "analysts")

	status, body := h.do(alice, http.MethodGet, "/token", nil)
	if status != http.StatusOK {
		t.Fatalf("GET /token: %d %s", status, body)
	}
	var ans token.Answer
	if err := json.Unmarshal(body, &ans); err != nil || ans.User != "alice" {
		t.Fatalf("answer %s: %v", body, err)
	}
	// The new token logs in too; a tampered one does not.
	if st, b := h.do("Bearer "+ans.Token, http.MethodGet, "/sessions", nil); st != http.StatusOK {
		t.Errorf("login with the fetched token: %d %s", st, b)
	}
	parts := strings.Split(ans.Token, ".")
	tampered := parts[0] + "." + parts[1] + "x." + parts[2]
	if st, _ := h.do("Bearer "+tampered, http.MethodGet, "/sessions", nil); st != http.StatusUnauthorized {
		t.Errorf("tampered token: %d, want 401", st)
	}
	if st, _ := h.do("", http.MethodGet, "/token", nil); st != http.StatusUnauthorized {
		t.Errorf("anonymous /token: %d, want 401", st)
	}
	// Public keys need no login.
	status, jwks := h.do("", http.MethodGet, "/.well-known/jwks.json", nil)
	if status != http.StatusOK || !bytes.Contains(jwks, []byte(ans.KeyID)) {
		t.Errorf("JWKS: %d %s", status, jwks)
	}
	if status, pem := h.do("", http.MethodGet, "/.well-known/livygate/keys/"+ans.KeyID+".pem", nil); status != http.StatusOK || !bytes.Contains(pem, []byte("PUBLIC KEY")) {
		t.Errorf("PEM: %d %s", status, pem)
	}

	logging.FlushOf(h.log).Flush()
	logs := h.logs.String()
	if !strings.Contains(logs, "token minted for alice") {
		t.Errorf("no audit event for the mint: %s", logs)
	}
	leaks(t, "the gateway's log", logs, ans.Token)
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Issue 11, item 11: a token whose audience is only the downstream S3 proxy
// is no gateway login, not even an admin's (API or admin UI); with
// minted_tokens_log_in the minted ones carry the gateway's audience.
func TestS3TokenIsNoGatewayLogin(t *testing.T) {
	h := newTokenHarness(t, "none", func(c *config.Config) { c.Tokens.MintedTokensLogIn = false })
	for _, user := range []string{"alice", "carol"} {
		m, err := h.gw.minter.Mint(user, []string{"livygate-admins"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.gw.minter.Verify(m.Token); err != nil {
			t.Fatalf("the S3 proxy's check fails: %v", err)
		}
		for _, path := range []string{"/sessions", "/token", "/admin/ui/", "/admin/sync"} {
			if st, b := h.do("Bearer "+m.Token, http.MethodGet, path, nil); st == http.StatusOK {
				t.Errorf("%s's S3 token opens %s: %d %s", user, path, st, b)
			}
		}
	}
	on := newTokenHarness(t, "none")
	m, _ := on.gw.minter.Mint("alice", nil)
	if st, b := on.do("Bearer "+m.Token, http.MethodGet, "/sessions", nil); st != http.StatusOK {
		t.Errorf("with minted_tokens_log_in: %d %s", st, b)
	}
}

// Issue 11, item 9: masking is no oracle. A user who may not use a secret
// who echoes a guessed value gets it back as written, not as its reference;
// a user who may use it sees the reference.
func TestMaskingConfirmsNoGuess(t *testing.T) {
	h := newTokenHarness(t, "none")
	for user, want := range map[string]string{"bob": dbPassword, "alice": "secret@db-password"} {
		who := h.bearer(user, "etl")
		st, body := h.do(who, http.MethodPost, "/sessions", map[string]any{"kind": "pyspark"})
		if st != http.StatusCreated {
			t.Fatalf("%s create: %d %s", user, st, body)
		}
		var s struct{ ID int }
		_ = json.Unmarshal(body, &s)
		st, body = h.do(who, http.MethodPost, fmt.Sprintf("/sessions/%d/statements", s.ID), map[string]any{"code": dbPassword})
		if st != http.StatusCreated || !strings.Contains(string(body), "result of "+want) {
			t.Errorf("%s echoing the value: %d %s, want %q", user, st, body, want)
		}
		if user == "bob" && strings.Contains(string(body), "secret@") {
			t.Errorf("bob learns the secret's name: %s", body)
		}
	}
}
