package policy

import (
	"errors"
	"fmt"
	"regexp"
)

// Config is the policy: section: the Spark conf policy and the redaction
// rule.
type Config struct {
	// DenyConf are extra regular expressions; a conf key matching one is refused.
	DenyConf []string `yaml:"deny_conf"`
	// AllowConf, when set, lists the only conf keys users may set (regexps).
	AllowConf []string `yaml:"allow_conf"`
	// RedactKeys is a regular expression; conf values whose key matches are
	// masked in every answer.
	RedactKeys string `yaml:"redact_keys"`
}

// Default is the section where the file is silent.
func Default() Config {
	return Config{RedactKeys: `(?i)(password|passwd|secret|token|access\.?key|account\.?key|credential)`}
}

// Validate reports every problem of the section, joined, or nil.
func (c Config) Validate() error {
	_, err := c.compile()
	return err
}

// compiled is the section's patterns, compiled; Validate and New share it.
type compiled struct {
	deny, allow []*regexp.Regexp
	redact      *regexp.Regexp
}

func (c Config) compile() (compiled, error) {
	var out compiled
	var errs []error
	compileAll := func(key string, patterns []string) []*regexp.Regexp {
		res := make([]*regexp.Regexp, 0, len(patterns))
		for i, s := range patterns {
			re, err := regexp.Compile(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s[%d]: %v", key, i, err))
				continue
			}
			res = append(res, re)
		}
		return res
	}
	out.deny = compileAll("policy.deny_conf", c.DenyConf)
	out.allow = compileAll("policy.allow_conf", c.AllowConf)
	if c.RedactKeys == "" {
		errs = append(errs, errors.New("policy.redact_keys: must not be empty: secrets would reach every answer"))
	} else if re, err := regexp.Compile(c.RedactKeys); err != nil {
		errs = append(errs, fmt.Errorf("policy.redact_keys: %v", err))
	} else {
		out.redact = re
	}
	return out, errors.Join(errs...)
}
