package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// check-config and serve reach the same verdict, with the same message, on
// every bad configuration: both run the sections' own Validate, and serve's
// constructors accept whatever Validate accepted.
func TestCheckConfigAndServeAgree(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ldap := "auth:\n  ldap:\n    url: ldap://127.0.0.1:1\n    allow_insecure: true\n    user_base_dn: ou=people,dc=x\n"
	cases := map[string]string{
		"bind DN not a DN":         ldap + "    bind_dn: not a dn\n    bind_password: {env: LG_VERDICT_PW}\n",
		"bind DN without password": ldap + "    bind_dn: cn=svc,dc=x\n",
		"zero LDAP timeout":        ldap + "    timeout: 0s\n",
		"both group modes":         ldap + "    group_base_dn: ou=groups,dc=x\n",
		"group filter without {}":  ldap + "    group_membership_attribute: \"\"\n    group_base_dn: ou=groups,dc=x\n    group_filter: (objectClass=group)\n",
		"bad username attribute":   ldap + "    username_attribute: \"uid)(cn\"\n",
		"CA file without TLS":      ldap + "    ca_file: " + notPEM + "\n",
		"no authenticator":         "log:\n  level: info\n",
		"world-writable homes":     ldap + "hdfs:\n  namenodes: [127.0.0.1:1]\n  mode: \"0777\"\n",
		"bad name pattern":         ldap + "hdfs:\n  name_pattern: \"([\"\n",
		"bad deny regexp":          ldap + "policy:\n  deny_conf: [\"(\"]\n",
		"unreadable signing key":   ldap + "tokens:\n  enabled: true\n  issuer: https://x\n  audience: [s3]\n  signing_key: {file: /nonexistent.pem}\n",
		"signing key not PEM":      ldap + "tokens:\n  enabled: true\n  issuer: https://x\n  audience: [s3]\n  signing_key: {file: " + notPEM + "}\n",
		"secrets dir missing":      ldap + "secrets:\n  provider: dir\n  dir: /nonexistent\n",
		"Livy password unset":      ldap + "livy:\n  username: gw\n  password: {env: LG_VERDICT_UNSET}\n",
		"Hub without token":        ldap + "jupyterhub:\n  url: http://127.0.0.1:1\n",
		"Livy version":             ldap + "livy:\n  version: zero.nine\n",
		"limits":                   ldap + "limits:\n  default:\n    max_driver_memory: lots\n",
		"store is a directory":     ldap + "store:\n  path: " + dir + "\n",
		"PostgreSQL URL unset":     ldap + "store:\n  driver: postgres\n  url: {env: LG_VERDICT_UNSET}\n",
	}
	t.Setenv("LG_VERDICT_PW", "pw")
	for name, yaml := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if !strings.Contains(yaml, "store:") {
				yaml = "store:\n  path: " + filepath.Join(t.TempDir(), "db") + "\n" + yaml
			}
			yaml = "listen:\n  address: 127.0.0.1:0\n" + yaml
			if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			checkCode, _, checkErr := runCLI("check-config", "--config", path)
			serveCode, serveErr := serveBriefly(t, path)
			if checkCode != 1 || serveCode != 1 {
				t.Fatalf("check-config exit %d, serve exit %d; want 1 and 1\ncheck-config: %s\nserve: %s", checkCode, serveCode, checkErr, serveErr)
			}
			var problems []string
			for _, line := range strings.Split(strings.TrimSpace(checkErr), "\n")[1:] {
				problems = append(problems, strings.TrimPrefix(line, "  - "))
			}
			want := "livygate serve: invalid configuration: " + strings.Join(problems, "; ")
			if strings.TrimSpace(serveErr) != want {
				t.Errorf("the two commands disagree\ncheck-config: %s\nserve:        %s", want, serveErr)
			}
		})
	}
}

// serveBriefly runs serve; a configuration it accepts would serve until
// stopped, which fails the test after a few seconds.
func serveBriefly(t *testing.T, path string) (int, string) {
	t.Helper()
	type result struct {
		code int
		err  string
	}
	done := make(chan result, 1)
	go func() {
		code, _, stderr := runCLI("serve", "--config", path)
		done <- result{code, stderr}
	}()
	select {
	case r := <-done:
		return r.code, r.err
	case <-time.After(5 * time.Second):
		p, _ := os.FindProcess(os.Getpid())
		_ = p.Signal(os.Interrupt) // stop the serving gateway
		r := <-done
		return r.code, fmt.Sprintf("serve accepted the configuration and served: %s", r.err)
	}
}
