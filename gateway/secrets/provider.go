// Package secrets resolves secret references (conf values such as
// "secret@db-password") into the secrets' values, checks who may use which
// secret, and tells the gateway which values to mask in Livy's answers.
//
// No error, log line or message produced here ever contains a secret's
// value: errors name the secret, the conf key or the file, nothing else.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// Provider looks secrets up by name. It is an interface so that a cloud
// secret manager can be added later.
type Provider interface {
	// Lookup returns the secret's value, ErrNotFound when it has none, or
	// another error when the store cannot be read.
	Lookup(ctx context.Context, name string) (string, error)
	// All returns every secret the provider holds (name → value), so the
	// gateway can mask values wherever Livy echoes them, even for sessions
	// created before a restart.
	All(ctx context.Context) (map[string]string, error)
}

var (
	// ErrNotFound is returned by Lookup when the store has no such secret.
	ErrNotFound = errors.New("secret not found")
	// ErrUnavailable is wrapped by Resolve when the store cannot be read;
	// the gateway answers 503.
	ErrUnavailable = errors.New("secret store unavailable")

	errEmpty       = errors.New("secret is empty")
	errInvalidName = errors.New("invalid secret name")
)

// maxNameLen and the character set keep a name safe both as a file name and
// as part of an environment variable name.
const maxNameLen = 128

// ValidName reports whether name matches ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$.
// Every name is checked before any lookup, as it becomes a path or an
// environment variable name. A leading '.' is refused, which rules out "..",
// hidden files and Kubernetes' "..data" links.
func ValidName(name string) bool {
	if name == "" || len(name) > maxNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// maxSecretSize bounds what a lookup reads, so a wrong file (a log, a
// device) cannot exhaust memory.
const maxSecretSize = 1 << 20

// DirProvider reads secrets from a directory holding one file per secret:
// the file name is the secret's name, the content (without trailing \r and
// \n) its value. The directory is opened as an os.Root, so a lookup can never
// leave it, not even through a symbolic link.
type DirProvider struct {
	dir  string
	root *os.Root
}

var _ Provider = (*DirProvider)(nil)

// NewDirProvider opens dir, which must be an existing directory. Close
// releases it.
func NewDirProvider(dir string) (*DirProvider, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("opening secrets directory: %w", err)
	}
	return &DirProvider{dir: dir, root: root}, nil
}

// Close releases the directory.
func (p *DirProvider) Close() error { return p.root.Close() }

// Lookup reads the file named name. A missing file is ErrNotFound; an empty
// one, a directory or a link pointing out of the directory is an error.
func (p *DirProvider) Lookup(ctx context.Context, name string) (string, error) {
	if !ValidName(name) {
		return "", fmt.Errorf("secret %q: %w", name, errInvalidName)
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	f, err := p.root.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("secret %q in %s: %w", name, p.dir, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("secret %q in %s: %w", name, p.dir, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("secret %q in %s: %w", name, p.dir, err)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("secret %q in %s is not a regular file", name, p.dir)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSecretSize+1))
	if err != nil {
		return "", fmt.Errorf("secret %q in %s: %w", name, p.dir, err)
	}
	if len(b) > maxSecretSize {
		return "", fmt.Errorf("secret %q in %s is larger than %d bytes", name, p.dir, maxSecretSize)
	}
	// Editors and `echo` add a newline that is not part of the secret.
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return "", fmt.Errorf("secret %q in %s: %w", name, p.dir, errEmpty)
	}
	return v, nil
}

// All reads every file of the directory whose name is a valid secret name.
// Entries that are not secrets (other names, subdirectories, empty files,
// links out of the directory, files removed meanwhile) are skipped, so one
// stray file does not stop the masking of all the others; any other read
// error fails the whole call.
func (p *DirProvider) All(ctx context.Context) (map[string]string, error) {
	d, err := p.root.Open(".")
	if err != nil {
		return nil, fmt.Errorf("listing secrets directory %s: %w", p.dir, err)
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("listing secrets directory %s: %w", p.dir, err)
	}
	all := make(map[string]string, len(entries))
	for _, e := range entries {
		name := e.Name()
		if !ValidName(name) || e.IsDir() {
			continue
		}
		// Stat follows links but only inside the root: a link out of the
		// directory fails here and is skipped rather than read.
		if st, err := p.root.Stat(name); err != nil || !st.Mode().IsRegular() {
			continue
		}
		v, err := p.Lookup(ctx, name)
		switch {
		case err == nil:
			all[name] = v
		case errors.Is(err, ErrNotFound), errors.Is(err, errEmpty):
		default:
			return nil, err
		}
	}
	return all, nil
}

// DefaultEnvPrefix starts the environment variables EnvProvider reads. It is
// not LIVYGATE_, because livygate treats unknown LIVYGATE_* variables as
// configuration errors.
const DefaultEnvPrefix = "LGSECRET_"

// EnvProvider reads secret NAME from the environment variable
// Prefix + NAME in upper case with '-' and '.' turned into '_'. That mapping
// is not one-to-one: "db-pass", "db.pass" and "DB_PASS" all name the
// variable LGSECRET_DB_PASS.
type EnvProvider struct {
	prefix  string
	environ func() []string
}

var _ Provider = (*EnvProvider)(nil)

// NewEnvProvider reads variables starting with prefix (DefaultEnvPrefix when
// empty) from environ (os.Environ when nil; injectable for tests).
func NewEnvProvider(prefix string, environ func() []string) *EnvProvider {
	if prefix == "" {
		prefix = DefaultEnvPrefix
	}
	if environ == nil {
		environ = os.Environ
	}
	return &EnvProvider{prefix: prefix, environ: environ}
}

// VarName is the environment variable that holds secret name.
func (p *EnvProvider) VarName(name string) string {
	return p.prefix + envNamer.Replace(strings.ToUpper(name))
}

var envNamer = strings.NewReplacer("-", "_", ".", "_")

// Lookup reads the secret's variable; unset is ErrNotFound, empty an error.
func (p *EnvProvider) Lookup(ctx context.Context, name string) (string, error) {
	if !ValidName(name) {
		return "", fmt.Errorf("secret %q: %w", name, errInvalidName)
	}
	key := p.VarName(name)
	for _, kv := range p.environ() {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k != key {
			continue
		}
		if v == "" {
			return "", fmt.Errorf("secret %q: environment variable %s: %w", name, key, errEmpty)
		}
		return v, nil
	}
	return "", fmt.Errorf("secret %q: environment variable %s: %w", name, key, ErrNotFound)
}

// All returns every non-empty variable starting with the prefix. The names
// are the rest of the variable name as written (LGSECRET_DB_PASS gives
// "DB_PASS"), since the mapping from names cannot be reversed.
func (p *EnvProvider) All(context.Context) (map[string]string, error) {
	all := make(map[string]string)
	for _, kv := range p.environ() {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" || len(k) <= len(p.prefix) || !strings.HasPrefix(k, p.prefix) {
			continue
		}
		all[k[len(p.prefix):]] = v
	}
	return all, nil
}
