// Package token mints livygate's per-user JWTs, verifies them, and publishes
// the public keys that prove them (JWKS), across key rotations.
package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"

	"github.com/golang-jwt/jwt/v5"
)

// Algorithms are the signing algorithms livygate supports, by JWS name.
var Algorithms = []string{"RS256", "RS512", "ES256", "EdDSA"}

// minRSABits refuses RSA keys too short to trust.
const minRSABits = 2048

// Key is one signing key pair. Its ID is the RFC 7638 thumbprint of the
// public key, so the same key always gets the same kid.
type Key struct {
	ID        string
	Algorithm string
	private   crypto.Signer
	method    jwt.SigningMethod
}

// Public is the key's public half.
func (k *Key) Public() crypto.PublicKey { return k.private.Public() }

// ParsePrivateKey reads a PEM private key (PKCS #8, or PKCS #1 / SEC 1) that
// signs with alg, and refuses a key of the wrong type or size for it.
func ParsePrivateKey(pemBytes []byte, alg string) (*Key, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	var parsed any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		parsed, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		parsed, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing private key: %w", err)
	}
	signer, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", parsed)
	}
	return newKey(signer, alg)
}

func newKey(signer crypto.Signer, alg string) (*Key, error) {
	k := &Key{Algorithm: alg, private: signer}
	switch pub := signer.Public().(type) {
	case *rsa.PublicKey:
		if alg != "RS256" && alg != "RS512" {
			return nil, fmt.Errorf("an RSA key signs RS256 or RS512, not %q", alg)
		}
		if pub.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("RSA key has %d bits; at least %d are needed", pub.N.BitLen(), minRSABits)
		}
	case *ecdsa.PublicKey:
		if alg != "ES256" || pub.Curve != elliptic.P256() {
			return nil, fmt.Errorf("an EC key must be P-256 for ES256 (algorithm %q)", alg)
		}
	case ed25519.PublicKey:
		if alg != "EdDSA" {
			return nil, fmt.Errorf("an Ed25519 key signs EdDSA, not %q", alg)
		}
	default:
		return nil, fmt.Errorf("unsupported key type %T", pub)
	}
	k.method = jwt.GetSigningMethod(alg)
	if k.method == nil {
		return nil, fmt.Errorf("unknown algorithm %q", alg)
	}
	jwk, err := publicJWK(k.Public())
	if err != nil {
		return nil, err
	}
	k.ID = thumbprint(jwk)
	return k, nil
}

// Generate makes a new key for alg and returns it with its PKCS #8 PEM.
func Generate(alg string) (*Key, []byte, error) {
	var signer crypto.Signer
	var err error
	switch alg {
	case "RS256", "RS512":
		signer, err = rsa.GenerateKey(rand.Reader, 3072)
	case "ES256":
		signer, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, signer, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, nil, fmt.Errorf("unknown algorithm %q: use one of RS256, RS512, ES256, EdDSA", alg)
	}
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(signer)
	if err != nil {
		return nil, nil, err
	}
	k, err := newKey(signer, alg)
	if err != nil {
		return nil, nil, err
	}
	return k, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// PublicPEM is the public key as a PEM "PUBLIC KEY" block.
func (k *Key) PublicPEM() []byte {
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		panic(err) // the key types newKey accepts all marshal
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// JWK is a public key in RFC 7517 form. Members are in the order RFC 7638
// hashes them; the optional ones are empty for the thumbprint.
type JWK struct {
	Crv string `json:"crv,omitempty"`
	E   string `json:"e,omitempty"`
	Kty string `json:"kty"`
	N   string `json:"n,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`

	Alg string `json:"alg,omitempty"`
	Kid string `json:"kid,omitempty"`
	Use string `json:"use,omitempty"`
}

// JWK is the key's public half for a JWKS.
func (k *Key) JWK() JWK {
	j, _ := publicJWK(k.Public())
	j.Alg, j.Kid, j.Use = k.Algorithm, k.ID, "sig"
	return j
}

func publicJWK(pub crypto.PublicKey) (JWK, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	switch p := pub.(type) {
	case *rsa.PublicKey:
		return JWK{Kty: "RSA", N: b64(p.N.Bytes()), E: b64(big.NewInt(int64(p.E)).Bytes())}, nil
	case *ecdsa.PublicKey:
		e, err := p.ECDH()
		if err != nil {
			return JWK{}, err
		}
		raw := e.Bytes() // 0x04 || X || Y, each 32 bytes for P-256
		return JWK{Kty: "EC", Crv: "P-256", X: b64(raw[1:33]), Y: b64(raw[33:])}, nil
	case ed25519.PublicKey:
		return JWK{Kty: "OKP", Crv: "Ed25519", X: b64(p)}, nil
	}
	return JWK{}, fmt.Errorf("unsupported key type %T", pub)
}

// thumbprint is RFC 7638: SHA-256 over the required members, sorted, with no
// white space. JWK's field order and omitempty give exactly that when the
// optional members are empty.
func thumbprint(j JWK) string {
	b, _ := json.Marshal(j)
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
