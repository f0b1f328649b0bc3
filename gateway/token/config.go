package token

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"time"

	"github.com/livygate/livygate/gateway/secrets"
	"github.com/livygate/livygate/gateway/sparkconf/delivery"
)

// Config is the tokens: section: per-user tokens for downstream S3
// authorization, the keys that sign and prove them, and their delivery
// into Spark.
type Config struct {
	Enabled  bool          `yaml:"enabled"`
	Issuer   string        `yaml:"issuer"`
	Audience []string      `yaml:"audience"`
	Lifetime time.Duration `yaml:"lifetime"`
	// SigningKey signs new tokens; VerifyKeys only verify (and are published)
	// so tokens signed before a rotation stay valid until they expire.
	SigningKey KeyConfig   `yaml:"signing_key"`
	VerifyKeys []KeyConfig `yaml:"verify_keys"`
	// UserClaims carry the user name besides "sub"; GroupClaims carry the
	// groups, each as an array or a space-separated string, so one token
	// fits consumers that expect different shapes.
	UserClaims  []string           `yaml:"user_claims"`
	GroupClaims []GroupClaimConfig `yaml:"group_claims"`
	// AdminsMayMintForOthers lets admins ask GET /token?user=NAME.
	AdminsMayMintForOthers bool `yaml:"admins_may_mint_for_others"`
	// AcceptBearer lets callers authenticate with a token the gateway minted
	// whose aud holds LoginAudience.
	AcceptBearer bool `yaml:"accept_bearer"`
	// LoginAudience is the gateway's own audience: a token logs in to the
	// gateway only with it. Minted tokens carry it only with
	// MintedTokensLogIn, so a token for the S3 proxy is no gateway login.
	LoginAudience     string   `yaml:"login_audience"`
	MintedTokensLogIn bool     `yaml:"minted_tokens_log_in"`
	Delivery          Delivery `yaml:"delivery"`
}

// KeyConfig is a PEM private key in a file or an environment variable, and
// the algorithm it signs with (RS256, RS512, ES256 or EdDSA).
type KeyConfig struct {
	secrets.Ref `yaml:",inline"`
	Algorithm   string `yaml:"algorithm"`
}

// GroupClaimConfig names a claim that lists the user's groups.
type GroupClaimConfig struct {
	Name string `yaml:"name"`
	// Format is "array" or "string" (space-separated).
	Format string `yaml:"format"`
}

// Delivery puts the caller's token into every session and batch created.
type Delivery struct {
	// Mode is none, conf (the token itself under ConfKeys) or hdfs-file (the
	// token in <home>/.livygate/token, its path under ConfKeys).
	Mode     delivery.Mode `yaml:"mode"`
	ConfKeys []string      `yaml:"conf_keys"`
}

// Default is the section where the file is silent.
func Default() Config {
	return Config{
		Lifetime:      1440 * time.Minute,
		SigningKey:    KeyConfig{Algorithm: "RS256"},
		GroupClaims:   []GroupClaimConfig{{Name: "groups", Format: "array"}},
		AcceptBearer:  true,
		LoginAudience: DefaultLoginAudience,
		Delivery:      Delivery{Mode: delivery.None},
	}
}

// algorithms are the signing algorithms livygate mints with.
var algorithms = map[string]bool{"RS256": true, "RS512": true, "ES256": true, "EdDSA": true}

// confKey is what a Spark conf key looks like.
var confKey = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.\-]*$`)

// Validate reports every problem of the section, joined, or nil. It reads
// the keys' sources and changes nothing.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if !c.Enabled {
		if c.Delivery.Mode.Delivers() || c.Delivery.Mode.Validate() != nil {
			bad("tokens.delivery.mode", "needs tokens.enabled")
		}
		return errors.Join(errs...)
	}
	if c.Issuer == "" {
		bad("tokens.issuer", "is required")
	}
	if len(c.Audience) == 0 {
		bad("tokens.audience", "is required: name the services the tokens are for")
	}
	if c.Lifetime < time.Minute {
		bad("tokens.lifetime", "must be at least 1m")
	}
	for i, k := range append([]KeyConfig{c.SigningKey}, c.VerifyKeys...) {
		name := "tokens.signing_key"
		if i > 0 {
			name = fmt.Sprintf("tokens.verify_keys[%d]", i-1)
		}
		if !algorithms[k.Algorithm] {
			bad(name+".algorithm", "must be RS256, RS512, ES256 or EdDSA, not %q", k.Algorithm)
		}
		if !k.IsSet() {
			bad(name, "is required: give file or env")
		} else if _, err := k.load(); err != nil {
			bad(name, "%v", err) // unreadable, or not a key of that algorithm
		}
	}
	for _, claim := range c.UserClaims {
		if claim == "" || registeredClaim(claim) && claim != "sub" {
			bad("tokens.user_claims", "%q cannot carry the user name", claim)
		}
	}
	for _, g := range c.GroupClaims {
		if g.Name == "" || registeredClaim(g.Name) || slices.Contains(c.UserClaims, g.Name) {
			bad("tokens.group_claims", "%q cannot carry the groups", g.Name)
		}
		if g.Format != "array" && g.Format != "string" {
			bad("tokens.group_claims", "format of %q must be array or string, not %q", g.Name, g.Format)
		}
	}
	if err := c.Delivery.Mode.Validate(); err != nil {
		bad("tokens.delivery.mode", "%v", err)
	} else if c.Delivery.Mode.Delivers() {
		if len(c.Delivery.ConfKeys) == 0 {
			bad("tokens.delivery.conf_keys", "is required in %s mode", c.Delivery.Mode)
		}
		for _, k := range c.Delivery.ConfKeys {
			if !confKey.MatchString(k) {
				bad("tokens.delivery.conf_keys", "%q is not a Spark conf key", k)
			}
		}
	}
	return errors.Join(errs...)
}

// Claims lists every claim a minted token carries, for discovery.
func (c Config) Claims() []string {
	claims := []string{"iss", "sub", "aud", "iat", "nbf", "exp", "jti"}
	for _, u := range c.UserClaims {
		if !slices.Contains(claims, u) {
			claims = append(claims, u)
		}
	}
	for _, g := range c.GroupClaims {
		claims = append(claims, g.Name)
	}
	return claims
}

// registeredClaim reports the claims livygate sets itself.
func registeredClaim(c string) bool {
	switch c {
	case "sub", "iss", "aud", "iat", "nbf", "exp", "jti":
		return true
	}
	return false
}

// LoadKeys reads the configured signing and verify-only keys.
func (c Config) LoadKeys() (Loaded, []Loaded, error) {
	signing, err := c.SigningKey.load()
	if err != nil {
		return Loaded{}, nil, fmt.Errorf("tokens.signing_key: %w", err)
	}
	var verify []Loaded
	for i, k := range c.VerifyKeys {
		l, err := k.load()
		if err != nil {
			return Loaded{}, nil, fmt.Errorf("tokens.verify_keys[%d]: %w", i, err)
		}
		verify = append(verify, l)
	}
	return signing, verify, nil
}

func (k KeyConfig) load() (Loaded, error) {
	pem, err := k.Resolve()
	if err != nil {
		return Loaded{}, err
	}
	key, err := ParsePrivateKey([]byte(pem), k.Algorithm)
	if err != nil {
		return Loaded{}, err
	}
	l := Loaded{Key: key}
	if k.File != "" {
		if st, err := os.Stat(k.File); err == nil {
			l.Created = st.ModTime()
		}
	}
	return l, nil
}

// Open builds the minter of a validated, enabled configuration with its
// keys loaded.
func Open(c Config, now func() time.Time) (*Minter, error) {
	keys := NewKeySet(c.Lifetime, now)
	signing, verify, err := c.LoadKeys()
	if err != nil {
		return nil, err
	}
	if err := keys.Load(signing, verify); err != nil {
		return nil, err
	}
	opts := Options{
		Issuer: c.Issuer, Audience: c.Audience, Lifetime: c.Lifetime,
		LoginAudience: c.LoginAudience, MintLogin: c.MintedTokensLogIn,
		UserClaims: c.UserClaims, Now: now,
	}
	for _, g := range c.GroupClaims {
		opts.GroupClaims = append(opts.GroupClaims, GroupClaim{Name: g.Name, String: g.Format == "string"})
	}
	return NewMinter(keys, opts), nil
}
