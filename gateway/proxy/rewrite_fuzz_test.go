package proxy

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/policy"
	"github.com/livygate/livygate/gateway/scope"
	"github.com/livygate/livygate/livy"
)

// FuzzRewriteCreate checks the create-body rewrite for any input: it never
// panics, and whatever it lets through runs as the caller, carries every
// other field unchanged, adds nothing else and passes the conf policy.
func FuzzRewriteCreate(f *testing.F) {
	for _, s := range []string{
		`{"kind":"pyspark"}`,
		`{"kind":"pyspark","proxyUser":"mallory","conf":{"spark.x":"1"}}`,
		`{"proxyUser":"alice","conf":{"spark.executorEnv.HADOOP_USER_NAME":"bob"}}`,
		`{"proxyUser":null,"conf":null}`,
		`{"conf":{"a":1}}`,
		`[1,2]`, `null`, `{"proxyUser":"alice","proxyUser":"bob"}`,
		`{"proxyuser":"bob","ProxyUser":"bob"}`,
		`{"name":"0;x"}`, `{"name":"etl-1"}`, `{"name":"bob~etl"}`, `{"name":"٥"}`, `{"name":7}`,
	} {
		f.Add(s)
	}
	pol, err := policy.New(policy.Default())
	if err != nil {
		f.Fatal(err)
	}
	p := &Proxy{opts: Options{Policy: pol}}
	sc := &scope.Scope{Identity: &auth.Identity{User: "alice"}}
	f.Fuzz(func(t *testing.T, body string) {
		plan, status, err := p.rewriteCreate(context.Background(), livy.Sessions, []byte(body), sc)
		out, runAs := plan.body, plan.runAs
		if err != nil {
			if status < 400 || status > 499 {
				t.Fatalf("refusal with status %d", status)
			}
			return
		}
		if runAs != "alice" {
			t.Fatalf("runs as %q", runAs)
		}
		var in, got map[string]json.RawMessage
		if json.Unmarshal([]byte(body), &in) != nil || json.Unmarshal(out, &got) != nil {
			t.Fatalf("accepted a body that is not an object: %q → %q", body, out)
		}
		var pu string
		if json.Unmarshal(got["proxyUser"], &pu) != nil || pu != "alice" {
			t.Fatalf("proxyUser sent to Livy: %s", got["proxyUser"])
		}
		var name string
		if json.Unmarshal(got["name"], &name) != nil || name != plan.name || !strings.HasPrefix(name, "alice~") {
			t.Fatalf("name sent to Livy: %s (plan %q)", got["name"], plan.name)
		}
		if n := strings.TrimPrefix(name, "alice~"); !validName(n) && !strings.HasPrefix(n, "~") {
			t.Fatalf("name %q is neither the user's valid name nor generated", name)
		}
		for k, v := range in {
			if k == "proxyUser" || k == "name" {
				continue
			}
			var a, b any
			_ = json.Unmarshal(v, &a)
			_ = json.Unmarshal(got[k], &b)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("field %q changed: %s → %s", k, v, got[k])
			}
		}
		_, hadPU := in["proxyUser"]
		_, hadName := in["name"]
		if len(got) != len(in)+map[bool]int{true: 0, false: 1}[hadPU]+map[bool]int{true: 0, false: 1}[hadName] {
			t.Fatalf("keys added or lost: %s → %s", body, out)
		}
		var conf map[string]string
		if c, ok := got["conf"]; ok && string(c) != "null" {
			if json.Unmarshal(c, &conf) != nil {
				t.Fatalf("conf let through is not string→string: %s", c)
			}
			if err := pol.CheckConf(conf); err != nil {
				t.Fatalf("conf let through breaks the policy: %v", err)
			}
		}
	})
}
