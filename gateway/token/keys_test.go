package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"github.com/livygate/livygate/gateway/clocktest"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"
)

// --- helpers shared by the package's tests ---

// newTestClock is the tests' settable clock at a fixed start.
func newTestClock() *clocktest.Clock {
	return clocktest.New(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
}

type generated struct {
	key *Key
	pem []byte
}

var (
	genMu    sync.Mutex
	genCache = map[string]generated{}
)

// testKey returns the n-th generated key for alg (RSA generation is slow, so
// the keys are shared by all tests) and its PKCS #8 PEM.
func testKey(tb testing.TB, alg string, n int) (*Key, []byte) {
	tb.Helper()
	genMu.Lock()
	defer genMu.Unlock()
	name := fmt.Sprintf("%s/%d", alg, n)
	if g, ok := genCache[name]; ok {
		return g.key, g.pem
	}
	k, p, err := Generate(alg)
	if err != nil {
		tb.Fatalf("Generate(%s): %v", alg, err)
	}
	genCache[name] = generated{k, p}
	return k, p
}

// signerOf parses a PKCS #8 PEM independently of the package.
func signerOf(tb testing.TB, pemBytes []byte) crypto.Signer {
	tb.Helper()
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != "PRIVATE KEY" {
		tb.Fatalf("Generate's PEM is not a PRIVATE KEY block: %q", pemBytes)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		tb.Fatalf("Generate's PEM does not parse as PKCS #8: %v", err)
	}
	return k.(crypto.Signer)
}

// --- tests ---

func TestThumbprintRFC7638(t *testing.T) {
	// RFC 7638 §3.1.
	const (
		n    = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
		e    = "AQAB"
		want = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	)
	nb, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := base64.RawURLEncoding.DecodeString(e)
	if err != nil {
		t.Fatal(err)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(new(big.Int).SetBytes(eb).Int64())}
	jwk, err := publicJWK(pub)
	if err != nil {
		t.Fatal(err)
	}
	if jwk.N != n || jwk.E != e || jwk.Kty != "RSA" {
		t.Errorf("publicJWK = %+v, want the RFC's n and e", jwk)
	}
	if got := thumbprint(jwk); got != want {
		t.Errorf("thumbprint = %s, want %s", got, want)
	}
	// The published JWK's extra members must not change the kid.
	full := JWK{Kty: "RSA", N: n, E: e}
	if got := thumbprint(full); got != want {
		t.Errorf("thumbprint of a bare JWK = %s, want %s", got, want)
	}
}

func TestGenerateParseRoundTrip(t *testing.T) {
	tests := []struct {
		alg, kty, crv string
		pub           func(crypto.PublicKey) bool
	}{
		{"RS256", "RSA", "", func(p crypto.PublicKey) bool { _, ok := p.(*rsa.PublicKey); return ok }},
		{"RS512", "RSA", "", func(p crypto.PublicKey) bool { _, ok := p.(*rsa.PublicKey); return ok }},
		{"ES256", "EC", "P-256", func(p crypto.PublicKey) bool {
			k, ok := p.(*ecdsa.PublicKey)
			return ok && k.Curve == elliptic.P256()
		}},
		{"EdDSA", "OKP", "Ed25519", func(p crypto.PublicKey) bool { _, ok := p.(ed25519.PublicKey); return ok }},
	}
	if len(tests) != len(Algorithms) {
		t.Fatalf("the test covers %d algorithms, the package supports %v", len(tests), Algorithms)
	}
	for _, tc := range tests {
		t.Run(tc.alg, func(t *testing.T) {
			k, p := testKey(t, tc.alg, 0)
			if k.Algorithm != tc.alg || k.ID == "" {
				t.Fatalf("Generate: alg %q id %q", k.Algorithm, k.ID)
			}
			if !tc.pub(k.Public()) {
				t.Fatalf("public key type %T", k.Public())
			}
			back, err := ParsePrivateKey(p, tc.alg)
			if err != nil {
				t.Fatalf("ParsePrivateKey(Generate's PEM): %v", err)
			}
			if back.ID != k.ID || back.Algorithm != tc.alg {
				t.Errorf("parsed key id %q alg %q, generated %q %q", back.ID, back.Algorithm, k.ID, tc.alg)
			}
			// The kid is the RFC 7638 thumbprint of the public key.
			jwkOnly, _ := publicJWK(k.Public())
			if k.ID != thumbprint(jwkOnly) {
				t.Errorf("kid %q is not the thumbprint %q", k.ID, thumbprint(jwkOnly))
			}
			// A different key of the same algorithm has a different kid.
			other, _ := testKey(t, tc.alg, 1)
			if other.ID == k.ID {
				t.Errorf("two generated keys share kid %q", k.ID)
			}

			block, rest := pem.Decode(k.PublicPEM())
			if block == nil || block.Type != "PUBLIC KEY" || len(strings.TrimSpace(string(rest))) != 0 {
				t.Fatalf("PublicPEM = %q", k.PublicPEM())
			}
			pub, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				t.Fatalf("PublicPEM does not parse: %v", err)
			}
			if !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Public()) {
				t.Errorf("PublicPEM holds another key")
			}
			if !signerOf(t, p).Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
				t.Errorf("the private PEM and PublicPEM are not one pair")
			}

			j := k.JWK()
			if j.Kty != tc.kty || j.Crv != tc.crv || j.Alg != tc.alg || j.Use != "sig" || j.Kid != k.ID {
				t.Errorf("JWK = %+v, want kty %q crv %q alg %q use sig kid %q", j, tc.kty, tc.crv, tc.alg, k.ID)
			}
			checkJWKMaterial(t, j, pub)
		})
	}
}

// checkJWKMaterial decodes the JWK's key material and compares it with pub.
func checkJWKMaterial(t *testing.T, j JWK, pub crypto.PublicKey) {
	t.Helper()
	dec := func(s string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("JWK member %q is not base64url: %v", s, err)
		}
		return b
	}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if new(big.Int).SetBytes(dec(j.N)).Cmp(p.N) != 0 || new(big.Int).SetBytes(dec(j.E)).Int64() != int64(p.E) {
			t.Errorf("JWK n/e do not match the key")
		}
		if j.X != "" || j.Y != "" {
			t.Errorf("RSA JWK has x/y: %+v", j)
		}
	case *ecdsa.PublicKey:
		x, y := dec(j.X), dec(j.Y)
		if len(x) != 32 || len(y) != 32 {
			t.Errorf("EC JWK x/y are %d/%d bytes, want 32", len(x), len(y))
		}
		got, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil || !got.Equal(p) {
			t.Errorf("JWK x/y do not match the key")
		}
	case ed25519.PublicKey:
		if !ed25519.PublicKey(dec(j.X)).Equal(p) {
			t.Errorf("JWK x does not match the key")
		}
	default:
		t.Fatalf("unexpected key type %T", pub)
	}
}

func TestParseLegacyPEM(t *testing.T) {
	rk, rpem := testKey(t, "RS256", 0)
	rsaKey := signerOf(t, rpem).(*rsa.PrivateKey)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})

	ek, epem := testKey(t, "ES256", 0)
	sec1DER, err := x509.MarshalECPrivateKey(signerOf(t, epem).(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	sec1 := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1DER})

	for _, tc := range []struct {
		name, alg string
		pem       []byte
		want      string
	}{
		{"PKCS1 RS256", "RS256", pkcs1, rk.ID},
		{"PKCS1 RS512", "RS512", pkcs1, rk.ID},
		{"SEC1 ES256", "ES256", sec1, ek.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParsePrivateKey(tc.pem, tc.alg)
			if err != nil {
				t.Fatalf("ParsePrivateKey: %v", err)
			}
			if k.ID != tc.want || k.Algorithm != tc.alg {
				t.Errorf("got kid %q alg %q, want %q %q", k.ID, k.Algorithm, tc.want, tc.alg)
			}
		})
	}
}

func TestKeyRefusals(t *testing.T) {
	_, rpem := testKey(t, "RS256", 0)
	_, epem := testKey(t, "ES256", 0)
	_, edpem := testKey(t, "EdDSA", 0)

	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384DER, _ := x509.MarshalPKCS8PrivateKey(p384)
	p384PEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p384DER})
	p384SEC1, _ := x509.MarshalECPrivateKey(p384)
	p384SEC1PEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: p384SEC1})

	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallDER, _ := x509.MarshalPKCS8PrivateKey(small)
	smallPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: smallDER})

	rk, _ := testKey(t, "RS256", 0)
	pubPEM := rk.PublicPEM()
	badDER := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("not DER at all")})

	for _, tc := range []struct {
		name, alg string
		pem       []byte
	}{
		{"RSA key for ES256", "ES256", rpem},
		{"RSA key for EdDSA", "EdDSA", rpem},
		{"RSA key for HS256", "HS256", rpem},
		{"EC key for RS256", "RS256", epem},
		{"EC key for EdDSA", "EdDSA", epem},
		{"Ed25519 key for ES256", "ES256", edpem},
		{"Ed25519 key for RS256", "RS256", edpem},
		{"P-384 key for ES256", "ES256", p384PEM},
		{"P-384 SEC1 key for ES256", "ES256", p384SEC1PEM},
		{"1024-bit RSA for RS256", "RS256", smallPEM},
		{"1024-bit RSA for RS512", "RS512", smallPEM},
		{"garbage", "RS256", []byte("this is not PEM")},
		{"empty", "RS256", nil},
		{"PUBLIC KEY block", "RS256", pubPEM},
		{"PRIVATE KEY with bad DER", "RS256", badDER},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if k, err := ParsePrivateKey(tc.pem, tc.alg); err == nil {
				t.Errorf("ParsePrivateKey accepted it: kid %q alg %q", k.ID, k.Algorithm)
			}
		})
	}
	// Sanity: the same PEMs are accepted for their own algorithm, so the
	// refusals above are about the algorithm, not the PEM.
	for alg, p := range map[string][]byte{"RS256": rpem, "ES256": epem, "EdDSA": edpem} {
		if _, err := ParsePrivateKey(p, alg); err != nil {
			t.Errorf("ParsePrivateKey(%s) of its own key: %v", alg, err)
		}
	}

	for _, alg := range []string{"HS256", "none", "", "rs256", "ES384", "PS256"} {
		if k, p, err := Generate(alg); err == nil {
			t.Errorf("Generate(%q) = %v, %d PEM bytes; want an error", alg, k, len(p))
		}
	}
}
