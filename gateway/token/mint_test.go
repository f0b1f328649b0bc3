package token

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"github.com/livygate/livygate/gateway/clocktest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const testLifetime = 24 * time.Hour

func testOptions(c *clocktest.Clock) Options {
	return Options{
		Issuer:      "https://livygate.example",
		Audience:    []string{"s3", "minio"},
		Lifetime:    testLifetime,
		UserClaims:  []string{"preferred_username", "uid"},
		GroupClaims: []GroupClaim{{Name: "groups"}, {Name: "memberOf", String: true}},
		Now:         c.Now,
	}
}

// newTestMinter loads signing (and verify) keys into a fresh KeySet.
// newAlgMinter is a minter signing with alg's first test key, on a new
// test clock.
func newAlgMinter(t testing.TB, alg string) (*Minter, *clocktest.Clock) {
	t.Helper()
	c := newTestClock()
	key, _ := testKey(t, alg, 0)
	return newTestMinter(t, c, key), c
}

func newTestMinter(t testing.TB, c *clocktest.Clock, signing *Key, verify ...*Key) *Minter {
	t.Helper()
	ks := NewKeySet(testLifetime, c.Now)
	var vs []Loaded
	for _, v := range verify {
		vs = append(vs, Loaded{Key: v, Created: c.Now()})
	}
	if err := ks.Load(Loaded{Key: signing, Created: c.Now()}, vs); err != nil {
		t.Fatal(err)
	}
	return NewMinter(ks, testOptions(c))
}

// newKeySetMinter is a minter and its key set, loaded with signing alone,
// for tests that rotate or retire keys.
func newKeySetMinter(t testing.TB, c *clocktest.Clock, signing Loaded) (*KeySet, *Minter) {
	t.Helper()
	ks := NewKeySet(testLifetime, c.Now)
	if err := ks.Load(signing, nil); err != nil {
		t.Fatal(err)
	}
	return ks, NewMinter(ks, testOptions(c))
}

// decodeParts splits a JWT and decodes header and payload without the package.
func decodeParts(t *testing.T, tok string) (header, payload map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	for i, dst := range []*map[string]any{&header, &payload} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("part %d is not base64url: %v", i, err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatalf("part %d is not JSON: %v", i, err)
		}
	}
	return header, payload
}

func strs(v any) ([]string, bool) {
	a, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(a))
	for _, x := range a {
		s, ok := x.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func TestMintVerifyRoundTrip(t *testing.T) {
	for _, alg := range Algorithms {
		t.Run(alg, func(t *testing.T) {
			m, c := newAlgMinter(t, alg)
			key, _ := testKey(t, alg, 0) // the minter's
			groups := []string{"analysts", "data-eng"}

			c.Add(1500 * time.Millisecond) // iat is truncated to the second
			start := c.Now()
			a, err := m.Mint("alice", groups)
			if err != nil {
				t.Fatal(err)
			}
			b, err := m.Mint("alice", groups)
			if err != nil {
				t.Fatal(err)
			}
			if a.ID == "" || a.ID == b.ID || a.Token == b.Token {
				t.Errorf("two mints share jti %q / %q", a.ID, b.ID)
			}
			if a.KeyID != key.ID || a.User != "alice" {
				t.Errorf("Minted = %+v", a)
			}
			if !a.IssuedAt.Equal(start.Truncate(time.Second)) || !a.ExpiresAt.Equal(a.IssuedAt.Add(testLifetime)) {
				t.Errorf("issued %v expires %v, clock %v lifetime %v", a.IssuedAt, a.ExpiresAt, start, testLifetime)
			}

			h, p := decodeParts(t, a.Token)
			if h["alg"] != alg || h["kid"] != key.ID || h["typ"] != "JWT" {
				t.Errorf("header = %v", h)
			}
			if p["sub"] != "alice" || p["iss"] != "https://livygate.example" || p["jti"] != a.ID {
				t.Errorf("payload = %v", p)
			}
			if aud, ok := strs(p["aud"]); !ok || !slices.Equal(aud, []string{"s3", "minio"}) {
				t.Errorf("aud = %#v, want an array", p["aud"])
			}
			iat, _ := p["iat"].(float64)
			nbf, _ := p["nbf"].(float64)
			exp, _ := p["exp"].(float64)
			if int64(iat) != start.Unix() || int64(nbf) != start.Unix() || int64(exp) != start.Unix()+int64(testLifetime/time.Second) {
				t.Errorf("iat %v nbf %v exp %v, want %d, %d, +%v", iat, nbf, exp, start.Unix(), start.Unix(), testLifetime)
			}
			for _, claim := range []string{"preferred_username", "uid"} {
				if p[claim] != "alice" {
					t.Errorf("%s = %#v", claim, p[claim])
				}
			}
			if g, ok := strs(p["groups"]); !ok || !slices.Equal(g, groups) {
				t.Errorf("groups = %#v, want an array of %v", p["groups"], groups)
			}
			if p["memberOf"] != "analysts data-eng" {
				t.Errorf("memberOf = %#v, want one space-separated string", p["memberOf"])
			}

			c.Add(testLifetime - 2*time.Second)
			v, err := m.Verify(a.Token)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if v.User != "alice" || v.ID != a.ID || v.KeyID != key.ID || !slices.Equal(v.Groups, groups) {
				t.Errorf("Verified = %+v", v)
			}

			// A user with no groups gets empty group claims, not nulls.
			n, err := m.Mint("bob", nil)
			if err != nil {
				t.Fatal(err)
			}
			_, p = decodeParts(t, n.Token)
			if g, ok := strs(p["groups"]); !ok || len(g) != 0 || p["memberOf"] != "" {
				t.Errorf("no groups: groups %#v memberOf %#v", p["groups"], p["memberOf"])
			}
			if _, err := m.Mint("", groups); err == nil {
				t.Error("Mint with no user succeeded")
			}
		})
	}
}

func TestVerifyGroupsFromEitherForm(t *testing.T) {
	c := newTestClock()
	key, _ := testKey(t, "ES256", 0)
	groups := []string{"a", "b", "c"}
	for _, gc := range []GroupClaim{{Name: "groups"}, {Name: "memberOf", String: true}} {
		ks := NewKeySet(testLifetime, c.Now)
		if err := ks.Load(Loaded{Key: key}, nil); err != nil {
			t.Fatal(err)
		}
		opts := testOptions(c)
		opts.GroupClaims = []GroupClaim{gc}
		m := NewMinter(ks, opts)
		tok, err := m.Mint("alice", groups)
		if err != nil {
			t.Fatal(err)
		}
		_, p := decodeParts(t, tok.Token)
		if gc.String {
			if _, ok := p[gc.Name].(string); !ok {
				t.Errorf("%s: %#v is not a string", gc.Name, p[gc.Name])
			}
		} else if _, ok := strs(p[gc.Name]); !ok {
			t.Errorf("%s: %#v is not an array", gc.Name, p[gc.Name])
		}
		v, err := m.Verify(tok.Token)
		if err != nil {
			t.Fatalf("%s: %v", gc.Name, err)
		}
		if !slices.Equal(v.Groups, groups) {
			t.Errorf("%s (string %v): Verify groups %q, want %q", gc.Name, gc.String, v.Groups, groups)
		}
	}
}

func b64json(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestVerifyRefuses(t *testing.T) {
	c := newTestClock()
	rsKey, rsPEM := testKey(t, "RS256", 0)
	esKey, esPEM := testKey(t, "ES256", 0)
	_, otherRSPEM := testKey(t, "RS256", 1)
	rsSigner := signerOf(t, rsPEM)
	esSigner := signerOf(t, esPEM)
	m := newTestMinter(t, c, rsKey, esKey)
	opts := testOptions(c)

	// claims returns valid claims, changed by edit.
	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		now := c.Now().Unix()
		mc := jwt.MapClaims{
			"sub": "alice", "iss": opts.Issuer, "aud": opts.Audience,
			"iat": now, "nbf": now, "exp": now + 3600, "jti": "x",
		}
		if edit != nil {
			edit(mc)
		}
		return mc
	}
	sign := func(method jwt.SigningMethod, kid any, mc jwt.MapClaims, key any) string {
		t.Helper()
		tok := jwt.NewWithClaims(method, mc)
		if kid != nil {
			tok.Header["kid"] = kid
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatalf("signing an attack token: %v", err)
		}
		return s
	}

	// Controls: hand-made tokens that differ from the attacks only in the
	// attacked detail verify, so each refusal below is for that detail.
	for name, tok := range map[string]string{
		"RS256 control": sign(jwt.SigningMethodRS256, rsKey.ID, claims(nil), rsSigner),
		"ES256 control": sign(jwt.SigningMethodES256, esKey.ID, claims(nil), esSigner),
	} {
		if v, err := m.Verify(tok); err != nil || v.User != "alice" {
			t.Fatalf("%s: %+v %v", name, v, err)
		}
	}

	minted, err := m.Mint("alice", []string{"analysts"})
	if err != nil {
		t.Fatal(err)
	}
	mp := strings.Split(minted.Token, ".")
	_, payload := decodeParts(t, minted.Token)
	payload["sub"] = "root"
	tampered := mp[0] + "." + b64json(t, payload) + "." + mp[2]

	none := b64json(t, map[string]any{"alg": "none", "kid": rsKey.ID, "typ": "JWT"}) + "." + mp[1] + "."
	noneUpper := b64json(t, map[string]any{"alg": "None", "kid": rsKey.ID}) + "." + mp[1] + "."

	_, strangerES := testKey(t, "ES256", 1)

	tests := []struct {
		name  string
		token string
		at    time.Duration // clock offset at verification
	}{
		{"alg none", none, 0},
		{"alg None", noneUpper, 0},
		{"HS256 with the public PEM as secret", sign(jwt.SigningMethodHS256, rsKey.ID, claims(nil), rsKey.PublicPEM()), 0},
		{"RS512 with an RS256 key's kid", sign(jwt.SigningMethodRS512, rsKey.ID, claims(nil), rsSigner), 0},
		{"ES256 key's kid on an RS256 token", sign(jwt.SigningMethodRS256, esKey.ID, claims(nil), rsSigner), 0},
		{"unknown kid", sign(jwt.SigningMethodRS256, "no-such-kid", claims(nil), rsSigner), 0},
		{"missing kid", sign(jwt.SigningMethodRS256, nil, claims(nil), rsSigner), 0},
		{"kid not a string", sign(jwt.SigningMethodRS256, 7, claims(nil), rsSigner), 0},
		{"expired", minted.Token, testLifetime + time.Second},
		{"expired at exp exactly", minted.Token, testLifetime},
		{"not yet valid", sign(jwt.SigningMethodRS256, rsKey.ID, claims(func(mc jwt.MapClaims) {
			mc["nbf"] = c.Now().Add(10 * time.Minute).Unix()
		}), rsSigner), 0},
		{"issued in the future", sign(jwt.SigningMethodRS256, rsKey.ID, claims(func(mc jwt.MapClaims) {
			mc["iat"] = c.Now().Add(10 * time.Minute).Unix()
		}), rsSigner), 0},
		{"wrong audience", sign(jwt.SigningMethodRS256, rsKey.ID, claims(func(mc jwt.MapClaims) {
			mc["aud"] = []string{"someone-else"}
		}), rsSigner), 0},
		{"no audience", sign(jwt.SigningMethodRS256, rsKey.ID, claims(func(mc jwt.MapClaims) {
			delete(mc, "aud")
		}), rsSigner), 0},
		{"wrong issuer", sign(jwt.SigningMethodRS256, rsKey.ID, claims(func(mc jwt.MapClaims) {
			mc["iss"] = "https://evil.example"
		}), rsSigner), 0},
		{"no issuer", sign(jwt.SigningMethodRS256, rsKey.ID, claims(func(mc jwt.MapClaims) {
			delete(mc, "iss")
		}), rsSigner), 0},
		{"missing exp", sign(jwt.SigningMethodRS256, rsKey.ID, claims(func(mc jwt.MapClaims) {
			delete(mc, "exp")
		}), rsSigner), 0},
		{"no subject", sign(jwt.SigningMethodRS256, rsKey.ID, claims(func(mc jwt.MapClaims) {
			delete(mc, "sub")
		}), rsSigner), 0},
		{"tampered payload", tampered, 0},
		{"other RSA key with a colliding kid", sign(jwt.SigningMethodRS256, rsKey.ID, claims(nil), signerOf(t, otherRSPEM)), 0},
		{"other EC key with a colliding kid", sign(jwt.SigningMethodES256, esKey.ID, claims(nil), signerOf(t, strangerES)), 0},
		{"not a JWT", "eyJhbGciOiJSUzI1NiJ9.e30", 0},
		{"empty", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Each case sees its own clock offset.
			cc := clocktest.New(c.Now().Add(tc.at))
			mm := NewMinter(m.Keys(), testOptions(cc))
			v, err := mm.Verify(tc.token)
			if err == nil {
				t.Fatalf("Verify accepted it: %+v", v)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if v != nil {
				t.Errorf("Verify returned %+v with its error", v)
			}
		})
	}
	// The minted token itself is fine just before it expires.
	c.Add(testLifetime - time.Second)
	if _, err := m.Verify(minted.Token); err != nil {
		t.Errorf("minted token a second before exp: %v", err)
	}
}

// jwksKids parses the JWKS JSON and returns its kids.
func jwksKids(t *testing.T, b []byte) []string {
	t.Helper()
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("JWKS is not JSON: %v: %s", err, b)
	}
	if doc.Keys == nil {
		t.Fatalf("JWKS has no keys array: %s", b)
	}
	var kids []string
	for _, k := range doc.Keys {
		kid, _ := k["kid"].(string)
		kids = append(kids, kid)
	}
	slices.Sort(kids)
	return kids
}

func listKids(ks *KeySet) []string {
	var kids []string
	for _, k := range ks.List() {
		kids = append(kids, k.ID)
	}
	slices.Sort(kids)
	return kids
}

func sorted(s ...string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestRotation(t *testing.T) {
	c := newTestClock()
	start := c.Now()
	a, _ := testKey(t, "ES256", 0)
	b, _ := testKey(t, "EdDSA", 0)
	ks, m := newKeySetMinter(t, c, Loaded{Key: a, Created: start})
	jwks0 := ks.JWKS()
	if got := jwksKids(t, jwks0); !slices.Equal(got, []string{a.ID}) {
		t.Fatalf("JWKS before rotation: %v", got)
	}
	tA, err := m.Mint("alice", nil)
	if err != nil {
		t.Fatal(err)
	}

	c.Add(time.Hour)
	reload := c.Now()
	if err := ks.Load(Loaded{Key: b, Created: reload}, nil); err != nil {
		t.Fatal(err)
	}
	if ks.Signing() != b {
		t.Fatalf("signing key is %s, want B", ks.Signing().ID)
	}
	jwks1 := ks.JWKS()
	if string(jwks1) == string(jwks0) {
		t.Error("JWKS bytes did not change after Load")
	}
	if got, want := jwksKids(t, jwks1), sorted(a.ID, b.ID); !slices.Equal(got, want) {
		t.Errorf("JWKS after rotation: %v, want %v", got, want)
	}
	list := ks.List()
	if len(list) != 2 || list[0].ID != b.ID || !list[0].Signing || list[1].ID != a.ID || list[1].Signing {
		t.Fatalf("List after rotation: %+v", list)
	}
	if want := reload.Add(testLifetime); !list[1].NotAfter.Equal(want) {
		t.Errorf("A's NotAfter %v, want reload + lifetime %v", list[1].NotAfter, want)
	}
	if !list[0].NotAfter.IsZero() {
		t.Errorf("signing key has NotAfter %v", list[0].NotAfter)
	}

	tB, err := m.Mint("bob", nil)
	if err != nil {
		t.Fatal(err)
	}
	if tB.KeyID != b.ID {
		t.Errorf("after rotation, minted with %s, want B", tB.KeyID)
	}
	if v, err := m.Verify(tB.Token); err != nil || v.KeyID != b.ID {
		t.Errorf("tB: %+v %v", v, err)
	}

	c.Add(22 * time.Hour) // start + 23h: tA still within its lifetime
	if v, err := m.Verify(tA.Token); err != nil || v.KeyID != a.ID || v.User != "alice" {
		t.Errorf("tA at +23h: %+v %v", v, err)
	}
	if got, want := jwksKids(t, ks.JWKS()), sorted(a.ID, b.ID); !slices.Equal(got, want) {
		t.Errorf("JWKS at +23h: %v, want %v", got, want)
	}
	tB2, err := m.Mint("bob", nil)
	if err != nil {
		t.Fatal(err)
	}

	// A retires at reload + lifetime (start + 25h).
	c.Add(reload.Add(testLifetime).Sub(c.Now()) - time.Second)
	if _, ok := ks.Verifying(a.ID); !ok {
		t.Error("A gone a second before reload + lifetime")
	}
	if got := jwksKids(t, ks.JWKS()); !slices.Contains(got, a.ID) {
		t.Errorf("A left the JWKS a second early: %v", got)
	}
	c.Add(2 * time.Second)
	if _, ok := ks.Verifying(a.ID); ok {
		t.Error("A still verifies after reload + lifetime")
	}
	if got := jwksKids(t, ks.JWKS()); !slices.Equal(got, []string{b.ID}) {
		t.Errorf("JWKS after A retired: %v, want only B", got)
	}
	if got := listKids(ks); !slices.Equal(got, []string{b.ID}) {
		t.Errorf("List after A retired: %v, want only B", got)
	}
	// tA is past exp anyway; a token A signed with a long exp is refused
	// for the key alone.
	if _, err := m.Verify(tA.Token); !errors.Is(err, ErrInvalid) {
		t.Errorf("tA after A retired: %v", err)
	}
	if v, err := m.Verify(tB2.Token); err != nil || v.KeyID != b.ID {
		t.Errorf("tB2 after A retired: %+v %v", v, err)
	}
	if _, ok := ks.Verifying(b.ID); !ok {
		t.Error("the signing key does not verify")
	}
}

// A retired key refuses even a token whose own exp is still ahead.
func TestRetiredKeyRefusesLongToken(t *testing.T) {
	c := newTestClock()
	a, aPEM := testKey(t, "ES256", 0)
	b, _ := testKey(t, "ES256", 1)
	ks, m := newKeySetMinter(t, c, Loaded{Key: a})
	now := c.Now().Unix()
	long := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"sub": "alice", "iss": testOptions(c).Issuer, "aud": testOptions(c).Audience,
		"iat": now, "exp": now + int64(10*testLifetime/time.Second),
	})
	long.Header["kid"] = a.ID
	s, err := long.SignedString(signerOf(t, aPEM))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Verify(s); err != nil {
		t.Fatalf("control: %v", err)
	}
	if err := ks.Load(Loaded{Key: b}, nil); err != nil {
		t.Fatal(err)
	}
	c.Add(testLifetime - time.Second)
	if _, err := m.Verify(s); err != nil {
		t.Errorf("A before retirement: %v", err)
	}
	c.Add(time.Second)
	if _, err := m.Verify(s); !errors.Is(err, ErrInvalid) {
		t.Errorf("A after retirement: %v, want ErrInvalid", err)
	}
}

func TestVerifyOnlyKeys(t *testing.T) {
	c := newTestClock()
	start := c.Now()
	s, _ := testKey(t, "RS256", 0)
	v, vPEM := testKey(t, "ES256", 0)
	w, _ := testKey(t, "EdDSA", 0)
	ks := NewKeySet(testLifetime, c.Now)
	m := NewMinter(ks, testOptions(c))

	// A token v signed before this process started (a previous instance).
	now := start.Unix()
	old := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"sub": "alice", "iss": testOptions(c).Issuer, "aud": testOptions(c).Audience,
		"iat": now - 60, "exp": now + int64(testLifetime/time.Second) - 60,
	})
	old.Header["kid"] = v.ID
	oldTok, err := old.SignedString(signerOf(t, vPEM))
	if err != nil {
		t.Fatal(err)
	}

	c.Add(time.Minute) // the first Load comes a little after start
	if err := ks.Load(Loaded{Key: s}, []Loaded{{Key: v}, {Key: w}, {Key: s}}); err != nil {
		t.Fatal(err)
	}
	if got, want := listKids(ks), sorted(s.ID, v.ID, w.ID); !slices.Equal(got, want) {
		t.Fatalf("List: %v, want %v", got, want)
	}
	if got, want := jwksKids(t, ks.JWKS()), sorted(s.ID, v.ID, w.ID); !slices.Equal(got, want) {
		t.Fatalf("JWKS: %v, want %v (the signing key listed as verify too must appear once)", got, want)
	}
	for _, k := range ks.List() {
		if k.ID == v.ID && (k.Signing || !k.NotAfter.Equal(start.Add(testLifetime))) {
			t.Errorf("verify-only key: signing %v NotAfter %v, want start + lifetime %v", k.Signing, k.NotAfter, start.Add(testLifetime))
		}
	}
	if _, err := m.Verify(oldTok); err != nil {
		t.Errorf("a verify-only key's token: %v", err)
	}

	// Removing w from the configuration drops it at once.
	before := ks.JWKS()
	if err := ks.Load(Loaded{Key: s}, []Loaded{{Key: v}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := ks.Verifying(w.ID); ok {
		t.Error("a verify key removed from the configuration still verifies")
	}
	after := ks.JWKS()
	if string(after) == string(before) {
		t.Error("JWKS bytes did not change after Load dropped a key")
	}
	if got, want := jwksKids(t, after), sorted(s.ID, v.ID); !slices.Equal(got, want) {
		t.Errorf("JWKS after dropping w: %v, want %v", got, want)
	}

	// v lasts until start + lifetime, even across reloads, then goes.
	c.Add(start.Add(testLifetime).Sub(c.Now()) - time.Second)
	if err := ks.Load(Loaded{Key: s}, []Loaded{{Key: v}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := ks.Verifying(v.ID); !ok {
		t.Error("verify-only key gone before start + lifetime")
	}
	if got := jwksKids(t, ks.JWKS()); !slices.Contains(got, v.ID) {
		t.Errorf("JWKS lost v early: %v", got)
	}
	c.Add(time.Second)
	if _, ok := ks.Verifying(v.ID); ok {
		t.Error("verify-only key still verifies at start + lifetime")
	}
	if got := jwksKids(t, ks.JWKS()); !slices.Equal(got, []string{s.ID}) {
		t.Errorf("JWKS at start + lifetime: %v, want only the signing key", got)
	}
	if got := listKids(ks); !slices.Equal(got, []string{s.ID}) {
		t.Errorf("List at start + lifetime: %v", got)
	}
	// A reload does not bring it back.
	if err := ks.Load(Loaded{Key: s}, []Loaded{{Key: v}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := ks.Verifying(v.ID); ok {
		t.Error("a reload revived an expired verify-only key")
	}
	if err := ks.Load(Loaded{}, nil); err == nil {
		t.Error("Load with no signing key succeeded")
	}
}

// After a rotation, a reload with the configuration unchanged (SIGHUP for
// some other reason) must not cut short the old signing key's lifetime: the
// tokens it signed are still within theirs.
func TestRotationSurvivesReload(t *testing.T) {
	c := newTestClock()
	a, _ := testKey(t, "ES256", 0)
	b, _ := testKey(t, "ES256", 1)
	ks, m := newKeySetMinter(t, c, Loaded{Key: a})
	c.Add(time.Hour)
	tA, err := m.Mint("alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ks.Load(Loaded{Key: b}, nil); err != nil { // rotation
		t.Fatal(err)
	}
	retire := c.Now().Add(testLifetime)
	c.Add(time.Hour)
	if err := ks.Load(Loaded{Key: b}, nil); err != nil { // same configuration again
		t.Fatal(err)
	}
	if _, err := m.Verify(tA.Token); err != nil {
		t.Errorf("tA after a second reload: %v", err)
	}
	if got, want := jwksKids(t, ks.JWKS()), sorted(a.ID, b.ID); !slices.Equal(got, want) {
		t.Errorf("JWKS after a second reload: %v, want %v", got, want)
	}
	// A second rotation keeps both earlier keys.
	cKey, _ := testKey(t, "EdDSA", 0)
	if err := ks.Load(Loaded{Key: cKey}, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := listKids(ks), sorted(a.ID, b.ID, cKey.ID); !slices.Equal(got, want) {
		t.Errorf("List after a second rotation: %v, want %v", got, want)
	}
	c.Add(retire.Sub(c.Now()) - time.Second)
	if _, ok := ks.Verifying(a.ID); !ok {
		t.Error("A gone before the first reload + lifetime")
	}
	c.Add(time.Second)
	if _, ok := ks.Verifying(a.ID); ok {
		t.Error("the second reload extended A past the first reload + lifetime")
	}
	if _, ok := ks.Verifying(b.ID); !ok {
		t.Error("B, retired later, went with A")
	}
}
