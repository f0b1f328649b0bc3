package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sirupsen/logrus"
)

// PasswordVerifier checks a user name and password against an identity
// backend (LDAP). It returns the verified identity (canonical user name,
// groups, Method), or an error wrapping ErrBadCredentials when the
// credentials are wrong or ErrUnavailable when the backend cannot answer.
type PasswordVerifier interface {
	Verify(ctx context.Context, user, password string) (*Identity, error)
}

const (
	// MaxUsernameBytes is the longest user name accepted.
	MaxUsernameBytes = 256
	// MaxPasswordBytes is the longest password accepted.
	MaxPasswordBytes = 4096
)

// Basic authenticates HTTP Basic credentials with a PasswordVerifier, in
// front of which it puts input checks, a lockout and a verified-credentials
// cache:
//
//  1. no Authorization header, or another scheme: ErrNoCredentials;
//  2. malformed header, empty or invalid user name, empty password:
//     ErrBadCredentials, without asking the backend;
//  3. credentials verified within the cache TTL: the cached identity, even
//     while the user is locked (the cache only holds exact credentials the
//     directory accepted, so it helps no guesser);
//  4. user or client address locked: *LockedError;
//  5. otherwise the verifier decides. Only ErrBadCredentials counts as a
//     failed login (an outage never locks anybody out); a success clears the
//     user's failure count and fills the cache.
type Basic struct {
	// Log receives lockout warnings; nil means logrus.StandardLogger().
	Log logrus.FieldLogger

	verifier   PasswordVerifier
	adminGroup string
	cache      *CredentialCache
	lockout    *Lockout
	now        func() time.Time
}

// NewBasic builds the Basic authenticator from the auth configuration (its
// AdminGroup, Cache and Lockout). now is the clock; nil means time.Now.
func NewBasic(cfg Config, v PasswordVerifier, now func() time.Time) (*Basic, error) {
	if v == nil {
		return nil, errors.New("auth: Basic needs a password verifier")
	}
	lock, err := NewLockout(cfg.Lockout)
	if err != nil {
		return nil, err
	}
	if cfg.Cache.TTL < 0 || cfg.Cache.MaxEntries < 0 {
		return nil, errors.New("auth.cache.ttl and auth.cache.max_entries must not be negative (0 disables the cache)")
	}
	if now == nil {
		now = time.Now
	}
	return &Basic{
		verifier:   v,
		adminGroup: cfg.AdminGroup,
		cache:      NewCredentialCache(cfg.Cache.TTL, cfg.Cache.MaxEntries),
		lockout:    lock,
		now:        now,
	}, nil
}

// Authenticate implements Authenticator.
func (b *Basic) Authenticate(ctx context.Context, r *http.Request) (*Identity, error) {
	user, password, err := basicCredentials(r)
	if err != nil {
		return nil, err
	}
	if err := checkCredentials(user, password); err != nil {
		return nil, err
	}

	now := b.now()
	// Verified credentials pass even while the user is locked: the cache
	// holds only exact credentials the directory accepted, so it gives a
	// guesser nothing, and a lock must not cut off a running notebook.
	if id := b.cache.Get(user, password, now); id != nil {
		return id, nil
	}
	var addr string
	if b.lockout != nil {
		addr = clientAddr(r.RemoteAddr)
		if locked := b.lockout.Check(user, addr, now); locked != nil {
			return nil, locked
		}
	}

	id, err := b.verify(ctx, user, password, now)
	switch {
	case err == nil && (id == nil || id.User == ""):
		return nil, fmt.Errorf("%w: verifier returned no identity", ErrUnavailable)
	case err == nil:
	case errors.Is(err, ErrBadCredentials):
		// A wrong password counts against the entry the directory found,
		// whatever look-alike spelling found it; an unknown name against
		// the name typed.
		key := user
		var bad *BadPasswordError
		if errors.As(err, &bad) {
			key = entryLockKey(bad.Entry)
		}
		b.failure(key, addr, now)
		return nil, err
	case errors.Is(err, ErrUnavailable), errors.Is(err, ErrNoCredentials):
		return nil, err
	default:
		var locked *LockedError
		if errors.As(err, &locked) {
			return nil, err
		}
		// Unknown failure: never a 401, never counted against the user.
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}

	b.lockout.Success(now, user, id.User, entryLockKey(id.Entry))
	out := *id
	out.Groups = append([]string(nil), id.Groups...)
	out.Admin = b.isAdmin(&out)
	b.cache.Put(user, password, &out, now)
	return &out, nil
}

// verify asks the verifier, which, when it finds directory entries first,
// refuses an entry that is locked before its password is tried.
func (b *Basic) verify(ctx context.Context, user, password string, now time.Time) (*Identity, error) {
	ev, ok := b.verifier.(EntryVerifier)
	if !ok || b.lockout == nil {
		return b.verifier.Verify(ctx, user, password)
	}
	return ev.VerifyEntry(ctx, user, password, func(entry string) error {
		if locked := b.lockout.Check(entryLockKey(entry), "", now); locked != nil {
			return locked
		}
		return nil
	})
}

// entryLockKey is the lockout key of a directory entry (DNs compare without
// regard to case); "" for none.
func entryLockKey(dn string) string {
	if dn == "" {
		return ""
	}
	return entryKeyPrefix + strings.ToLower(dn)
}

// entryKeyPrefix keeps entry keys apart from typed names in the lockout.
const entryKeyPrefix = "\x00entry:"

func (b *Basic) failure(user, addr string, now time.Time) {
	if b.lockout == nil {
		return
	}
	b.lockout.Failure(user, addr, now)
	if locked := b.lockout.Check(user, addr, now); locked != nil {
		log := b.Log
		if log == nil {
			log = logrus.StandardLogger()
		}
		field, who := "user", user
		if dn, ok := strings.CutPrefix(user, entryKeyPrefix); ok {
			field, who = "entry", dn
		}
		log.WithFields(logrus.Fields{
			field:         who,
			"client_addr": addr,
			"retry_after": locked.RetryAfter.String(),
		}).Warn("auth: too many failed logins; locked")
	}
}

// isAdmin reports membership of the admin group. Directory group names
// compare without regard to case, as LDAP's cn does.
func (b *Basic) isAdmin(id *Identity) bool {
	if b.adminGroup == "" {
		return false
	}
	for _, g := range id.Groups {
		if strings.EqualFold(g, b.adminGroup) {
			return true
		}
	}
	return false
}

// basicCredentials reads HTTP Basic credentials. A request without an
// Authorization header or with another scheme has none of ours; a Basic one
// that does not decode is a bad credential.
func basicCredentials(r *http.Request) (user, password string, err error) {
	h := r.Header.Get("Authorization")
	const prefix = "Basic "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", "", ErrNoCredentials
	}
	user, password, ok := r.BasicAuth()
	if !ok {
		return "", "", fmt.Errorf("%w: malformed Basic authorization header", ErrBadCredentials)
	}
	return user, password, nil
}

// checkCredentials refuses, before any backend sees them, credentials that
// cannot be right: an empty password (an LDAP simple bind with a DN and no
// password is an anonymous bind that "succeeds"), and user names that are
// empty, too long, not UTF-8 or hold control characters.
func checkCredentials(user, password string) error {
	switch {
	case password == "":
		return fmt.Errorf("%w: empty password", ErrBadCredentials)
	case len(password) > MaxPasswordBytes:
		return fmt.Errorf("%w: password longer than %d bytes", ErrBadCredentials, MaxPasswordBytes)
	}
	return CheckUsername(user)
}

// Cache is the verified-credentials cache, for its hit ratio.
func (b *Basic) Cache() *CredentialCache { return b.cache }

// CheckUsername refuses a user name that is empty (or only spaces), longer
// than MaxUsernameBytes, not valid UTF-8, or holds a control character.
func CheckUsername(user string) error {
	if strings.TrimSpace(user) == "" {
		return fmt.Errorf("%w: empty user name", ErrBadCredentials)
	}
	if err := CheckText("user name", user, MaxUsernameBytes); err != nil {
		return fmt.Errorf("%w: %w", ErrBadCredentials, err)
	}
	return nil
}

// CheckText refuses a text from a client that is longer than max bytes,
// not valid UTF-8, or holds a control character; name says what it is.
func CheckText(name, s string, max int) error {
	switch {
	case len(s) > max:
		return fmt.Errorf("%s is longer than %d bytes", name, max)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not valid UTF-8", name)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return fmt.Errorf("%s contains a control character", name)
	}
	return nil
}
