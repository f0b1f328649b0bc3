package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

// fakeJWT is a TokenVerifier that knows some tokens and counts its calls.
type fakeJWT struct {
	tokens map[string]Identity
	calls  []string
}

func (f *fakeJWT) verify(tok string) (string, []string, error) {
	f.calls = append(f.calls, tok)
	id, ok := f.tokens[tok]
	if !ok {
		return "", nil, errors.New("signature mismatch")
	}
	return id.User, id.Groups, nil
}

func TestJWT(t *testing.T) {
	const (
		aliceTok = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln"
		rootTok  = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJyb290In0.c2ln"
		badTok   = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJldmUifQ.Zm9yZ2Vk"
	)
	f := &fakeJWT{tokens: map[string]Identity{
		aliceTok: {User: "alice", Groups: []string{"analysts"}},
		rootTok:  {User: "root", Groups: []string{"analysts", "gate-admins"}},
	}}
	j := NewJWT("gate-admins", f.verify)
	do := func(header string) (*Identity, error) {
		r := httptest.NewRequest("GET", "/sessions", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		return j.Authenticate(context.Background(), r)
	}

	t.Run("not for this authenticator", func(t *testing.T) {
		for _, header := range []string{
			"",
			"Basic YWxpY2U6cHc=",
			"token " + aliceTok,   // JupyterHub's scheme, even with a JWT
			"Bearer hub-0123abcd", // a Hub token sent as Bearer
			"Bearer",
			"Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9", // two parts
			"Bearer a.b.c",
			"Bearer eyJ.a.b.c", // four parts
			"Bearer" + aliceTok,
		} {
			id, err := do(header)
			if !errors.Is(err, ErrNoCredentials) || id != nil {
				t.Errorf("%q: %+v %v, want ErrNoCredentials", header, id, err)
			}
		}
		if len(f.calls) != 0 {
			t.Errorf("the verifier was asked about %q", f.calls)
		}
	})

	t.Run("valid", func(t *testing.T) {
		for _, header := range []string{"Bearer " + aliceTok, "bearer " + aliceTok, "BEARER  " + aliceTok + " "} {
			f.calls = nil
			id, err := do(header)
			if err != nil {
				t.Fatalf("%q: %v", header, err)
			}
			if id.User != "alice" || id.Method != "jwt" || id.Admin || !slices.Equal(id.Groups, []string{"analysts"}) {
				t.Errorf("%q: %+v", header, id)
			}
			if !slices.Equal(f.calls, []string{aliceTok}) {
				t.Errorf("%q: the verifier was given %q", header, f.calls)
			}
		}
		id, err := do("Bearer " + rootTok)
		if err != nil || id.User != "root" || !id.Admin || id.Method != "jwt" {
			t.Errorf("admin: %+v %v", id, err)
		}
	})

	t.Run("no admin group configured", func(t *testing.T) {
		id, err := NewJWT("", f.verify).Authenticate(context.Background(), func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", "Bearer "+rootTok)
			return r
		}())
		if err != nil || id.Admin {
			t.Errorf("%+v %v, want no admin without an admin group", id, err)
		}
	})

	t.Run("bad token", func(t *testing.T) {
		id, err := do("Bearer " + badTok)
		if !errors.Is(err, ErrBadCredentials) || id != nil {
			t.Errorf("%+v %v, want ErrBadCredentials", id, err)
		}
		if errors.Is(err, ErrNoCredentials) {
			t.Error("a refused JWT lets the chain move on")
		}
	})
}
