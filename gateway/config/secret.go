package config

import (
	"fmt"
	"os"
	"strings"
)

// IsSet reports whether the secret names a source.
func (s Secret) IsSet() bool { return s.File != "" || s.Env != "" }

// Resolve reads the secret. Errors name the source, never the value. A file's
// trailing newline is dropped, as editors and `echo` add one.
func (s Secret) Resolve() (string, error) {
	switch {
	case s.File != "" && s.Env != "":
		return "", fmt.Errorf("secret names both a file and an environment variable; give one")
	case s.File != "":
		b, err := os.ReadFile(s.File)
		if err != nil {
			return "", fmt.Errorf("reading secret file: %w", err)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", fmt.Errorf("secret file %s is empty", s.File)
		}
		return v, nil
	case s.Env != "":
		v, ok := os.LookupEnv(s.Env)
		if !ok || v == "" {
			return "", fmt.Errorf("environment variable %s is not set", s.Env)
		}
		return v, nil
	}
	return "", nil
}
