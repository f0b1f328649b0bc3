// Package policy decides which Spark conf a user may send and masks secrets
// in what Livy answers.
package policy

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Mask replaces every redacted value.
const Mask = "********"

// Violation is a conf entry the policy refuses. Its message names the key,
// never the value, which may itself be a secret.
type Violation struct {
	Key    string
	Reason string
}

func (v *Violation) Error() string {
	return fmt.Sprintf("conf key %q is not allowed: %s", v.Key, v.Reason)
}

// Policy holds the compiled rules.
type Policy struct {
	deny   []*regexp.Regexp
	allow  []*regexp.Regexp
	redact *regexp.Regexp
	clean  *cleanBodies
	// references gives value → reference for every resolved secret, so an
	// answer shows "secret@NAME" where Livy echoes the value.
	references func() map[string]string
	// viewable gives the references a given caller may see (see ForCaller).
	viewable func(user string, groups []string) map[string]string
}

// ShowReferences makes every answer show a secret's reference instead of
// its value; refs is called once per answer and must be cheap. viewable,
// when set, narrows that to the secrets one caller may use (ForCaller).
func (p *Policy) ShowReferences(refs func() map[string]string, viewable func(user string, groups []string) map[string]string) {
	p.references, p.viewable = refs, viewable
}

// ForCaller is the policy for answers to one caller. A resolved value is
// shown as its reference only where the caller may use that secret: were
// every known value replaced for everyone, echoing a guess would confirm it
// (and name the secret). A value the caller may not use can only be in the
// caller's answer because the caller wrote it. Admins (all) keep every
// reference, since they see other users' sessions.
func (p *Policy) ForCaller(user string, groups []string, all bool) *Policy {
	if all || p.viewable == nil {
		return p
	}
	q := *p
	var refs map[string]string
	q.references = func() map[string]string {
		if refs == nil {
			refs = p.viewable(user, groups)
		}
		return refs
	}
	return &q
}

// New compiles the configured patterns.
func New(cfg Config) (*Policy, error) {
	c, err := cfg.compile()
	if err != nil {
		return nil, err
	}
	return &Policy{clean: &cleanBodies{}, deny: c.deny, allow: c.allow, redact: c.redact}, nil
}

// Identity-bearing variables and properties. Without Kerberos, Hadoop takes
// the user from HADOOP_USER_NAME (environment or system property), and Spark
// from SPARK_USER; any of them set by the user would undo impersonation.
var identityNames = []string{"HADOOP_USER_NAME", "HADOOP_PROXY_USER", "SPARK_USER"}

// builtinKeyRules refuse keys that switch identity or credentials, whatever
// the configured patterns allow.
var builtinKeyRules = []struct {
	re     *regexp.Regexp
	reason string
}{
	{regexp.MustCompile(`(?i)^spark\.kerberos\.`), "Kerberos credentials are the cluster's, not the user's"},
	{regexp.MustCompile(`(?i)^spark\.yarn\.(keytab|principal)$`), "Kerberos credentials are the cluster's, not the user's"},
	{regexp.MustCompile(`(?i)^spark\.yarn\.kerberos\.`), "Kerberos credentials are the cluster's, not the user's"},
	{regexp.MustCompile(`(?i)(proxy[._-]?user|doas|impersonat)`), "the gateway sets the user the job runs as"},
	{regexp.MustCompile(`(?i)^spark\.hadoop\.hadoop\.security\.`), "it changes how Hadoop decides who the user is"},
	// Livy 0.9 refuses these itself; older Livy does not.
	{regexp.MustCompile(`(?i)^spark\.submit\.deployMode$`), "Livy decides where the driver runs"},
	{regexp.MustCompile(`(?i)^spark\.submit\.proxyUser\.`), "the gateway sets the user the job runs as"},
}

// javaUserProperty catches -Duser.name=…, which some Hadoop login paths read.
var javaUserProperty = regexp.MustCompile(`(?i)-Duser\.name\b`)

// CheckConf returns a *Violation for the first conf entry, in key order, that
// escapes impersonation or breaks the configured deny/allow patterns, or nil.
func (p *Policy) CheckConf(conf map[string]string) error {
	for _, key := range slices.Sorted(maps.Keys(conf)) {
		if v := p.checkEntry(key, conf[key]); v != nil {
			return v
		}
	}
	return nil
}

func (p *Policy) checkEntry(key, value string) *Violation {
	upperKey := strings.ToUpper(key)
	for _, name := range identityNames {
		if strings.Contains(upperKey, name) {
			return &Violation{key, "setting " + name + " would run the job as another user"}
		}
	}
	// Any value may end up as JVM options or an environment variable, so
	// every value is read as Spark will parse it too.
	for _, form := range valueForms(value) {
		upperValue := strings.ToUpper(form)
		for _, name := range identityNames {
			if strings.Contains(upperValue, name) {
				return &Violation{key, "its value sets " + name + ", which would run the job as another user"}
			}
		}
		if javaUserProperty.MatchString(form) {
			return &Violation{key, "its value sets -Duser.name, which would run the job as another user"}
		}
	}
	for _, r := range builtinKeyRules {
		if r.re.MatchString(key) {
			return &Violation{key, r.reason}
		}
	}
	for _, re := range p.deny {
		if re.MatchString(key) {
			return &Violation{key, "it is denied by the gateway's policy"}
		}
	}
	if len(p.allow) > 0 && !matchesAny(p.allow, key) {
		return &Violation{key, "it is not on the gateway's allow list"}
	}
	return nil
}

func matchesAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// IsSensitive reports whether values of a conf key must be masked.
func (p *Policy) IsSensitive(key string) bool { return p.redact.MatchString(key) }

// SensitiveValues returns the values of the sensitive keys in conf, so they
// can be masked wherever Livy echoes them (logs).
func (p *Policy) SensitiveValues(conf map[string]string) []string {
	var out []string
	for k, v := range conf {
		if v != "" && p.IsSensitive(k) {
			out = append(out, v)
		}
	}
	return out
}
