package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ldapSection is the authenticator every configuration needs (check-config
// never dials it).
const ldapSection = `auth:
  ldap:
    url: ldap://127.0.0.1:389
    allow_insecure: true
    user_base_dn: ou=people,dc=x
`

// check-config validates the limits: and reaper: sections with the rest,
// one line per problem.
func TestCheckConfigValidatesGovernance(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gov.yaml")
	bad := ldapSection + `livy:
  version: seven
limits:
  default:
    max_sessions: -1
    max_driver_memory: 2 gigs
  overrides:
    - max_batches: 2
  timeouts:
    over_max: shrug
    ttl: {default: 48h, max: 24h}
reaper:
  interval: 1m
  orphan_after: 30m
  history: 0
`
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI("check-config", "--config", path)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{"livy.version", "limits.default.max_sessions", "limits.default.max_driver_memory",
		"limits.overrides[0]: names no groups or users", "limits.timeouts.over_max", "limits.timeouts.ttl.default",
		"reaper.history", "reaper.orphan_after: needs jupyterhub.url"} {
		if !strings.Contains(stderr, "  - "+want) {
			t.Errorf("problem %q missing from:\n%s", want, stderr)
		}
	}
	good := ldapSection + `limits:
  default: {max_sessions: 3, max_driver_memory: 4g, queues: [default], default_queue: default}
  overrides:
    - groups: [etl]
      max_sessions: 6
  timeouts:
    ttl: {default: 8h, max: 24h}
reaper:
  idle_after: 2h
  dry_run: true
`
	if err := os.WriteFile(path, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := runCLI("check-config", "--config", path); code != 0 || !strings.Contains(out, "valid") {
		t.Errorf("exit %d, out %q, err %q", code, out, stderr)
	}
}
