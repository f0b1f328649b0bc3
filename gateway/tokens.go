package gateway

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/config"
	"github.com/livygate/livygate/gateway/secrets"
	"github.com/livygate/livygate/gateway/sparkconf"
	"github.com/livygate/livygate/gateway/sparkconf/delivery"
	"github.com/livygate/livygate/gateway/token"
	"github.com/livygate/livygate/hdfs"
)

// LoadKeys reads the configured signing and verify-only keys.
func LoadKeys(cfg config.Tokens) (token.Loaded, []token.Loaded, error) {
	signing, err := loadKey(cfg.SigningKey)
	if err != nil {
		return token.Loaded{}, nil, fmt.Errorf("tokens.signing_key: %w", err)
	}
	var verify []token.Loaded
	for i, k := range cfg.VerifyKeys {
		l, err := loadKey(k)
		if err != nil {
			return token.Loaded{}, nil, fmt.Errorf("tokens.verify_keys[%d]: %w", i, err)
		}
		verify = append(verify, l)
	}
	return signing, verify, nil
}

func loadKey(k config.Key) (token.Loaded, error) {
	pem, err := k.Secret().Resolve()
	if err != nil {
		return token.Loaded{}, err
	}
	key, err := token.ParsePrivateKey([]byte(pem), k.Algorithm)
	if err != nil {
		return token.Loaded{}, err
	}
	l := token.Loaded{Key: key}
	if k.File != "" {
		if st, err := os.Stat(k.File); err == nil {
			l.Created = st.ModTime()
		}
	}
	return l, nil
}

// NewMinter builds the token minter with its keys loaded.
func NewMinter(cfg config.Tokens, now func() time.Time) (*token.Minter, error) {
	keys := token.NewKeySet(cfg.Lifetime, now)
	signing, verify, err := LoadKeys(cfg)
	if err != nil {
		return nil, err
	}
	if err := keys.Load(signing, verify); err != nil {
		return nil, err
	}
	opts := token.Options{
		Issuer: cfg.Issuer, Audience: cfg.Audience, Lifetime: cfg.Lifetime,
		LoginAudience: cfg.LoginAudience, MintLogin: cfg.MintedTokensLogIn,
		UserClaims: cfg.UserClaims, Now: now,
	}
	for _, g := range cfg.GroupClaims {
		opts.GroupClaims = append(opts.GroupClaims, token.GroupClaim{Name: g.Name, String: g.Format == "string"})
	}
	return token.NewMinter(keys, opts), nil
}

// ReloadKeys re-reads the key files (on SIGHUP). A key that stops signing
// keeps verifying until the tokens it signed have expired.
func (g *Gateway) ReloadKeys(cfg config.Tokens) error {
	if g.minter == nil {
		return errors.New("tokens are not enabled")
	}
	signing, verify, err := LoadKeys(cfg)
	if err != nil {
		return err
	}
	if err := g.minter.Keys().Load(signing, verify); err != nil {
		return err
	}
	g.log.WithField("kid", signing.Key.ID).Info("token keys reloaded")
	return nil
}

// Keys describes the token keys, for operators; nil when tokens are off.
func (g *Gateway) Keys() []token.KeyInfo {
	if g.minter == nil {
		return nil
	}
	return g.minter.Keys().List()
}

// newSecrets builds the secret reference resolver; nil when none is set up.
func newSecrets(cfg config.Secrets, log logrus.FieldLogger) (*secrets.Resolver, error) {
	var provider secrets.Provider
	switch cfg.Provider {
	case "":
		return nil, nil
	case "dir":
		p, err := secrets.NewDirProvider(cfg.Dir)
		if err != nil {
			return nil, fmt.Errorf("secrets.dir: %w", err)
		}
		provider = p
	case "env":
		provider = secrets.NewEnvProvider(cfg.EnvPrefix, os.Environ)
	default:
		return nil, fmt.Errorf("secrets.provider: unknown provider %q", cfg.Provider)
	}
	access := map[string]secrets.Access{}
	for name, a := range cfg.Access {
		access[name] = secrets.Access{Users: a.Users, Groups: a.Groups}
	}
	return secrets.NewResolver(secrets.Options{
		Prefix: cfg.Prefix, Provider: provider, Access: access,
		OnRefreshError: func(err error) {
			log.WithError(err).Warn("secrets: could not list the secrets to mask; keeping the last list")
		},
	})
}

// hdfsTokenWriter writes a user's token to <base_dir>/<user>/.livygate/token.
func hdfsTokenWriter(cfg config.HDFS) (func(ctx context.Context, user string, data []byte) (string, error), error) {
	pattern, err := hdfs.CompileNamePattern(cfg.NamePattern)
	if err != nil {
		return nil, fmt.Errorf("hdfs.name_pattern: %w", err)
	}
	return func(_ context.Context, user string, data []byte) (string, error) {
		if err := hdfs.ValidateName(user, pattern); err != nil {
			return "", err // the name would become a path
		}
		fs, done, err := hdfs.ConnectFiles(cfg.NameNodes, cfg.User)
		if err != nil {
			return "", err
		}
		defer done()
		return hdfs.WriteUserFile(fs, path.Join(cfg.BaseDir, user), ".livygate", "token", user, data)
	}, nil
}

// redactKeysWith adds exact conf keys to the redaction pattern.
func redactKeysWith(pattern string, keys []string) string {
	if len(keys) == 0 {
		return pattern
	}
	quoted := make([]string, len(keys))
	for i, k := range keys {
		quoted[i] = regexp.QuoteMeta(k)
	}
	return "(?:" + pattern + ")|(?:" + strings.Join(quoted, "|") + ")"
}

// groupsLookup finds a user's groups in LDAP; nil without LDAP.
func groupsLookup(directory *auth.LDAP) func(ctx context.Context, user string) ([]string, error) {
	if directory == nil {
		return nil
	}
	return func(ctx context.Context, user string) ([]string, error) {
		id, err := directory.Lookup(ctx, user)
		if err != nil {
			return nil, err
		}
		return id.Groups, nil
	}
}

// newFinisher builds the conf finisher, or nil when neither secret
// references nor token delivery is configured.
func newFinisher(cfg config.Config, res *secrets.Resolver, minter *token.Minter, check func(map[string]string) error,
	groupsOf func(context.Context, string) ([]string, error)) (*sparkconf.Finisher, error) {
	mode := cfg.Tokens.Delivery.Mode
	delivers := minter != nil && mode.Delivers()
	if res == nil && !delivers {
		return nil, nil
	}
	f := &sparkconf.Finisher{Secrets: res, Check: check, GroupsOf: groupsOf}
	if delivers {
		f.Minter, f.Mode, f.ConfKeys = minter, mode, cfg.Tokens.Delivery.ConfKeys
	}
	if delivers && mode == delivery.HDFSFile {
		w, err := hdfsTokenWriter(cfg.HDFS)
		if err != nil {
			return nil, err
		}
		f.WriteToken = w
	}
	return f, nil
}
