//go:build integration

package main

// Faults (issue 15) of the command itself: SIGTERM under load on the real
// binary, and `livygate sync` with its Hub or its NameNode gone. The faults
// under a running gateway are in gateway/faults_integration_test.go.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/ldap/ldaptest"
	"github.com/livygate/livygate/gateway/logging/logtest"
	"github.com/livygate/livygate/gateway/store"
	"github.com/livygate/livygate/hdfs/hdfstest"
	"github.com/livygate/livygate/jupyterhub/hubtest"
	"github.com/livygate/livygate/livy/livytest"
)

// buildBinary builds livygate into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "livygate")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// SIGTERM under load: `livygate serve` (the built binary) in front of a
// Livy that takes delay to answer, with n slow requests in flight. On
// SIGTERM it stops taking connections, every request in flight is answered
// 2xx, and it exits 0 well within listen.shutdown_timeout. A request slower
// than the grace period does not keep it running past it.
func TestFaultSIGTERMUnderLoad(t *testing.T) {
	bin := buildBinary(t)
	dir := ldaptest.Start(t)
	const (
		n     = 24
		delay = 2 * time.Second
		grace = 6 * time.Second
	)
	fake := livytest.New()
	defer fake.Close()
	var arrived atomic.Int64
	var stall atomic.Bool
	livy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/sessions/") {
			arrived.Add(1)
			d := delay
			if stall.Load() {
				d = time.Minute
			}
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		fake.Server.Config.Handler.ServeHTTP(w, r)
	}))
	defer livy.Close()
	fake.Add("sessions", map[string]any{"kind": "pyspark", "proxyUser": "alice"})

	start := func(grace time.Duration) (addr string, cmd *exec.Cmd, exited chan error, stderr *logtest.Buffer) {
		t.Helper()
		addr = freeAddr(t)
		tmp := t.TempDir()
		cfg := filepath.Join(tmp, "livygate.yaml")
		yaml := fmt.Sprintf(`listen: {address: %q, shutdown_timeout: %s}
livy: {url: %q, timeout: 90s}
auth:
  ldap:
    url: %s
    allow_insecure: true
    bind_dn: %q
    bind_password: {file: %q}
    user_base_dn: %q
    user_filter: "(objectClass=inetOrgPerson)"
    username_attribute: uid
    group_membership_attribute: memberOf
    group_name_attribute: cn
store: {path: %q}
log: {level: info}
`, addr, grace, livy.URL, dir.URL, dir.BindDN, dir.BindPasswordFile, ldaptest.UserBaseDN, filepath.Join(tmp, "livygate.db"))
		if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command(bin, "serve", "--config", cfg)
		stderr = &logtest.Buffer{}
		cmd.Stderr = stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited = make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
				resp.Body.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("livygate serve did not start:\n%s", stderr)
			}
		}
		return addr, cmd, exited, stderr
	}
	get := func(addr string) (int, error) {
		req, _ := http.NewRequest("GET", "http://"+addr+"/sessions/0", nil)
		req.SetBasicAuth("alice", dir.Passwords["alice"])
		client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}

	addr, cmd, exited, stderr := start(grace)
	if st, err := get(addr); st != 200 { // the login is cached from here on
		t.Fatalf("warm-up: %d %v\n%s", st, err, stderr)
	}
	arrived.Store(0)
	var wg sync.WaitGroup
	statuses := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := get(addr)
			statuses <- fmt.Sprint(st, " ", err)
		}()
	}
	for deadline := time.Now().Add(15 * time.Second); arrived.Load() < n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d requests reached Livy", arrived.Load(), n)
		}
	}
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := get(addr); err == nil {
		t.Error("a new request after SIGTERM was served; the listener should be closed")
	}
	select {
	case err := <-exited:
		took := time.Since(sent)
		if err != nil {
			t.Errorf("livygate serve exited with %v after SIGTERM, want 0\n%s", err, stderr)
		}
		if took > grace {
			t.Errorf("exit took %v after SIGTERM, more than shutdown_timeout %v", took, grace)
		}
		t.Logf("%d requests in flight; exit 0 %v after SIGTERM (Livy answers after %v)", n, took.Round(time.Millisecond), delay)
	case <-time.After(grace + 5*time.Second):
		t.Fatalf("livygate serve still runs %v after SIGTERM\n%s", grace+5*time.Second, stderr)
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != "200 <nil>" {
			t.Errorf("a request in flight at SIGTERM: %s, want 200", s)
		}
	}
	if !strings.Contains(stderr.String(), "livygate stopped") {
		t.Errorf("no \"livygate stopped\" in the log:\n%s", stderr)
	}

	// A request slower than the grace period: the gateway still exits once
	// the grace period is over, and says so.
	const shortGrace = 2 * time.Second
	stall.Store(true)
	addr, cmd, exited, stderr = start(shortGrace)
	arrived.Store(0)
	go func() { _, _ = get(addr) }()
	for deadline := time.Now().Add(15 * time.Second); arrived.Load() < 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the stalled request never reached Livy\n%s", stderr)
		}
	}
	sent = time.Now()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		if took := time.Since(sent); took > shortGrace+2*time.Second {
			t.Errorf("with a request stuck past the grace period, exit took %v (grace %v)", took, shortGrace)
		}
	case <-time.After(shortGrace + 10*time.Second):
		t.Fatalf("livygate serve still runs after its grace period with a stuck request\n%s", stderr)
	}
}

// cutProxy forwards TCP to a NameNode until cut: then it closes every
// connection and refuses new ones (a NameNode gone mid-sync) until healed.
// With cutAfter > 0 it cuts by itself once that many bytes went to the
// NameNode, which lands in the middle of a sync deterministically.
type cutProxy struct {
	target   string
	ln       net.Listener
	cutAfter atomic.Int64
	sent     atomic.Int64
	mu       sync.Mutex
	down     bool
	conns    map[net.Conn]struct{}
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go p.accept()
	return p
}

func (p *cutProxy) Addr() string { return p.ln.Addr().String() }

func (p *cutProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		if !down {
			p.conns[c] = struct{}{}
		}
		p.mu.Unlock()
		if down {
			c.Close()
			continue
		}
		go p.forward(c)
	}
}

func (p *cutProxy) forward(c net.Conn) {
	u, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[u] = struct{}{}
	p.mu.Unlock()
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				if _, werr := u.Write(buf[:n]); werr != nil {
					break
				}
				if after := p.cutAfter.Load(); after > 0 && p.sent.Add(int64(n)) >= after {
					p.cut()
					break
				}
			}
			if err != nil {
				break
			}
		}
		u.Close()
		c.Close()
	}()
	_, _ = io.Copy(c, u)
	c.Close()
	u.Close()
}

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]struct{}{}
}

func (p *cutProxy) heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
	p.cutAfter.Store(0)
}

// The sync with its backends gone. NameNode gone in the middle of a run
// (the connection cut after some homes are made): the run ends with a
// non-zero exit in bounded time, and what it did make is right. NameNode
// stopped: exit 2 at once. NameNode restarted: a rerun completes every
// home, and the next one changes nothing: nothing but a rerun is needed to
// recover. Hub down: exit 2, HDFS and the store unchanged.
func TestFaultSyncBackendsDown(t *testing.T) {
	t0 := time.Now()
	hub := hubtest.Start(t, 50)
	t.Logf("Hub up in %v", time.Since(t0).Round(time.Second))
	var users []string
	for i := range 60 {
		users = append(users, fmt.Sprintf("fault%02d", i))
	}
	hub.CreateUsers(t, users...)
	nn := hdfstest.Start(t)
	t.Logf("HDFS up at %v", time.Since(t0).Round(time.Second))
	proxy := newCutProxy(t, nn.Addr)

	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "hub-token")
	if err := os.WriteFile(tokenFile, []byte(hub.ServiceToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "livygate.yaml")
	yaml := fmt.Sprintf(`jupyterhub: {url: %s, token: {file: %s}, timeout: 5s}
hdfs: {namenodes: [%s], user: %s, group: analysts, concurrency: 1}
sync: {lock_file: %s/sync.lock}
store: {path: %s/livygate.db}
log: {level: warn}
`, hub.URL, tokenFile, proxy.Addr(), nn.Superuser, dir, dir)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	timed := func(what string, bound time.Duration) (int, syncReport, string) {
		t.Helper()
		start := time.Now()
		code, r, stderr := runSync(t, cfg)
		if took := time.Since(start); took > bound {
			t.Errorf("%s: the sync took %v, more than %v", what, took, bound)
		}
		return code, r, stderr
	}
	homesOK := func(what string, want int) {
		t.Helper()
		homes := nn.List(t, "/user")
		for name, h := range homes {
			if !h.IsDir() || h.Owner != name || h.Group != "analysts" || h.Mode != "750" {
				t.Errorf("%s: home %s is %+v", what, name, h)
			}
		}
		if want >= 0 && len(homes) != want {
			t.Errorf("%s: %d homes, want %d", what, len(homes), want)
		}
	}

	// NameNode gone mid-run: cut once some homes went through.
	proxy.cutAfter.Store(6000)
	code, r, stderr := timed("NameNode cut mid-run", 40*time.Second)
	if code == 0 || r.Summary["created"] >= r.Users {
		t.Errorf("NameNode cut mid-run: exit %d, %v, want a failed run\n%s", code, r.Summary, stderr)
	}
	t.Logf("NameNode cut mid-run: exit %d, %v, %q", code, r.Summary, r.Error)
	homesOK("after the cut run", -1)

	// NameNode stopped: exit 2, quickly.
	proxy.heal()
	nn.Stop(t)
	code, r, stderr = timed("NameNode stopped", 30*time.Second)
	if code != 2 {
		t.Errorf("NameNode stopped: exit %d, %q, want 2\n%s", code, r.Error, stderr)
	}

	// NameNode restarted: a rerun completes, the next changes nothing.
	t.Logf("NameNode stopped at %v", time.Since(t0).Round(time.Second))
	nn.Restart(t)
	t.Logf("NameNode restarted at %v", time.Since(t0).Round(time.Second))
	code, r, stderr = timed("after the restart", 30*time.Second)
	r0 := r
	if code != 0 || r.Summary["created"]+r.Summary["unchanged"] != r.Users {
		t.Errorf("rerun after the NameNode restart: exit %d, %v, want every home made\n%s", code, r.Summary, stderr)
	}
	homesOK("after the rerun", r.Users)
	if code, r, _ = runSync(t, cfg); code != 0 || r.Summary["unchanged"] != r.Users {
		t.Errorf("the run after: exit %d, %v, want every home unchanged", code, r.Summary)
	}
	t.Logf("NameNode faults done at %v", time.Since(t0).Round(time.Second))

	// Hub down, last: exit 2, nothing changed in HDFS or in the store.
	homesBefore := knownHomes(t, dir)
	hub.Stop(t)
	code, r, stderr = timed("Hub down", 15*time.Second)
	if code != 2 || !strings.Contains(r.Error, "JupyterHub") || len(r.Results) != 0 {
		t.Errorf("Hub down: exit %d, %q, %d results, want exit 2 naming JupyterHub and nothing done\n%s", code, r.Error, len(r.Results), stderr)
	}
	homesOK("after the Hub-down run", r0.Users)
	if after := knownHomes(t, dir); fmt.Sprint(after) != fmt.Sprint(homesBefore) {
		t.Errorf("the Hub-down run changed the homes the store knows:\n%v\nwas\n%v", after, homesBefore)
	}
}

// knownHomes is each home's state as the store (and so the admin UI) knows it.
func knownHomes(t *testing.T, dir string) map[string]string {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(dir, "livygate.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	homes, err := st.Homes(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for u, h := range homes {
		out[u] = h.State + " " + h.Action
	}
	return out
}
