package secrets

import (
	"fmt"
	"os"
	"strings"
)

// Ref says where a configured secret lives (a bind password, a service
// token, a private key): a file or an environment variable. A secret is
// never written inline in the config or on the command line.
type Ref struct {
	File string `yaml:"file"`
	Env  string `yaml:"env"`
}

// IsSet reports whether the reference names a source.
func (r Ref) IsSet() bool { return r.File != "" || r.Env != "" }

// Resolve reads the secret. Errors name the source, never the value. A file's
// trailing newline is dropped, as editors and `echo` add one.
func (r Ref) Resolve() (string, error) {
	switch {
	case r.File != "" && r.Env != "":
		return "", fmt.Errorf("secret names both a file and an environment variable; give one")
	case r.File != "":
		b, err := os.ReadFile(r.File)
		if err != nil {
			return "", fmt.Errorf("reading secret file: %w", err)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", fmt.Errorf("secret file %s is empty", r.File)
		}
		return v, nil
	case r.Env != "":
		v, ok := os.LookupEnv(r.Env)
		if !ok || v == "" {
			return "", fmt.Errorf("environment variable %s is not set", r.Env)
		}
		return v, nil
	}
	return "", nil
}

// Check is the configuration check of the reference at key: resolvable when
// set, and set when required.
func (r Ref) Check(key string, required bool) error {
	if !r.IsSet() {
		if required {
			return fmt.Errorf("%s: is required: give file or env", key)
		}
		return nil
	}
	if _, err := r.Resolve(); err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return nil
}
