package token

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/respond"
	"github.com/livygate/livygate/gateway/scope"
)

// JWKSCacheSeconds is how long consumers may cache the JWKS. It is far
// shorter than a token's lifetime, so a rotated-in key is fetched long before
// tokens it signed are common.
const JWKSCacheSeconds = 300

// Published serves the public keys to anyone: the JWKS, the PEM downloads
// (all keys, or one by kid) and the OpenID provider metadata that lets any
// OIDC consumer find the JWKS from the issuer. The server's routing table
// says where each is mounted.
type Published struct {
	Keys *KeySet
	// Issuer is the tokens' iss, the gateway's public base URL: discovery
	// lives at Issuer + OpenIDConfigPath and names Issuer + JWKSPath.
	Issuer string
	// Claims are the claims minted tokens carry.
	Claims []string
}

// Paths of the published documents, as the routing table mounts them.
const (
	JWKSPath         = "/.well-known/jwks.json"
	OpenIDConfigPath = "/.well-known/openid-configuration"
)

// OpenIDConfiguration serves the OpenID provider metadata (OpenID Connect
// Discovery 1.0) of the tokens: issuer, jwks_uri, the algorithms the
// published keys sign with, and the claims.
func (p Published) OpenIDConfiguration(w http.ResponseWriter, _ *http.Request) {
	var algs []string
	for _, k := range p.Keys.List() {
		if !slices.Contains(algs, k.Algorithm) {
			algs = append(algs, k.Algorithm)
		}
	}
	w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", JWKSCacheSeconds))
	respond.JSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.Issuer,
		"jwks_uri":                              strings.TrimRight(p.Issuer, "/") + JWKSPath,
		"id_token_signing_alg_values_supported": algs,
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public"},
		"claims_supported":                      p.Claims,
	})
}

// JWKS serves the JSON Web Key Set.
func (p Published) JWKS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", JWKSCacheSeconds))
	_, _ = w.Write(p.Keys.JWKS())
}

// AllPEM serves every published key, PEM blocks one after another.
func (p Published) AllPEM(w http.ResponseWriter, _ *http.Request) {
	var all bytes.Buffer
	for _, k := range p.Keys.List() {
		all.Write(k.PublicPEM)
	}
	writePEM(w, all.Bytes())
}

// PEMByKID serves one key; the path value "file" is "<kid>.pem".
func (p Published) PEMByKID(w http.ResponseWriter, r *http.Request) {
	kid, ok := strings.CutSuffix(r.PathValue("file"), ".pem")
	for _, k := range p.Keys.List() {
		if ok && k.ID == kid {
			writePEM(w, k.PublicPEM)
			return
		}
	}
	respond.Error(w, r, http.StatusNotFound, "no published key has that id")
}

func writePEM(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", JWKSCacheSeconds))
	_, _ = w.Write(b)
}

// Issuer is what the /token endpoint needs: mint a token, look up another
// user's groups (when admins may mint for others), and record each mint.
type Issuer struct {
	Minter *Minter
	// AdminsMayMintForOthers allows GET /token?user=NAME to admins.
	AdminsMayMintForOthers bool
	// GroupsOf finds another user's groups; nil gives such tokens none.
	GroupsOf func(ctx context.Context, user string) ([]string, error)
	// Minted, when set, is told of every mint (never the token's text).
	Minted func(Minted)
}

// MintNote says what an audit event may say of a mint: never the token.
func MintNote(m Minted) string {
	return fmt.Sprintf("token minted for %s: jti %s, kid %s, expires %s", m.User, m.ID, m.KeyID, m.ExpiresAt.UTC().Format(time.RFC3339))
}

// Answer is GET /token's answer.
type Answer struct {
	Token     string    `json:"token"`
	TokenType string    `json:"token_type"`
	User      string    `json:"user"`
	KeyID     string    `json:"kid"`
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// ServeHTTP serves GET /token for the authenticated caller.
func (is *Issuer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sc := scope.From(r.Context())
	sc.Audit = true
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		respond.Error(w, r, http.StatusMethodNotAllowed, "use GET /token")
		return
	}
	id := sc.Identity
	asked := r.URL.Query().Get("user")
	user, err := auth.ActingFor(id, asked, is.AdminsMayMintForOthers)
	if err != nil {
		sc.Refuse("token for another user")
		respond.Error(w, r, http.StatusForbidden, fmt.Sprintf("a token for %q is not allowed: tokens name the authenticated user %q", asked, id.User))
		return
	}
	if user != id.User {
		if err := auth.CheckUsername(user); err != nil {
			sc.Refuse("invalid user name")
			respond.Error(w, r, http.StatusBadRequest, "user: "+err.Error())
			return
		}
	}
	groups, err := auth.GroupsActingFor(r.Context(), id, user, is.GroupsOf)
	if err != nil {
		status, msg := http.StatusServiceUnavailable, "looking up the user's groups failed; try again later"
		if errors.Is(err, auth.ErrBadCredentials) {
			status, msg = http.StatusNotFound, fmt.Sprintf("no such user %q", user)
		}
		sc.Fail(msg)
		respond.Error(w, r, status, msg)
		return
	}
	m, err := is.Minter.Mint(user, groups)
	if err != nil {
		sc.Fail("minting a token failed")
		respond.Error(w, r, http.StatusInternalServerError, "minting a token failed")
		return
	}
	sc.Subject = user
	sc.Note = MintNote(m)
	if is.Minted != nil {
		is.Minted(m)
	}
	w.Header().Set("Cache-Control", "no-store")
	respond.JSON(w, http.StatusOK, Answer{
		Token: m.Token, TokenType: "Bearer", User: m.User, KeyID: m.KeyID,
		IssuedAt: m.IssuedAt.UTC(), ExpiresAt: m.ExpiresAt.UTC(),
	})
}
