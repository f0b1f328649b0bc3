package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/token"
)

// TestMintsAndKeysReachTheAdminUI: every token minted (GET /token, or
// delivered into a batch's conf) is recorded in the store without its text,
// and the Keys page shows the minter's keys and those records.
func TestMintsAndKeysReachTheAdminUI(t *testing.T) {
	h := newTokenHarness(t, "conf")
	alice := h.bearer("alice", "analysts")
	status, body := h.do(alice, http.MethodGet, "/token", nil)
	var ans token.Answer
	if status != http.StatusOK || json.Unmarshal(body, &ans) != nil {
		t.Fatalf("GET /token: %d %s", status, body)
	}
	if st, b := h.do(alice, http.MethodPost, "/batches", map[string]any{"file": "hdfs:///job.py"}); st != http.StatusCreated {
		t.Fatalf("POST /batches: %d %s", st, b)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mints, err := h.gw.Store.Mints(context.Background(), 10)
		if err == nil && len(mints) == 2 {
			for _, m := range mints {
				if m.User != "alice" || m.Kid != ans.KeyID || m.JTI == "" || !m.ExpiresAt.After(m.IssuedAt) {
					t.Errorf("mint record: %+v", m)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("mint records: %+v, %v", mints, err)
		}
		time.Sleep(10 * time.Millisecond)
	}

	admin := h.bearer("carol", "livygate-admins")
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/admin/ui/keys", nil)
	req.Header.Set("Authorization", admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	html := string(raw)
	if resp.StatusCode != http.StatusOK || !strings.Contains(html, "<td>"+ans.KeyID+"</td><td>ES256</td>") ||
		!strings.Contains(html, "signing") || strings.Count(html, "<td>alice</td>") != 2 || !strings.Contains(html, ".pem\">download PEM") {
		t.Errorf("keys page: %d\n%s", resp.StatusCode, html)
	}
	if strings.Contains(html, ans.Token) || strings.Contains(html, strings.TrimPrefix(alice, "Bearer ")) {
		t.Error("a token reached the admin UI")
	}
}
