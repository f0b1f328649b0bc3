package hdfs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Defaults of Options.
const (
	DefaultUser        = "hdfs"
	DefaultBaseDir     = "/user"
	DefaultMode        = Mode(0o750)
	DefaultNamePattern = `^[a-z_][a-z0-9_.-]{0,63}$`
	DefaultConcurrency = 8

	// MaxNameBytes is the longest home directory name accepted, whatever the
	// pattern says: HDFS refuses path components over 255 bytes by default
	// (dfs.namenode.fs-limits.max-component-length).
	MaxNameBytes = 255
	// MaxConcurrency bounds Options.Concurrency.
	MaxConcurrency = 256
)

// defaultNameRE is DefaultNamePattern compiled.
var defaultNameRE = regexp.MustCompile(DefaultNamePattern)

// Config is the hdfs: section: the NameNodes livygate talks to, as whom,
// and the policy for homes.
type Config struct {
	// NameNodes are host:port addresses; several mean an HA pair.
	NameNodes []string `yaml:"namenodes"`
	// User is the HDFS superuser name livygate acts as (simple auth).
	User    string `yaml:"user"`
	Options `yaml:",inline"`
}

// Default is the section where the file is silent.
func Default() Config {
	return Config{User: DefaultUser, Options: Options{}.withDefaults()}
}

// Connect dials the configured NameNodes as the configured user. Callers
// connect on each use: a sync or a token file is rare, and a fresh
// connection survives a NameNode failover.
func (c Config) Connect() (FS, func() error, error) { return Connect(c.NameNodes, c.User) }

// ConnectFiles is Connect for writing user files.
func (c Config) ConnectFiles() (FileFS, func() error, error) {
	return ConnectFiles(c.NameNodes, c.User)
}

// Ping stats the base directory, for the admin UI's reachability check.
func (c Config) Ping(context.Context) error {
	fs, done, err := c.Connect()
	if err != nil {
		return err
	}
	defer done()
	_, err = fs.Stat(c.BaseDir)
	return err
}

// Enabled reports whether NameNodes are configured.
func (c Config) Enabled() bool { return len(c.NameNodes) > 0 }

// Validate reports every problem of the section, joined, or nil.
func (c Config) Validate() error {
	var errs []error
	for _, nn := range c.NameNodes {
		if _, _, err := net.SplitHostPort(nn); err != nil {
			errs = append(errs, fmt.Errorf("hdfs.namenodes: %q: %v", nn, err))
		}
	}
	if c.User == "" {
		errs = append(errs, errors.New("hdfs.user: is required"))
	}
	if err := c.Options.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("hdfs: %w", err))
	}
	return errors.Join(errs...)
}

// Mode is a home's permission bits, written in octal ("0750") in the
// configuration.
type Mode os.FileMode

// UnmarshalText reads the octal form, for YAML and environment overrides.
func (m *Mode) UnmarshalText(b []byte) error {
	v, err := strconv.ParseUint(string(b), 8, 32)
	if err != nil || v > 0o777 {
		return fmt.Errorf("%q is not an octal permission like 0750", b)
	}
	*m = Mode(v)
	return nil
}

// MarshalText writes the octal form.
func (m Mode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

func (m Mode) String() string { return fmt.Sprintf("%04o", uint32(m)) }

// Perm is the mode as the file system takes it.
func (m Mode) Perm() os.FileMode { return os.FileMode(m) & os.ModePerm }

// Options is the policy for homes. The zero value means every default.
type Options struct {
	// BaseDir holds the homes; default "/user". It must exist: it is never
	// created.
	BaseDir string `yaml:"base_dir"`
	// Group of every home; "" leaves the group the NameNode gives a new
	// directory (the parent's group) and never reports group drift.
	Group string `yaml:"group"`
	// Mode of every home (permission bits only); 0 means 0750.
	Mode Mode `yaml:"mode"`
	// AllowWorldWritable must be true for a Mode with o+w (the old script's
	// 0777): Validate refuses such a Mode otherwise, and Warnings warns about
	// it when it is allowed.
	AllowWorldWritable bool `yaml:"allow_world_writable"`
	// NamePattern is a regexp the whole user name must match (it is anchored
	// at both ends whether or not it says so); default DefaultNamePattern.
	NamePattern string `yaml:"name_pattern"`
	// Repair fixes drift (owner, group, mode); otherwise drift is only
	// reported.
	Repair bool `yaml:"repair"`
	// DryRun plans only: no call that changes HDFS is made.
	DryRun bool `yaml:"-"`
	// Concurrency bounds how many homes are created or repaired at once;
	// 0 means 8. (An FS from Connect also runs at most 8 NameNode calls at
	// once, one per pooled connection.)
	Concurrency int `yaml:"concurrency"`
}

// withDefaults fills in the zero fields.
func (o Options) withDefaults() Options {
	if o.BaseDir == "" {
		o.BaseDir = DefaultBaseDir
	}
	if o.Mode == 0 {
		o.Mode = DefaultMode
	}
	if o.NamePattern == "" {
		o.NamePattern = DefaultNamePattern
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	return o
}

// Validate reports every problem of the options (defaults applied), joined
// into one error, or nil. It prints nothing; see Warnings for what is allowed
// but risky.
func (o Options) Validate() error {
	o = o.withDefaults()
	var errs []error
	switch {
	case !strings.HasPrefix(o.BaseDir, "/"):
		errs = append(errs, fmt.Errorf("base dir %q is not an absolute path", o.BaseDir))
	case path.Clean(o.BaseDir) != o.BaseDir:
		errs = append(errs, fmt.Errorf("base dir %q is not a clean path (want %q)", o.BaseDir, path.Clean(o.BaseDir)))
	case o.BaseDir == "/":
		errs = append(errs, errors.New(`base dir must not be the root "/"`))
	}
	if bad := badChars(o.BaseDir); bad != "" {
		errs = append(errs, fmt.Errorf("base dir %q %s", o.BaseDir, bad))
	}
	if o.Group != "" {
		if bad := badChars(o.Group); bad != "" {
			errs = append(errs, fmt.Errorf("group %q %s", o.Group, bad))
		} else if strings.TrimSpace(o.Group) != o.Group {
			errs = append(errs, fmt.Errorf("group %q has leading or trailing spaces", o.Group))
		} else if strings.ContainsAny(o.Group, ":/") {
			errs = append(errs, fmt.Errorf("group %q contains ':' or '/'", o.Group))
		}
	}
	if os.FileMode(o.Mode)&^os.ModePerm != 0 {
		errs = append(errs, fmt.Errorf("mode %#o has bits other than permission bits (0777)", uint32(o.Mode)))
	} else if o.Mode&0o002 != 0 && !o.AllowWorldWritable {
		errs = append(errs, fmt.Errorf("mode %s lets every user write into every home; set allow_world_writable: true if you really mean it", o.Mode))
	}
	if _, err := compilePattern(o.NamePattern); err != nil {
		errs = append(errs, err)
	}
	if o.Concurrency < 1 || o.Concurrency > MaxConcurrency {
		errs = append(errs, fmt.Errorf("concurrency %d is out of range 1..%d", o.Concurrency, MaxConcurrency))
	}
	return errors.Join(errs...)
}

// Warnings lists what the options allow but an administrator should hear
// about (today: world-writable homes). The caller decides how to show them.
func (o Options) Warnings() []string {
	o = o.withDefaults()
	var w []string
	if o.Mode&0o002 != 0 && o.AllowWorldWritable {
		w = append(w, fmt.Sprintf("mode %04o makes every home world-writable: any user can delete or replace files in every other user's home", uint32(o.Mode.Perm())))
	}
	return w
}

// CompileNamePattern compiles a NamePattern as Provision does, anchored so
// that it must match the whole name ("" gives the default), for ValidateName.
func CompileNamePattern(p string) (*regexp.Regexp, error) { return compilePattern(p) }

// compilePattern compiles a NamePattern so that it must match the whole name.
func compilePattern(p string) (*regexp.Regexp, error) {
	if p == "" || p == DefaultNamePattern {
		return defaultNameRE, nil
	}
	re, err := regexp.Compile(`^(?:` + p + `)$`)
	if err != nil {
		return nil, fmt.Errorf("name pattern %q: %w", p, err)
	}
	return re, nil
}

// badChars says what is wrong with the characters of s ("" when nothing).
func badChars(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Sprintf("contains a control character (%U)", r)
		}
	}
	return ""
}

// ValidateName says why a user name cannot be a home directory name: empty,
// ".", "..", containing "/" or ":" (HDFS refuses ':' in a path component),
// control characters, not valid UTF-8, over MaxNameBytes bytes, or not
// matching pattern as a whole (nil pattern: DefaultNamePattern). It returns
// nil for a usable name.
func ValidateName(name string, pattern *regexp.Regexp) error {
	if pattern == nil {
		pattern = defaultNameRE
	}
	switch {
	case name == "":
		return errors.New("empty name")
	case name == "." || name == "..":
		return fmt.Errorf("name %q is a relative path component", name)
	case !utf8.ValidString(name):
		return fmt.Errorf("name %q is not valid UTF-8", name)
	}
	if bad := badChars(name); bad != "" {
		return fmt.Errorf("name %q %s", name, bad)
	}
	if strings.Contains(name, "/") {
		return fmt.Errorf("name %q contains '/'", name)
	}
	if strings.Contains(name, ":") {
		return fmt.Errorf("name %q contains ':', which HDFS refuses in a path component", name)
	}
	if len(name) > MaxNameBytes {
		return fmt.Errorf("name %q is %d bytes long, over the limit of %d", abbreviate(name), len(name), MaxNameBytes)
	}
	if loc := pattern.FindStringIndex(name); loc == nil || loc[0] != 0 || loc[1] != len(name) {
		return fmt.Errorf("name %q does not match the name pattern %s", abbreviate(name), pattern)
	}
	return nil
}

// abbreviate shortens very long names in messages.
func abbreviate(s string) string {
	const keep = 40
	if len(s) <= keep+10 {
		return s
	}
	cut := keep
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s…(%d bytes)", s[:cut], len(s))
}
