package emr

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The bootstrap runs for real (bash, coreutils, a real livygate for
// check-config) under a temporary ROOT. Only what reaches outside the machine
// or changes it for good is stubbed on PATH: aws (copies from a folder standing
// in for S3), systemctl and docker (record their calls, answer from state
// files), id and useradd (the service user is "missing" until useradd runs; it
// is then an existing account, nobody:nogroup, so chown is real and no user is
// ever created). As root the files are owned root:nogroup as on EMR; as
// another user, by that user and their group.

const stubs = `
#!/usr/bin/env bash
# aws s3 cp [--only-show-errors] [--recursive] SRC DST, from $FAKE_S3.
set -eu
echo "aws $*" >>"$STUB_STATE/calls"
[ "$1 $2" = "s3 cp" ] || { echo "stub aws: unexpected $*" >&2; exit 2; }
shift 2
rec=0
while [ "${1#--}" != "$1" ]; do [ "$1" = --recursive ] && rec=1; shift; done
src=$FAKE_S3/${1#s3://}
if [ $rec = 1 ]; then
	[ -d "$src" ] || exit 0
	mkdir -p "$2" && cp -R "$src/." "$2/"
else
	[ -f "$src" ] || { echo "fatal error: An error occurred (404) when calling the HeadObject operation: Key not found" >&2; exit 1; }
	cp "$src" "$2"
fi
=== systemctl
#!/usr/bin/env bash
echo "systemctl $*" >>"$STUB_STATE/calls"
echo "$*" >>"$STUB_STATE/systemctl"
case $1 in
cat) [ -e "$STUB_STATE/livy" ] ;;
is-active) [ -e "$STUB_STATE/active-$3" ] ;;
is-enabled) [ -e "$STUB_STATE/enabled-$3" ] ;;
enable) touch "$STUB_STATE/active-$3" "$STUB_STATE/enabled-$3" ;;
restart | daemon-reload) ;;
*) echo "stub systemctl: unexpected $*" >&2; exit 2 ;;
esac
=== id
#!/usr/bin/env bash
if [ $# = 1 ] && [ "$1" = "$LIVYGATE_USER" ] && [ ! -e "$STUB_STATE/user-created" ]; then
	echo "id: '$1': no such user" >&2; exit 1
fi
exec /usr/bin/id "$@"
=== useradd
#!/usr/bin/env bash
echo "useradd $*" >>"$STUB_STATE/calls"
touch "$STUB_STATE/user-created"
=== docker
#!/usr/bin/env bash
echo "docker $*" >>"$STUB_STATE/calls"
c=$STUB_STATE/container
case "$1 $2" in
"inspect -f") [ -e "$STUB_STATE/hub" ] && echo true ;;
"exec jupyterhub")
	case $3 in
	python3) echo /opt/conda/lib/python3.11/site-packages ;;
	cat) cat "$c$4" ;;
	esac ;;
"cp "*) mkdir -p "$(dirname "$c${3#jupyterhub:}")" && cp "$2" "$c${3#jupyterhub:}" ;;
*) exit 2 ;;
esac
`

const goodConfig = `listen:
  address: 127.0.0.1:8999
auth:
  ldap:
    url: ldap://127.0.0.1:389
    allow_insecure: true
    bind_dn: cn=livygate,ou=services,dc=example,dc=com
    bind_password:
      file: /etc/livygate/secrets/ldap-bind-password
    user_base_dn: ou=people,dc=example,dc=com
jupyterhub:
  url: http://127.0.0.1:9443
  token:
    file: "/etc/livygate/secrets/hub-token"
secrets:
  provider: dir
  dir: /etc/livygate/secrets
  access:
    hub-token: {users: [carol]}
`

var secretFiles = map[string]string{
	"ldap-bind-password": "s3cr3t-bind-pw-4711\n",
	"hub-token":          "hub-token-value-0815\n",
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// livygate builds the gateway once per test binary.
func livygate(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "livygate-emr-test")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "livygate")
		gobin, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("go is needed to build livygate for check-config: %v", err)
			return
		}
		cmd := exec.Command(gobin, "build", "-o", builtBin, "./cmd/livygate")
		cmd.Dir = "../.."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

type rig struct {
	t                        *testing.T
	root, s3, state, stubDir string
	owner, svcUser, svcGroup string
	binSHA                   string
	env                      []string
}

func newRig(t *testing.T) *rig {
	t.Helper()
	for _, tool := range []string{"bash", "sha256sum", "install", "stat", "cmp", "sed", "mktemp", "find", "grep", "cut", "tr", "env"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed by bootstrap.sh and its test and is not on PATH", tool)
		}
	}
	if _, err := os.Stat("/usr/bin/id"); err != nil {
		t.Fatalf("/usr/bin/id is needed (the stub id hands over to it): %v", err)
	}
	bin := livygate(t)
	tmp := t.TempDir()
	r := &rig{t: t, root: filepath.Join(tmp, "root"), s3: filepath.Join(tmp, "s3"),
		state: filepath.Join(tmp, "state"), stubDir: filepath.Join(tmp, "stubs")}
	if os.Geteuid() == 0 {
		r.owner, r.svcUser, r.svcGroup = "root", "nobody", "nogroup"
		if _, err := user.LookupGroup("nogroup"); err != nil {
			t.Fatalf("running as root, the test needs the group nogroup for the service account: %v", err)
		}
	} else {
		u, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		g, err := user.LookupGroupId(u.Gid)
		if err != nil {
			t.Fatal(err)
		}
		r.owner, r.svcUser, r.svcGroup = u.Username, u.Username, g.Name
	}
	for _, d := range []string{r.root, r.s3, r.state, r.stubDir, filepath.Join(r.root, "mnt/var/lib/info")} {
		mustMkdir(t, d)
	}
	// Stubs.
	for i, part := range strings.Split(stubs, "\n=== ") {
		name, body := "aws", part
		if i > 0 {
			name, body, _ = strings.Cut(part, "\n")
		}
		mustWrite(t, filepath.Join(r.stubDir, name), strings.TrimLeft(body, "\n"), 0o755)
	}
	// Fake S3: the bundle as `make emr-bundle` builds it, a release binary,
	// the config and the secrets.
	cmd := exec.Command("bash", "deploy/emr/bundle.sh")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "OUT="+filepath.Join(r.s3, "bkt/livygate/emr"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bundle.sh: %v\n%s", err, out)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	mustMkdir(t, filepath.Join(r.s3, "bkt/rel"))
	mustWrite(t, filepath.Join(r.s3, "bkt/rel/livygate-linux-amd64"), string(b), 0o644)
	sum := sha256.Sum256(b)
	r.binSHA = hex.EncodeToString(sum[:])
	r.putConfig(goodConfig)
	mustMkdir(t, filepath.Join(r.s3, "bkt/secrets"))
	for name, v := range secretFiles {
		mustWrite(t, filepath.Join(r.s3, "bkt/secrets", name), v, 0o644)
	}
	r.master(true)

	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LIVYGATE_") && !strings.HasPrefix(kv, "PATH=") && !strings.HasPrefix(kv, "ROOT=") {
			r.env = append(r.env, kv)
		}
	}
	r.env = append(r.env, "PATH="+r.stubDir+":"+os.Getenv("PATH"), "ROOT="+r.root,
		"FAKE_S3="+r.s3, "STUB_STATE="+r.state,
		"LIVYGATE_USER="+r.svcUser, "LIVYGATE_GROUP="+r.svcGroup, "LIVYGATE_OWNER="+r.owner,
		"LIVYGATE_WAIT=foreground", "LIVYGATE_WAIT_TIMEOUT=3", "LIVYGATE_WAIT_INTERVAL=1")
	return r
}

func (r *rig) putConfig(c string) {
	mustMkdir(r.t, filepath.Join(r.s3, "bkt/conf"))
	mustWrite(r.t, filepath.Join(r.s3, "bkt/conf/livygate.yaml"), c, 0o644)
}

func (r *rig) master(is bool) {
	mustWrite(r.t, filepath.Join(r.root, "mnt/var/lib/info/instance.json"),
		fmt.Sprintf(`{"instanceGroupId":"ig-1","isMaster": %v,"isRunningNameNode":%v}`, is, is), 0o644)
}

// livy and hub make Livy's unit and the JupyterHub container exist (EMR has
// installed the applications).
func (r *rig) livy() { mustWrite(r.t, filepath.Join(r.state, "livy"), "", 0o644) }
func (r *rig) hub(original string) {
	mustMkdir(r.t, filepath.Join(r.root, "etc/jupyter/conf"))
	mustWrite(r.t, filepath.Join(r.root, "etc/jupyter/conf/config.json"), original, 0o644)
	mustWrite(r.t, filepath.Join(r.state, "hub"), "", 0o644)
}

func (r *rig) args(extra ...string) []string {
	return append([]string{"--binary", "s3://bkt/rel/livygate-linux-amd64", "--sha256", r.binSHA,
		"--config", "s3://bkt/conf/livygate.yaml", "--bundle", "s3://bkt/livygate/emr/",
		"--secrets", "s3://bkt/secrets/"}, extra...)
}

// run runs the bootstrap and returns its exit code and output; the calls the
// stubs saw are reset first.
func (r *rig) run(env []string, args ...string) (int, string) {
	r.t.Helper()
	_ = os.Remove(filepath.Join(r.state, "calls"))
	_ = os.Remove(filepath.Join(r.state, "systemctl"))
	cmd := exec.Command("bash", "bootstrap.sh")
	cmd.Args = append(cmd.Args, args...)
	cmd.Env = append(append([]string{}, r.env...), env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		r.t.Fatal(err)
	}
	for _, v := range secretFiles {
		if strings.Contains(string(out), strings.TrimSpace(v)) {
			r.t.Errorf("a secret value appears in the bootstrap's output:\n%s", out)
		}
	}
	return code, string(out)
}

func (r *rig) calls(name string) string {
	b, _ := os.ReadFile(filepath.Join(r.state, name))
	return string(b)
}

// listing is every path under ROOT with its mode, owner, group and, for
// files, SHA-256.
func (r *rig) listing() string {
	r.t.Helper()
	var lines []string
	err := filepath.WalkDir(r.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		line := fmt.Sprintf("%s %v %s:%s", strings.TrimPrefix(p, r.root), fi.Mode(), userName(st.Uid), groupName(st.Gid))
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			line += " " + hex.EncodeToString(sum[:8])
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// installed lists what is under ROOT besides the fake EMR files and the
// empty staging parent.
func (r *rig) installed() []string {
	var got []string
	for _, l := range strings.Split(r.listing(), "\n") {
		p, _, _ := strings.Cut(l, " ")
		switch {
		case p == "", strings.HasPrefix(p, "/mnt"), p == "/var", p == "/var/tmp",
			strings.HasPrefix(p, "/etc/jupyter"):
		default:
			got = append(got, p)
		}
	}
	return got
}

// refused checks that a refused run (why) installed nothing and started
// no service.
func (r *rig) refused(why string) {
	r.t.Helper()
	if got := r.installed(); len(got) != 0 {
		r.t.Errorf("installed %s: %v", why, got)
	}
	if s := r.calls("systemctl"); s != "" {
		r.t.Errorf("systemctl called: %s", s)
	}
}

func userName(uid uint32) string {
	if u, err := user.LookupId(fmt.Sprint(uid)); err == nil {
		return u.Username
	}
	return fmt.Sprint(uid)
}

func groupName(gid uint32) string {
	if g, err := user.LookupGroupId(fmt.Sprint(gid)); err == nil {
		return g.Name
	}
	return fmt.Sprint(gid)
}

func (r *rig) checkFile(rel, mode, owner, group, want string) {
	r.t.Helper()
	p := filepath.Join(r.root, rel)
	fi, err := os.Stat(p)
	if err != nil {
		r.t.Errorf("%s: %v", rel, err)
		return
	}
	st := fi.Sys().(*syscall.Stat_t)
	if got := fmt.Sprintf("%v %s:%s", fi.Mode(), userName(st.Uid), groupName(st.Gid)); got != mode+" "+owner+":"+group {
		r.t.Errorf("%s: %s, want %s %s:%s", rel, got, mode, owner, group)
	}
	if want != "" && fi.Mode().IsRegular() {
		b, _ := os.ReadFile(p)
		if string(b) != want {
			r.t.Errorf("%s: content differs from its source", rel)
		}
	}
}

func repoFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBootstrapInstallsOnceAndASecondRunChangesNothing(t *testing.T) {
	r := newRig(t)
	r.livy()
	r.hub(`{"kernel_python_credentials": {"url": "http://ip-10-0-0-1:8998"}}`)
	args := r.args("--sparkmagic-url", "http://127.0.0.1:8999")

	code, out := r.run(nil, args...)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	o, g := r.owner, r.svcGroup
	bin, _ := os.ReadFile(livygate(t))
	r.checkFile("usr/local/bin/livygate", "-rwxr-xr-x", o, o, string(bin))
	r.checkFile("etc/livygate", "drwxr-x---", o, g, "")
	r.checkFile("etc/livygate/livygate.yaml", "-rw-r-----", o, g, goodConfig)
	r.checkFile("etc/livygate/secrets", "drwxr-x---", o, g, "")
	for name, v := range secretFiles {
		r.checkFile("etc/livygate/secrets/"+name, "-rw-r-----", o, g, v)
	}
	for _, unit := range []string{"livygate.service", "livygate-sync.service", "livygate-sync.timer"} {
		r.checkFile("etc/systemd/system/"+unit, "-rw-r--r--", o, o, repoFile(t, "deploy/systemd/"+unit))
	}
	r.checkFile("etc/systemd/system/livygate.service.d", "drwxr-xr-x", o, o, "")
	r.checkFile("etc/systemd/system/livygate.service.d/emr.conf", "-rw-r--r--", o, o, repoFile(t, "deploy/emr/livygate-emr.conf"))
	r.checkFile("etc/logrotate.d/livygate", "-rw-r--r--", o, o, repoFile(t, "deploy/emr/livygate.logrotate"))
	r.checkFile("var/log/livygate", "drwxr-x---", o, g, "")
	r.checkFile("usr/local/share/livygate/sparkmagic-config.json", "-rw-r--r--", o, o, repoFile(t, "deploy/sparkmagic/config.json"))
	r.checkFile("usr/local/share/livygate/livygate_auth.py", "-rw-r--r--", o, o, repoFile(t, "deploy/sparkmagic/livygate_auth.py"))
	r.checkFile("etc/jupyter/conf/config.json.emr-orig", "-rw-r--r--", o, o, `{"kernel_python_credentials": {"url": "http://ip-10-0-0-1:8998"}}`)

	// Nothing else was installed, and the stage is gone.
	want := []string{"/etc", "/etc/livygate", "/etc/livygate/livygate.yaml", "/etc/livygate/secrets",
		"/etc/livygate/secrets/hub-token", "/etc/livygate/secrets/ldap-bind-password",
		"/etc/logrotate.d", "/etc/logrotate.d/livygate", "/etc/systemd", "/etc/systemd/system",
		"/etc/systemd/system/livygate-sync.service", "/etc/systemd/system/livygate-sync.timer",
		"/etc/systemd/system/livygate.service", "/etc/systemd/system/livygate.service.d",
		"/etc/systemd/system/livygate.service.d/emr.conf", "/usr", "/usr/local", "/usr/local/bin",
		"/usr/local/bin/livygate", "/usr/local/share", "/usr/local/share/livygate",
		"/usr/local/share/livygate/livygate_auth.py", "/usr/local/share/livygate/sparkmagic-config.json",
		"/var/log", "/var/log/livygate"}
	if got := r.installed(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("installed paths:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Sparkmagic in the Hub points at the gateway with the Hub-token login.
	var sm struct {
		Python struct{ URL, Auth string } `json:"kernel_python_credentials"`
		Scala  struct{ URL, Auth string } `json:"kernel_scala_credentials"`
	}
	b, err := os.ReadFile(filepath.Join(r.root, "etc/jupyter/conf/config.json"))
	if err != nil || json.Unmarshal(b, &sm) != nil {
		t.Fatalf("Sparkmagic config: %v\n%s", err, b)
	}
	if sm.Python.URL != "http://127.0.0.1:8999" || sm.Scala.URL != "http://127.0.0.1:8999" || sm.Python.Auth != "JupyterHubToken" {
		t.Errorf("Sparkmagic config: %+v", sm)
	}
	auth, err := os.ReadFile(filepath.Join(r.state, "container/opt/conda/lib/python3.11/site-packages/livygate_auth.py"))
	if err != nil || string(auth) != repoFile(t, "deploy/sparkmagic/livygate_auth.py") {
		t.Errorf("livygate_auth.py not copied into the container: %v", err)
	}

	calls := r.calls("calls")
	if !strings.Contains(calls, "useradd --system") {
		t.Errorf("the missing service user was not created with useradd --system:\n%s", calls)
	}
	if got, want := r.calls("systemctl"), "daemon-reload\ncat livy-server.service\nis-active --quiet livygate.service\nis-active --quiet livygate-sync.timer\n"+
		"is-enabled --quiet livygate.service\nenable --now livygate.service\n"+
		"is-enabled --quiet livygate-sync.timer\nenable --now livygate-sync.timer\n"; got != want {
		t.Errorf("systemctl calls:\n%s\nwant:\n%s", got, want)
	}

	// Second run, same inputs: same listing, no restart, no enable, no useradd.
	before := r.listing()
	code, out = r.run(nil, args...)
	if code != 0 {
		t.Fatalf("second run: exit %d:\n%s", code, out)
	}
	if after := r.listing(); after != before {
		t.Errorf("the second run changed the install\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if !strings.Contains(out, "nothing changed") {
		t.Errorf("second run does not say nothing changed:\n%s", out)
	}
	sc := r.calls("systemctl")
	for _, bad := range []string{"restart", "enable --now", "daemon-reload", "start"} {
		if strings.Contains(sc, bad) {
			t.Errorf("second run: systemctl %s:\n%s", bad, sc)
		}
	}
	if strings.Contains(r.calls("calls"), "useradd") || strings.Contains(r.calls("calls"), "docker cp") {
		t.Errorf("second run: %s", r.calls("calls"))
	}

	// A changed config and a secret gone from S3: installed, the old secret
	// removed, the running gateway restarted once.
	if err := os.Remove(filepath.Join(r.s3, "bkt/secrets/hub-token")); err != nil {
		t.Fatal(err)
	}
	r.putConfig(strings.Replace(strings.Split(goodConfig, "jupyterhub:")[0], "8999", "8990", 1))
	code, out = r.run(nil, args...)
	if code != 0 {
		t.Fatalf("third run: exit %d:\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(r.root, "etc/livygate/secrets/hub-token")); !os.IsNotExist(err) {
		t.Errorf("a secret no longer in S3 is still installed: %v", err)
	}
	if got := r.calls("systemctl"); strings.Count(got, "restart livygate.service") != 1 || strings.Contains(got, "daemon-reload") {
		t.Errorf("third run: systemctl calls:\n%s", got)
	}
}

func TestBootstrapRefusesAWrongChecksumAndKeepsThePreviousInstall(t *testing.T) {
	r := newRig(t)
	bad := strings.Repeat("ab", 32)
	args := r.args()
	args[3] = bad
	code, out := r.run(nil, args...)
	if code == 0 || !strings.Contains(out, "checksum mismatch") || !strings.Contains(out, "nothing installed") {
		t.Errorf("exit %d, want a checksum refusal:\n%s", code, out)
	}
	r.refused("after a checksum refusal")

	// Over an earlier install: untouched.
	r.livy()
	if code, out := r.run(nil, r.args()...); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	before := r.listing()
	if code, _ := r.run(nil, args...); code == 0 {
		t.Error("wrong checksum accepted over an install")
	}
	if after := r.listing(); after != before {
		t.Errorf("a refused run changed the install\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestBootstrapDoesNothingOnOtherNodes(t *testing.T) {
	r := newRig(t)
	r.master(false)
	code, out := r.run(nil, r.args()...)
	if code != 0 || !strings.Contains(out, "not the master") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	if got := r.installed(); len(got) != 0 {
		t.Errorf("installed on a core node: %v", got)
	}
	if c := r.calls("calls"); c != "" {
		t.Errorf("calls on a core node: %s", c)
	}
}

func TestBootstrapRefusesAConfigCheckConfigRefuses(t *testing.T) {
	r := newRig(t)
	r.livy()
	r.putConfig(goodConfig + "log:\n  format: xml\n")
	code, out := r.run(nil, r.args()...)
	if code == 0 || !strings.Contains(out, "log.format") || !strings.Contains(out, "check-config refused") {
		t.Errorf("exit %d, want check-config's refusal:\n%s", code, out)
	}
	r.refused("after check-config refused")

	// A config naming a secret file the prefix lacks is refused too, by the
	// installed path (never the staging one).
	r.putConfig(strings.Replace(goodConfig, "secrets/hub-token", "secrets/missing", 1))
	code, out = r.run(nil, r.args()...)
	if code == 0 || !strings.Contains(out, "/etc/livygate/secrets/missing") || strings.Contains(out, "livygate-bootstrap.") {
		t.Errorf("exit %d, want a refusal naming /etc/livygate/secrets/missing:\n%s", code, out)
	}
}

func TestBootstrapUsage(t *testing.T) {
	r := newRig(t)
	good := r.args()
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "--binary is required"},
		{good[:6], "--bundle is required"},
		{append(append([]string{}, good...), "--frob"), "unexpected argument '--frob'"},
		{append(append([]string{}, good[:3]...), append([]string{"xyz"}, good[4:]...)...), "64 hexadecimal"},
		{append([]string{"--binary", "https://example.com/x"}, good[2:]...), "not an s3://"},
		{append(append([]string{}, good...), "--sparkmagic-auth", "Kerberos"), "JupyterHubToken or Basic_Access"},
		{append(append([]string{}, good...), "--secrets"), "--secrets needs a value"},
	} {
		code, out := r.run(nil, c.args...)
		if code != 2 || !strings.Contains(out, c.want) || !strings.Contains(out, "usage:") {
			t.Errorf("%v: exit %d, want 2, %q and the usage:\n%s", c.args, code, c.want, out)
		}
	}
	if got := r.installed(); len(got) != 0 {
		t.Errorf("installed on bad usage: %v", got)
	}
}

// In background mode (EMR's: Livy comes later) the bootstrap returns at once
// and the waiter enables the gateway when Livy's unit appears.
func TestBootstrapWaitsForLivyInTheBackground(t *testing.T) {
	r := newRig(t)
	start := time.Now()
	code, out := r.run([]string{"LIVYGATE_WAIT=background", "LIVYGATE_WAIT_TIMEOUT=30"}, r.args()...)
	if code != 0 || !strings.Contains(out, "waiting in the background") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("the bootstrap did not return before Livy was installed")
	}
	if strings.Contains(r.calls("systemctl"), "enable") {
		t.Fatalf("enabled before Livy exists: %s", r.calls("systemctl"))
	}
	r.livy()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(r.calls("systemctl"), "enable --now livygate-sync.timer") {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(r.root, "var/log/livygate/bootstrap-wait.log"))
			t.Fatalf("the waiter did not enable livygate once Livy appeared; systemctl: %s\nwaiter log:\n%s", r.calls("systemctl"), log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func mustMkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustWrite(t *testing.T, p, s string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}
