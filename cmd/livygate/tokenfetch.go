package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

const tokenFetchUsage = "usage: livygate token fetch --gateway URL --out FILE " +
	"(--credentials FILE | --credentials-env VAR | --hub-token-file FILE | --hub-token-env VAR) " +
	"[--user NAME] [--ca-file FILE] [--timeout 30s]"

// maxTokenAnswer bounds what is read from the gateway.
const maxTokenAnswer = 1 << 20

// tokenAnswer is the gateway's answer to GET /token.
type tokenAnswer struct {
	Token     string `json:"token"`
	TokenType string `json:"token_type"`
	User      string `json:"user"`
	Kid       string `json:"kid"`
	ExpiresAt string `json:"expires_at"`
	IssuedAt  string `json:"issued_at"`
}

// tokenFetch is `livygate token fetch`: for bootstrap scripts on a Spark
// driver node, it fetches the caller's JWT from the gateway and writes it,
// and nothing else, to a file only its owner can read. Exit 0 on success,
// 1 when the fetch failed (one line on stderr), 2 on a usage error. The
// token and the credentials never reach stdout, stderr or the command line.
func tokenFetch(args []string, stdout, stderr io.Writer) int {
	_ = stdout // the token goes to --out only, never to a stream a script may log
	fs := flag.NewFlagSet("token fetch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "livygate token fetch: "+tokenFetchUsage)
		fs.PrintDefaults()
	}
	gateway := fs.String("gateway", "", "gateway base URL, http or https (required)")
	out := fs.String("out", "", "file to write the token to, mode 0600, replaced atomically (required)")
	credFile := fs.String("credentials", "", "file whose first line is user:password (HTTP Basic)")
	credEnv := fs.String("credentials-env", "", "environment variable holding user:password (HTTP Basic)")
	hubFile := fs.String("hub-token-file", "", "file holding a JupyterHub API token")
	hubEnv := fs.String("hub-token-env", "", "environment variable holding a JupyterHub API token")
	user := fs.String("user", "", "fetch this user's token instead of the caller's (administrators)")
	caFile := fs.String("ca-file", "", "PEM bundle to verify an https gateway with")
	timeout := fs.Duration("timeout", 30*time.Second, "time limit for the whole fetch")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "livygate token fetch: "+format+"\n", a...)
		fmt.Fprintln(stderr, tokenFetchUsage)
		return 2
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q.", fs.Arg(0))
	}
	if *gateway == "" {
		return usageErr("--gateway URL is required.")
	}
	if *out == "" {
		return usageErr("--out FILE is required.")
	}
	base, err := url.Parse(*gateway)
	switch {
	case err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "":
		return usageErr("--gateway must be an http:// or https:// URL.")
	case base.User != nil:
		// Anything on the command line shows in ps and shell history.
		return usageErr("--gateway must not hold credentials; use --credentials FILE or --credentials-env VAR.")
	case base.RawQuery != "" || base.Fragment != "":
		return usageErr("--gateway must not have a query or a fragment.")
	}
	if *caFile != "" && base.Scheme != "https" {
		return usageErr("--ca-file is only for an https gateway.")
	}
	if *timeout <= 0 {
		return usageErr("--timeout must be positive.")
	}
	sources := 0
	for _, s := range []string{*credFile, *credEnv, *hubFile, *hubEnv} {
		if s != "" {
			sources++
		}
	}
	if sources != 1 {
		return usageErr("give exactly one of --credentials, --credentials-env, --hub-token-file and --hub-token-env (got %d).", sources)
	}

	fail := func(format string, a ...any) int {
		fmt.Fprintln(stderr, "livygate: token fetch: "+singleLine(fmt.Sprintf(format, a...)))
		return 1
	}
	authz, err := authorization(*credFile, *credEnv, *hubFile, *hubEnv)
	if err != nil {
		return fail("%v", err)
	}
	client, err := tokenClient(*caFile, *timeout)
	if err != nil {
		return fail("%v", err)
	}
	endpoint := base.JoinPath("token")
	if *user != "" {
		endpoint.RawQuery = url.Values{"user": {*user}}.Encode()
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	ans, err := getToken(ctx, client, endpoint.String(), authz)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return fail("cannot reach gateway %s: %s", base.Redacted(), reachReason(ue, *timeout))
		}
		return fail("%v", err)
	}
	// An administrator asking for bob must not end up with alice's token.
	if *user != "" && !strings.EqualFold(ans.User, *user) {
		return fail("gateway answered a token for %q, not for %q", ans.User, *user)
	}
	if err := writeTokenFile(*out, ans.Token); err != nil {
		return fail("%v", err)
	}
	msg := fmt.Sprintf("token for %s (kid %s) written to %s", orUnknown(ans.User), orUnknown(ans.Kid), *out)
	if ans.ExpiresAt != "" {
		msg += ", expires " + ans.ExpiresAt
	}
	fmt.Fprintln(stderr, "livygate: "+singleLine(msg))
	return 0
}

// authorization builds the Authorization header from the one source given.
// Errors name the source, never what it holds.
func authorization(credFile, credEnv, hubFile, hubEnv string) (string, error) {
	switch {
	case credFile != "", credEnv != "":
		what, v, err := readSource(credFile, credEnv, "credentials")
		if err != nil {
			return "", err
		}
		u, p, ok := strings.Cut(v, ":")
		if !ok || u == "" || p == "" {
			return "", fmt.Errorf("%s does not hold user:password", what)
		}
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p)), nil
	default:
		what, v, err := readSource(hubFile, hubEnv, "hub token")
		if err != nil {
			return "", err
		}
		if strings.ContainsAny(v, " \t") {
			return "", fmt.Errorf("%s holds more than one word", what)
		}
		return "token " + v, nil
	}
}

// readSource reads the first line of file, or the environment variable env.
// It returns a description of the source for messages.
func readSource(file, env, kind string) (string, string, error) {
	var what, v string
	if file != "" {
		what = kind + " file " + file
		f, err := os.Open(file)
		if err != nil {
			return what, "", fmt.Errorf("reading %s: %w", kind+" file", err)
		}
		defer f.Close()
		line, err := bufio.NewReader(io.LimitReader(f, 64<<10)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return what, "", fmt.Errorf("reading %s: %w", what, err)
		}
		v = line
	} else {
		what = "environment variable " + env
		v = os.Getenv(env)
	}
	// Editors and `echo` add a newline that is not part of the secret.
	v = strings.TrimRight(v, "\r\n")
	if strings.TrimSpace(v) == "" {
		return what, "", fmt.Errorf("%s is empty or not set", what)
	}
	return what, v, nil
}

// tokenClient refuses redirects: following one could carry the credentials
// to another host or down to plain http.
func tokenClient(caFile string, timeout time.Duration) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = timeout
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("reading CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", caFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}, nil
}

// getToken asks the gateway for a token and checks the answer. A transport
// failure is returned as the *url.Error the client gave.
func getToken(ctx context.Context, client *http.Client, endpoint, authz string) (tokenAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return tokenAnswer{}, fmt.Errorf("building the request: %w", err)
	}
	req.Header.Set("Authorization", authz)
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return tokenAnswer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenAnswer))
	if err != nil {
		return tokenAnswer{}, fmt.Errorf("reading the gateway's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return tokenAnswer{}, fmt.Errorf("gateway answered %d: %s", resp.StatusCode, errorReason(resp, body))
	}
	var ans tokenAnswer
	// The decoder's messages are left out: they could quote the answer.
	if err := json.Unmarshal(body, &ans); err != nil {
		return tokenAnswer{}, errors.New("malformed answer: not a JSON token object")
	}
	if ans.Token == "" {
		return tokenAnswer{}, errors.New("answer has no token")
	}
	if !looksLikeJWT(ans.Token) {
		return tokenAnswer{}, errors.New("answer's token is not a JWT")
	}
	if ans.TokenType != "" && !strings.EqualFold(ans.TokenType, "Bearer") {
		return tokenAnswer{}, fmt.Errorf("answer's token type is %q, not Bearer", ans.TokenType)
	}
	return ans, nil
}

// errorReason is the gateway's Livy-style {"msg": …}, else the status text.
func errorReason(resp *http.Response, body []byte) string {
	var e struct {
		Msg string `json:"msg"`
	}
	reason := http.StatusText(resp.StatusCode)
	if json.Unmarshal(body, &e) == nil && strings.TrimSpace(e.Msg) != "" {
		reason = e.Msg
	}
	if r := []rune(reason); len(r) > 200 {
		reason = string(r[:200]) + "…"
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" && len(ra) < 40 {
		reason += " (retry after " + ra + ")"
	}
	return reason
}

// looksLikeJWT checks the compact form: three base64url parts, the first two
// JSON objects.
func looksLikeJWT(tok string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return false
	}
	for i, p := range parts {
		b, err := base64.RawURLEncoding.DecodeString(p)
		if err != nil || len(b) == 0 {
			return false
		}
		if i < 2 {
			var obj map[string]any
			if json.Unmarshal(b, &obj) != nil {
				return false
			}
		}
	}
	return true
}

// reachReason says why the gateway could not be reached, briefly.
func reachReason(ue *url.Error, timeout time.Duration) string {
	var (
		dnsErr *net.DNSError
		opErr  *net.OpError
	)
	switch {
	case ue.Timeout(), errors.Is(ue, context.DeadlineExceeded):
		return "no answer within " + timeout.String()
	case errors.Is(ue, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.As(ue, &dnsErr):
		return dnsErr.Error()
	case errors.As(ue, &opErr) && opErr.Err != nil:
		return opErr.Err.Error()
	}
	return ue.Err.Error()
}

// writeTokenFile replaces path with a file holding exactly token, readable
// by its owner only. It writes a temporary file next to path and renames it,
// so a reader sees the old token or the new one, never a mix; on failure
// the temporary file is removed and path is left as it was.
func writeTokenFile(path, token string) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing the token file: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("writing the token file %s: %w", path, err)
		}
	}()
	// CreateTemp already uses 0600; Chmod says so explicitly, before any byte
	// of the token is written.
	if err := tmp.Chmod(0o600); err != nil {
		return err
	}
	if _, err := io.WriteString(tmp, token); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// Make the rename itself durable; a failure here changes nothing for
	// the caller, the file is in place.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// singleLine keeps a message on one line, whatever the gateway sent.
func singleLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

func orUnknown(s string) string {
	if s == "" {
		return "?"
	}
	return s
}
