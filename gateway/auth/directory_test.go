package auth

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/livygate/livygate/gateway/ldap"
	"github.com/livygate/livygate/gateway/logging/logtest"
	"github.com/livygate/livygate/gateway/secrets"
)

// testDirectoryConfig is a valid plain-LDAP configuration whose server is
// not there (port 1).
func testDirectoryConfig(t *testing.T) LDAPConfig {
	t.Helper()
	t.Setenv("LIVYGATE_TEST_LDAP_BIND_PW", "service-secret")
	c := LDAPConfig{Config: ldap.Default(), BindPassword: secrets.Ref{Env: "LIVYGATE_TEST_LDAP_BIND_PW"}}
	c.URL = "ldap://127.0.0.1:1"
	c.AllowInsecure = true
	c.BindDN = "cn=livygate,ou=services,dc=livygate,dc=test"
	c.UserBaseDN = "ou=people,dc=livygate,dc=test"
	return c
}

func TestLDAPConfigBindPassword(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*LDAPConfig)
		wantErr string // empty: valid
	}{
		{"bind DN and password", func(*LDAPConfig) {}, ""},
		{"bind DN without password", func(c *LDAPConfig) { c.BindPassword = secrets.Ref{} }, "bind_password is required"},
		{"bind password env unset", func(c *LDAPConfig) { c.BindPassword = secrets.Ref{Env: "LIVYGATE_TEST_UNSET_VAR"} }, "LIVYGATE_TEST_UNSET_VAR"},
		{"anonymous search", func(c *LDAPConfig) { c.BindDN = ""; c.BindPassword = secrets.Ref{} }, ""},
		{"password without bind DN", func(c *LDAPConfig) { c.BindDN = "" }, "bind_dn is empty"},
		{"directory problem too", func(c *LDAPConfig) { c.BindDN = ""; c.UserBaseDN = "" }, "user_base_dn is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testDirectoryConfig(t)
			tt.edit(&cfg)
			err := cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if _, err := OpenDirectory(cfg, logtest.Discard()); err != nil {
					t.Fatalf("OpenDirectory after Validate passed: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one that mentions %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "service-secret") {
				t.Errorf("error leaks the bind password: %v", err)
			}
		})
	}
}

// Names auth refuses never reach the directory: the server in the config
// does not exist, so reaching it would be ErrUnavailable.
func TestDirectoryRefusesBadNamesUpFront(t *testing.T) {
	d, err := OpenDirectory(testDirectoryConfig(t), logtest.Discard())
	if err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"", "al\nice", strings.Repeat("x", MaxUsernameBytes+1), "\xff"} {
		if _, err := d.Verify(context.Background(), user, "pw"); !errors.Is(err, ErrBadCredentials) || errors.Is(err, ErrUnavailable) {
			t.Errorf("Verify(%q): err = %v, want ErrBadCredentials only", user, err)
		}
		if _, err := d.Lookup(context.Background(), user); !errors.Is(err, ErrBadCredentials) || errors.Is(err, ErrUnavailable) {
			t.Errorf("Lookup(%q): err = %v, want ErrBadCredentials only", user, err)
		}
	}
	// A name that passes goes to the directory, which is down: unavailable.
	if _, err := d.Verify(context.Background(), "alice", "pw"); !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrBadCredentials) {
		t.Errorf("Verify(alice) with the directory down: err = %v, want ErrUnavailable only", err)
	}
}
