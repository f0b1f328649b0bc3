package gateway

import (
	"context"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Any OIDC consumer can verify a minted token from the issuer alone: go-oidc
// discovers the JWKS through /.well-known/openid-configuration on the
// running gateway and checks the signature, issuer, audience and expiry.
func TestMintedTokensVerifyWithOIDCDiscovery(t *testing.T) {
	h := newTokenHarness(t, "none")
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, h.srv.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	var meta struct {
		Claims []string `json:"claims_supported"`
	}
	if err := provider.Claims(&meta); err != nil || len(meta.Claims) == 0 {
		t.Errorf("claims_supported: %v %v", meta.Claims, err)
	}
	m, err := h.gw.minter.Mint("alice", []string{"analysts"})
	if err != nil {
		t.Fatal(err)
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: "s3-proxy", SupportedSigningAlgs: []string{"ES256"}})
	tok, err := verifier.Verify(ctx, m.Token)
	if err != nil {
		t.Fatalf("go-oidc refuses a minted token: %v", err)
	}
	var claims struct {
		Groups []string `json:"groups"`
	}
	if err := tok.Claims(&claims); err != nil || tok.Subject != "alice" || len(claims.Groups) != 1 || claims.Groups[0] != "analysts" {
		t.Errorf("subject %q, groups %v, %v", tok.Subject, claims.Groups, err)
	}
	// A token for another audience, or a tampered one, is refused.
	if _, err := provider.Verifier(&oidc.Config{ClientID: "someone-else"}).Verify(ctx, m.Token); err == nil {
		t.Error("a token for s3-proxy verified for another audience")
	}
	if _, err := verifier.Verify(ctx, m.Token[:len(m.Token)-4]+"AAAA"); err == nil {
		t.Error("a tampered token verified")
	}
}
