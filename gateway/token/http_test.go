package token

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/clocktest"

	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/scope"
)

// Where the server's routing table mounts the downloads.
const (
	PEMPath     = "/.well-known/livygate/keys.pem"
	PEMByKIDDir = "/.well-known/livygate/keys/"
)

// published routes the test's paths as the server's table does; the table
// itself, and its 404 for other /.well-known/ paths, is tested in server.
func published(ks *KeySet) http.Handler {
	p := Published{Keys: ks}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch file, byKID := strings.CutPrefix(r.URL.Path, PEMByKIDDir); {
		case r.URL.Path == JWKSPath:
			p.JWKS(w, r)
		case r.URL.Path == PEMPath:
			p.AllPEM(w, r)
		case byKID:
			r.SetPathValue("file", file)
			p.PEMByKID(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

func TestPublished(t *testing.T) {
	c := newTestClock()
	s, _ := testKey(t, "ES256", 0)
	v, _ := testKey(t, "EdDSA", 0)
	ks := NewKeySet(testLifetime, c.Now)
	if err := ks.Load(Loaded{Key: s}, []Loaded{{Key: v}}); err != nil {
		t.Fatal(err)
	}
	h := published(ks)
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}

	t.Run("jwks", func(t *testing.T) {
		rec := get(JWKSPath)
		expectJSON(t, rec, "public, max-age=300")
		var doc struct {
			Keys []JWK `json:"keys"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		byKid := map[string]JWK{}
		for _, k := range doc.Keys {
			byKid[k.Kid] = k
		}
		if len(doc.Keys) != 2 || byKid[s.ID] != s.JWK() || byKid[v.ID] != v.JWK() {
			t.Errorf("JWKS keys = %+v, want the JWKs of %s and %s", doc.Keys, s.ID, v.ID)
		}
	})

	pemKeys := func(t *testing.T, b []byte) []string {
		t.Helper()
		var kids []string
		for {
			var block *pem.Block
			block, b = pem.Decode(b)
			if block == nil {
				break
			}
			if block.Type != "PUBLIC KEY" {
				t.Errorf("block type %q", block.Type)
			}
			pub, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			j, err := publicJWK(pub)
			if err != nil {
				t.Fatal(err)
			}
			kids = append(kids, thumbprint(j))
		}
		if strings.TrimSpace(string(b)) != "" {
			t.Errorf("trailing bytes after the PEM blocks: %q", b)
		}
		slices.Sort(kids)
		return kids
	}

	t.Run("all pem", func(t *testing.T) {
		rec := get(PEMPath)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if got, want := pemKeys(t, rec.Body.Bytes()), sorted(s.ID, v.ID); !slices.Equal(got, want) {
			t.Errorf("keys.pem holds %v, want %v", got, want)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "public, max-age=300" {
			t.Errorf("Cache-Control %q", cc)
		}
	})

	for _, k := range []*Key{s, v} {
		t.Run("pem "+k.Algorithm, func(t *testing.T) {
			rec := get(PEMByKIDDir + k.ID + ".pem")
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if got := pemKeys(t, rec.Body.Bytes()); !slices.Equal(got, []string{k.ID}) {
				t.Errorf("%s.pem holds %v", k.ID, got)
			}
			if rec.Body.String() != string(k.PublicPEM()) {
				t.Errorf("%s.pem differs from PublicPEM", k.ID)
			}
		})
	}

	other, _ := testKey(t, "ES256", 1)
	for _, path := range []string{
		PEMByKIDDir + other.ID + ".pem", // a real key, never loaded
		PEMByKIDDir + "nope.pem",
		PEMByKIDDir + s.ID, // no .pem suffix
		PEMByKIDDir + s.ID + ".der",
	} {
		t.Run("404 "+path, func(t *testing.T) {
			rec := get(path)
			if rec.Code != http.StatusNotFound {
				t.Fatalf("status %d, want 404: %s", rec.Code, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var body struct {
				Msg string `json:"msg"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Msg == "" {
				t.Errorf("body %q: %v", rec.Body, err)
			}
			if strings.Contains(rec.Body.String(), "BEGIN") {
				t.Errorf("404 carries a key: %s", rec.Body)
			}
		})
	}

	t.Run("retired key leaves the downloads", func(t *testing.T) {
		c2 := newTestClock()
		ks2 := NewKeySet(testLifetime, c2.Now)
		if err := ks2.Load(Loaded{Key: s}, nil); err != nil {
			t.Fatal(err)
		}
		h2 := published(ks2)
		if err := ks2.Load(Loaded{Key: v}, nil); err != nil {
			t.Fatal(err)
		}
		c2.Add(testLifetime)
		rec := httptest.NewRecorder()
		h2.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, PEMByKIDDir+s.ID+".pem", nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("retired key's PEM: status %d", rec.Code)
		}
		rec = httptest.NewRecorder()
		h2.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, PEMPath, nil))
		if got := pemKeys(t, rec.Body.Bytes()); !slices.Equal(got, []string{v.ID}) {
			t.Errorf("keys.pem after retirement holds %v", got)
		}
	})
}

type issuerFixture struct {
	is      *Issuer
	minter  *Minter
	minted  []Minted
	lookups []string
	clock   *clocktest.Clock
}

func newIssuer(t *testing.T) *issuerFixture {
	t.Helper()
	f := &issuerFixture{clock: newTestClock()}
	key, _ := testKey(t, "EdDSA", 0)
	f.minter = newTestMinter(t, f.clock, key)
	f.is = &Issuer{
		Minter: f.minter,
		GroupsOf: func(_ context.Context, user string) ([]string, error) {
			f.lookups = append(f.lookups, user)
			switch user {
			case "bob":
				return []string{"bobs", "engineers"}, nil
			case "ghost":
				return nil, fmt.Errorf("lookup: %w", auth.ErrBadCredentials)
			}
			return nil, errors.New("directory down")
		},
		Minted: func(m Minted) { f.minted = append(f.minted, m) },
	}
	return f
}

func (f *issuerFixture) do(method, target string, id *auth.Identity) (*httptest.ResponseRecorder, *scope.Scope) {
	sc := &scope.Scope{Identity: id, RequestID: "req-1"}
	r := httptest.NewRequest(method, target, nil)
	r = r.WithContext(scope.With(r.Context(), sc))
	rec := httptest.NewRecorder()
	f.is.ServeHTTP(rec, r)
	return rec, sc
}

var (
	alice = &auth.Identity{User: "alice", Groups: []string{"analysts"}, Method: "ldap"}
	admin = &auth.Identity{User: "root", Groups: []string{"admins"}, Admin: true, Method: "ldap"}
)

// expectJSON fails unless rec is a 200 JSON answer with that Cache-Control.
func expectJSON(t *testing.T, rec *httptest.ResponseRecorder, cacheControl string) {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != cacheControl {
		t.Errorf("Cache-Control %q, want %q", cc, cacheControl)
	}
}

func decodeAnswer(t *testing.T, rec *httptest.ResponseRecorder) Answer {
	t.Helper()
	expectJSON(t, rec, "no-store")
	var raw map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"token", "token_type", "user", "kid", "expires_at", "issued_at"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("answer lacks %q: %s", k, rec.Body)
		}
	}
	var a Answer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestIssuerOwnToken(t *testing.T) {
	f := newIssuer(t)
	rec, sc := f.do(http.MethodGet, "/token", alice)
	a := decodeAnswer(t, rec)
	if a.TokenType != "Bearer" || a.User != "alice" || a.KeyID != f.minter.Keys().Signing().ID || a.Token == "" {
		t.Errorf("answer = %+v", a)
	}
	if !a.IssuedAt.Equal(f.clock.Now()) || !a.ExpiresAt.Equal(f.clock.Now().Add(testLifetime)) {
		t.Errorf("issued %v expires %v, clock %v", a.IssuedAt, a.ExpiresAt, f.clock.Now())
	}
	if a.IssuedAt.Location() != time.UTC {
		t.Errorf("issued_at not in UTC: %v", a.IssuedAt)
	}
	v, err := f.minter.Verify(a.Token)
	if err != nil {
		t.Fatal(err)
	}
	if v.User != "alice" || !slices.Equal(v.Groups, []string{"analysts"}) {
		t.Errorf("token says %+v", v)
	}
	if !sc.Audit || sc.Outcome != "" || sc.Subject != "alice" || sc.ProxyUser != "" {
		t.Errorf("scope = %+v", sc)
	}
	if !strings.Contains(sc.Note, v.ID) || !strings.Contains(sc.Note, v.KeyID) || sc.Reason != "" {
		t.Errorf("scope.Note %q lacks jti %q or kid %q (Reason %q)", sc.Note, v.ID, v.KeyID, sc.Reason)
	}
	for _, part := range strings.Split(a.Token, ".") {
		if strings.Contains(sc.Reason, part) {
			t.Errorf("scope.Reason carries the token: %q", sc.Reason)
		}
	}
	if len(f.minted) != 1 {
		t.Fatalf("Minted called %d times", len(f.minted))
	}
	m := f.minted[0]
	if m.ID != v.ID || m.KeyID != v.KeyID || m.User != "alice" || !m.ExpiresAt.Equal(a.ExpiresAt) {
		t.Errorf("Minted record = {ID:%s KeyID:%s User:%s ExpiresAt:%v}", m.ID, m.KeyID, m.User, m.ExpiresAt)
	}
	note := MintNote(m)
	if !strings.Contains(note, m.ID) || !strings.Contains(note, m.KeyID) || strings.Contains(note, m.Token) {
		t.Errorf("MintNote = %q", note)
	}
	if len(f.lookups) != 0 {
		t.Errorf("own token looked up groups: %v", f.lookups)
	}

	// Asking for oneself by name is the same as not asking.
	rec, _ = f.do(http.MethodGet, "/token?user=alice", alice)
	if a := decodeAnswer(t, rec); a.User != "alice" {
		t.Errorf("?user=alice gave %q", a.User)
	}
}

func TestIssuerRefusals(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		target     string
		id         *auth.Identity
		forOthers  bool
		wantStatus int
		wantUser   string
		wantGroups []string
	}{
		{"non-admin for another", "GET", "/token?user=bob", alice, true, http.StatusForbidden, "", nil},
		{"admin, not allowed", "GET", "/token?user=bob", admin, false, http.StatusForbidden, "", nil},
		{"admin, allowed", "GET", "/token?user=bob", admin, true, http.StatusOK, "bob", []string{"bobs", "engineers"}},
		{"admin, lookup fails", "GET", "/token?user=carol", admin, true, http.StatusServiceUnavailable, "", nil},
		{"admin, no such user", "GET", "/token?user=ghost", admin, true, http.StatusNotFound, "", nil},
		{"admin, bad name", "GET", "/token?user=" + "a%0Ab", admin, true, http.StatusBadRequest, "", nil},
		{"POST", "POST", "/token", alice, true, http.StatusMethodNotAllowed, "", nil},
		{"DELETE", "DELETE", "/token", admin, true, http.StatusMethodNotAllowed, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newIssuer(t)
			f.is.AdminsMayMintForOthers = tc.forOthers
			rec, sc := f.do(tc.method, tc.target, tc.id)
			if !sc.Audit {
				t.Error("scope.Audit not set")
			}
			if tc.wantStatus == http.StatusOK {
				a := decodeAnswer(t, rec)
				v, err := f.minter.Verify(a.Token)
				if err != nil {
					t.Fatal(err)
				}
				if a.User != tc.wantUser || v.User != tc.wantUser || !slices.Equal(v.Groups, tc.wantGroups) {
					t.Errorf("answer user %q, token %+v; want %q %v", a.User, v, tc.wantUser, tc.wantGroups)
				}
				if sc.Subject != tc.wantUser || len(f.minted) != 1 || f.minted[0].User != tc.wantUser {
					t.Errorf("scope %+v, minted %d", sc, len(f.minted))
				}
				return
			}
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.wantStatus, rec.Body)
			}
			var body struct {
				Msg string `json:"msg"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Msg == "" {
				t.Errorf("body %q: %v", rec.Body, err)
			}
			if len(f.minted) != 0 {
				t.Errorf("Minted called %d times on a refusal", len(f.minted))
			}
			if strings.Contains(rec.Body.String(), "eyJ") {
				t.Errorf("refusal carries a token: %s", rec.Body)
			}
			if sc.Outcome == "" && tc.wantStatus != http.StatusMethodNotAllowed {
				t.Errorf("scope outcome not set: %+v", sc)
			}
			if tc.wantStatus == http.StatusMethodNotAllowed && rec.Header().Get("Allow") != http.MethodGet {
				t.Errorf("Allow %q", rec.Header().Get("Allow"))
			}
			if tc.wantStatus == http.StatusForbidden && len(f.lookups) != 0 {
				t.Errorf("a refused request looked up %v", f.lookups)
			}
		})
	}
}

func TestIssuerNoGroupsOf(t *testing.T) {
	f := newIssuer(t)
	f.is.AdminsMayMintForOthers = true
	f.is.GroupsOf = nil
	rec, _ := f.do(http.MethodGet, "/token?user=bob", admin)
	a := decodeAnswer(t, rec)
	v, err := f.minter.Verify(a.Token)
	if err != nil {
		t.Fatal(err)
	}
	if v.User != "bob" || len(v.Groups) != 0 {
		t.Errorf("token for bob without GroupsOf: %+v (must not carry the admin's groups)", v)
	}
}
