package policy

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzRedactJSON checks that no sensitive conf value survives redaction and
// that what comes out is still JSON.
func FuzzRedactJSON(f *testing.F) {
	f.Add(`{"conf":{"spark.x.password":"hunter2","a":"b"},"log":["x.token=abc"]}`, "hunter2")
	f.Add(`{"sessions":[{"conf":{"k.secret":"v"}}]}`, "v")
	f.Add(`[1,"s3cret"]`, "s3cret")
	f.Add(`"plain"`, "")
	p, err := New(Default())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body, secret string) {
		out, err := p.RedactJSON([]byte(body), []string{secret})
		if err != nil {
			return
		}
		var doc any
		if json.Unmarshal(out, &doc) != nil {
			t.Fatalf("redacted body is not JSON: %q → %q", body, out)
		}
		if len(secret) >= minEchoLen && !strings.Contains(Mask, secret) && containsString(doc, secret) {
			t.Fatalf("secret %q survives in %s", secret, out)
		}
		checkConfMasked(t, p, doc)
	})
}

func containsString(v any, s string) bool {
	switch t := v.(type) {
	case map[string]any:
		for _, c := range t {
			if containsString(c, s) {
				return true
			}
		}
	case []any:
		for _, c := range t {
			if containsString(c, s) {
				return true
			}
		}
	case string:
		return strings.Contains(t, s)
	}
	return false
}

func checkConfMasked(t *testing.T, p *Policy, v any) {
	switch x := v.(type) {
	case map[string]any:
		if conf, ok := x["conf"].(map[string]any); ok {
			for k, val := range conf {
				if p.IsSensitive(k) && val != Mask {
					t.Fatalf("conf %q = %v not masked", k, val)
				}
			}
		}
		for _, c := range x {
			checkConfMasked(t, p, c)
		}
	case []any:
		for _, c := range x {
			checkConfMasked(t, p, c)
		}
	}
}
