package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/secrets"
	"github.com/livygate/livygate/gateway/sparkconf/delivery"
	"github.com/livygate/livygate/gateway/token"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// validLDAP is the smallest file that validates.
const validLDAP = `
auth:
  ldap:
    url: ldap://127.0.0.1:3890
    allow_insecure: true
    user_base_dn: ou=people,dc=x
`

func TestExampleDocumentsEveryKeyAndLoads(t *testing.T) {
	example, err := os.ReadFile("../../deploy/livygate.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range Fields() {
		leaf := path[strings.LastIndex(path, ".")+1:]
		section, _, _ := strings.Cut(path, ".")
		if !strings.Contains(string(example), leaf+":") || !strings.Contains(string(example), "\n"+section+":") {
			t.Errorf("deploy/livygate.example.yaml does not document %s", path)
		}
	}
	cfg, err := Load("../../deploy/livygate.example.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	def := Default()
	if cfg.Reaper != def.Reaper || cfg.Limits.Timeouts != def.Limits.Timeouts || cfg.Limits.AdminsExempt != def.Limits.AdminsExempt ||
		cfg.Livy.Version != def.Livy.Version || len(cfg.Limits.Overrides) != 0 || len(cfg.Limits.Default.Queues) != 0 {
		t.Errorf("example's limits/reaper differ from the defaults:\n%+v %+v\n%+v %+v", cfg.Limits, cfg.Reaper, def.Limits, def.Reaper)
	}
	if cfg.Listen != def.Listen || cfg.Auth.Cache != def.Auth.Cache || cfg.Policy.RedactKeys != def.Policy.RedactKeys {
		t.Errorf("example's values differ from the defaults it documents:\n%+v\n%+v", cfg, def)
	}
}

func TestUnknownKeysAreErrors(t *testing.T) {
	_, err := Load(writeFile(t, "c.yaml", "listen:\n  adress: 1.2.3.4:5\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "adress") {
		t.Errorf("unknown key: %v", err)
	}
	_, err = Load("", []string{"LIVYGATE_LISTEN_ADRESS=x"})
	if err == nil || !strings.Contains(err.Error(), "LIVYGATE_LISTEN_ADRESS") {
		t.Errorf("unknown variable: %v", err)
	}
}

func TestEnvironmentOverridesFile(t *testing.T) {
	path := writeFile(t, "c.yaml", validLDAP+"listen:\n  address: 127.0.0.1:1\n")
	cfg, err := Load(path, []string{
		"LIVYGATE_LISTEN_ADDRESS=127.0.0.1:2",
		"LIVYGATE_LIVY_TIMEOUT=3s",
		"LIVYGATE_AUTH_LOCKOUT_MAX_FAILURES=9",
		"LIVYGATE_AUTH_ADMINS_MAY_IMPERSONATE=true",
		"LIVYGATE_POLICY_DENY_CONF=^a$, ^b$",
		`LIVYGATE_POLICY_ALLOW_CONF=["^x{1,2}$"]`,
		"LIVYGATE_AUTH_LDAP_BIND_PASSWORD_ENV=LIVYGATE_LDAP_PW",
		"LIVYGATE_LDAP_PW=not-a-config-key-but-a-named-secret",
		"LIVYGATE_TOKENS_DELIVERY_MODE=hdfs-file",
		"HOME=/root",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen.Address != "127.0.0.1:2" || cfg.Livy.Timeout != 3*time.Second ||
		cfg.Auth.Lockout.MaxFailures != 9 || !cfg.Auth.AdminsMayImpersonate ||
		strings.Join(cfg.Policy.DenyConf, "|") != "^a$|^b$" || cfg.Policy.AllowConf[0] != "^x{1,2}$" ||
		cfg.Auth.LDAP.BindPassword.Env != "LIVYGATE_LDAP_PW" || cfg.Tokens.Delivery.Mode != delivery.HDFSFile {
		t.Errorf("overrides not applied: %+v", cfg)
	}
	if _, err := Load(path, []string{"LIVYGATE_LIVY_TIMEOUT=soon"}); err == nil {
		t.Error("a bad duration was accepted")
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := Default()
	cfg.Listen.Address = "nope"
	cfg.Listen.TLSCertFile = "/does/not/exist.pem"
	cfg.Livy.URL = "ftp://livy"
	cfg.Auth.LDAP.URL = "ldap://ldap:389" // plain, not allowed
	cfg.Auth.LDAP.BindDN = "cn=svc"       // no password source
	cfg.Policy.DenyConf = []string{"("}
	cfg.Log.Format = "xml"
	err := cfg.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"listen.address", "tls_key_file", "livy.url", "allow_insecure", "bind_password", "user_base_dn", "deny_conf[0]", "log.format"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("problem %q not reported in:\n%v", want, err)
		}
	}
	if n := strings.Count(err.Error(), "\n") + 1; n < 8 {
		t.Errorf("only %d problems reported", n)
	}
}

func TestValidMinimalConfig(t *testing.T) {
	cfg, err := Load(writeFile(t, "c.yaml", validLDAP), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("minimal config refused: %v", err)
	}
	cfg.Auth.LDAP.URL = ""
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "no authenticator") {
		t.Errorf("config without an authenticator: %v", err)
	}
}

func TestValidateUIAndStore(t *testing.T) {
	cfg, err := Load(writeFile(t, "c.yaml", validLDAP), []string{
		"LIVYGATE_STORE_PATH=", "LIVYGATE_STORE_QUEUE_SIZE=0", "LIVYGATE_STORE_RETENTION_MAX_EVENTS=-1",
		"LIVYGATE_UI_SESSION_TTL=0s",
	})
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Validate()
	for _, want := range []string{"ui.enabled: needs store.path", "store.queue_size", "store.retention", "ui.session_ttl"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
	cfg, _ = Load(writeFile(t, "c.yaml", validLDAP), []string{"LIVYGATE_STORE_PATH=" + t.TempDir()})
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "store.path") {
		t.Errorf("a directory as store.path: %v", err)
	}
	cfg, _ = Load(writeFile(t, "c.yaml", validLDAP), []string{"LIVYGATE_UI_ENABLED=false", "LIVYGATE_STORE_PATH="})
	if err := cfg.Validate(); err != nil {
		t.Errorf("UI and store off: %v", err)
	}
}

func TestValidateTokensAndSecrets(t *testing.T) {
	cfg, err := Load(writeFile(t, "c.yaml", validLDAP), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Tokens.Enabled = true
	cfg.Tokens.SigningKey = token.KeyConfig{Ref: secrets.Ref{File: "/does/not/exist.pem"}, Algorithm: "HS256"}
	cfg.Tokens.GroupClaims = []token.GroupClaimConfig{{Name: "exp", Format: "csv"}}
	cfg.Tokens.Delivery = token.Delivery{Mode: "hdfs-file", ConfKeys: []string{"bad key"}}
	cfg.Secrets = secrets.Config{Provider: "env", EnvPrefix: "LIVYGATE_S_", Access: map[string]secrets.Access{"../x": {}}}
	err = cfg.Validate()
	if err == nil {
		t.Fatal("invalid tokens and secrets accepted")
	}
	for _, want := range []string{"tokens.issuer", "tokens.audience", "signing_key.algorithm", "signing_key: reading secret file",
		`"exp" cannot carry the groups`, `format of "exp"`, `"bad key" is not a Spark conf key`, "hdfs-file needs hdfs.namenodes",
		"secrets.env_prefix", `"../x" is not a valid secret name`, `"../x" lists no users or groups`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("problem %q not reported in:\n%v", want, err)
		}
	}
	// Lists of objects and maps can be set from the environment as YAML/JSON.
	env := []string{`LIVYGATE_TOKENS_VERIFY_KEYS=[{"file": "/k.pem", "algorithm": "ES256"}]`,
		`LIVYGATE_SECRETS_ACCESS={"db": {"users": ["alice"]}}`}
	cfg, err = Load(writeFile(t, "c.yaml", validLDAP), env)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Tokens.VerifyKeys) != 1 || cfg.Tokens.VerifyKeys[0].Algorithm != "ES256" || cfg.Secrets.Access["db"].Users[0] != "alice" {
		t.Errorf("env lists not applied: %+v %+v", cfg.Tokens.VerifyKeys, cfg.Secrets.Access)
	}
}

func TestSeveralBackendsAreCheckedByKey(t *testing.T) {
	path := writeFile(t, "c.yaml", `livy:
  backends:
    - name: emr-a
      url: http://10.0.0.11:8998
    - name: emr-a
      url: ftp://x
      tiemout: 3s
`)
	if _, err := Load(path, nil); err == nil || !strings.Contains(err.Error(), "tiemout") {
		t.Fatalf("an unknown key inside a backend: %v", err)
	}
	path = writeFile(t, "c.yaml", `livy:
  url: http://10.0.0.9:8998
  backends:
    - name: emr-a
      url: http://10.0.0.11:8998
    - name: emr-a
      url: ftp://x
  placement:
    pin:
      - groups: [finance]
        backend: emr-c
store:
  path: ""
`)
	cfg, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Validate()
	for _, want := range []string{
		`livy.backends[1].name: "emr-a" is used twice`,
		`livy.backends[1].url: scheme must be http or https`,
		`livy.placement.pin[0].backend: "emr-c" is not one of livy.backends`,
		"livy.url: is not used with livy.backends",
		"livy.backends: needs a store",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	cfg, err = Load("", []string{`LIVYGATE_LIVY_BACKENDS=[{"name": "a", "url": "http://10.0.0.1:8998"}, {"name": "b", "url": "http://10.0.0.2:8998", "timeout": "5s"}]`})
	if err != nil {
		t.Fatal(err)
	}
	bs := cfg.Livy.Backends().Backends
	if len(bs) != 2 || bs[1].Name != "b" || bs[1].Timeout != 5*time.Second || bs[0].Timeout != cfg.Livy.Timeout {
		t.Errorf("from the environment: %+v", bs)
	}
}
