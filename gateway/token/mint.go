package token

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// GroupClaim names a claim that lists the user's groups, as a JSON array or
// as one space-separated string.
type GroupClaim struct {
	Name   string
	String bool
}

// Options shape the tokens a Minter issues and accepts.
type Options struct {
	Issuer   string
	Audience []string
	// LoginAudience is the gateway's own audience, which VerifyLogin
	// requires ("" means DefaultLoginAudience); minted tokens carry it only
	// with MintLogin.
	LoginAudience string
	MintLogin     bool
	Lifetime      time.Duration
	// UserClaims carry the user name besides "sub".
	UserClaims  []string
	GroupClaims []GroupClaim
	Now         func() time.Time
}

// Minter signs and verifies livygate's tokens with a KeySet.
type Minter struct {
	keys *KeySet
	opts Options
}

// NewMinter returns a Minter; keys must already hold a signing key.
func NewMinter(keys *KeySet, opts Options) *Minter {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Minter{keys: keys, opts: opts}
}

// Keys is the minter's key set.
func (m *Minter) Keys() *KeySet { return m.keys }

// Minted is a signed token and what an audit record may say about it (all
// but the token itself).
type Minted struct {
	Token     string
	ID        string // jti
	KeyID     string
	Algorithm string
	User      string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Mint signs a token naming user and groups.
func (m *Minter) Mint(user string, groups []string) (Minted, error) {
	if user == "" {
		return Minted{}, errors.New("a token needs a user")
	}
	key := m.keys.Signing()
	if key == nil {
		return Minted{}, errors.New("no signing key is loaded")
	}
	now := m.opts.Now().Truncate(time.Second)
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return Minted{}, err
	}
	out := Minted{
		ID: base64.RawURLEncoding.EncodeToString(nonce[:]), KeyID: key.ID, Algorithm: key.Algorithm, User: user,
		IssuedAt: now, ExpiresAt: now.Add(m.opts.Lifetime),
	}
	aud := m.opts.Audience
	if m.opts.MintLogin && !slices.Contains(aud, m.loginAudience()) {
		aud = append(slices.Clone(aud), m.loginAudience())
	}
	claims := jwt.MapClaims{
		"sub": user,
		"iss": m.opts.Issuer,
		"aud": aud,
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": out.ExpiresAt.Unix(),
		"jti": out.ID,
	}
	for _, c := range m.opts.UserClaims {
		claims[c] = user
	}
	if groups == nil {
		groups = []string{}
	}
	for _, g := range m.opts.GroupClaims {
		if g.String {
			claims[g.Name] = strings.Join(groups, " ")
		} else {
			claims[g.Name] = groups
		}
	}
	t := jwt.NewWithClaims(key.method, claims)
	t.Header["kid"] = key.ID
	signed, err := t.SignedString(key.private)
	if err != nil {
		return Minted{}, fmt.Errorf("signing a token: %w", err)
	}
	out.Token = signed
	return out, nil
}

// Verified is what a valid token says.
type Verified struct {
	User   string
	Groups []string
	ID     string
	KeyID  string
}

// ErrInvalid wraps every reason a token is refused.
var ErrInvalid = errors.New("invalid token")

// DefaultLoginAudience is the audience a token needs to log in to the
// gateway when none is configured.
const DefaultLoginAudience = "livygate"

func (m *Minter) loginAudience() string {
	if m.opts.LoginAudience != "" {
		return m.opts.LoginAudience
	}
	return DefaultLoginAudience
}

// VerifyLogin checks a token presented as a gateway login: as Verify, and
// its aud must hold the gateway's own audience. A token minted only for the
// downstream services is not a login.
func (m *Minter) VerifyLogin(token string) (*Verified, error) {
	return m.verify(token, []string{m.loginAudience()})
}

// Verify checks a token the way a careful consumer would: one of the
// supported algorithms, a kid naming a live key of that same algorithm, a
// good signature, and iss, aud and exp present and right.
func (m *Minter) Verify(token string) (*Verified, error) {
	return m.verify(token, m.opts.Audience)
}

func (m *Minter) verify(token string, audience []string) (*Verified, error) {
	var kid string
	parsed, err := jwt.Parse(token, func(t *jwt.Token) (any, error) {
		kid, _ = t.Header["kid"].(string)
		key, ok := m.keys.Verifying(kid)
		if !ok {
			return nil, fmt.Errorf("unknown key id %q", kid)
		}
		// The kid fixes the algorithm: a token cannot pick a weaker one.
		if t.Method.Alg() != key.Algorithm {
			return nil, fmt.Errorf("algorithm %s does not match key %s (%s)", t.Method.Alg(), kid, key.Algorithm)
		}
		return key.Public(), nil
	},
		jwt.WithValidMethods(Algorithms),
		jwt.WithIssuer(m.opts.Issuer),
		jwt.WithAudience(audience...),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(m.opts.Now),
	)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	claims := parsed.Claims.(jwt.MapClaims)
	sub, err := claims.GetSubject()
	if err != nil || sub == "" {
		return nil, fmt.Errorf("%w: no subject", ErrInvalid)
	}
	v := &Verified{User: sub, KeyID: kid}
	v.ID, _ = claims["jti"].(string)
	v.Groups = m.groupsOf(claims)
	return v, nil
}

// groupsOf reads the first configured group claim in either shape.
func (m *Minter) groupsOf(claims jwt.MapClaims) []string {
	if len(m.opts.GroupClaims) == 0 {
		return nil
	}
	switch g := claims[m.opts.GroupClaims[0].Name].(type) {
	case string:
		return strings.Fields(g)
	case []any:
		var out []string
		for _, x := range g {
			if s, ok := x.(string); ok && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
