package sparkconf

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/policy"
	"github.com/livygate/livygate/gateway/secrets"
	"github.com/livygate/livygate/gateway/sparkconf/delivery"
	"github.com/livygate/livygate/gateway/token"
)

type mapProvider map[string]string

func (m mapProvider) Lookup(_ context.Context, name string) (string, error) {
	if v, ok := m[name]; ok {
		return v, nil
	}
	return "", secrets.ErrNotFound
}
func (m mapProvider) All(context.Context) (map[string]string, error) { return m, nil }

func newMinter(t *testing.T) *token.Minter {
	t.Helper()
	k, _, err := token.Generate("EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	keys := token.NewKeySet(time.Hour, nil)
	if err := keys.Load(token.Loaded{Key: k}, nil); err != nil {
		t.Fatal(err)
	}
	return token.NewMinter(keys, token.Options{Issuer: "i", Audience: []string{"a"}, Lifetime: time.Hour,
		GroupClaims: []token.GroupClaim{{Name: "groups"}}})
}

func TestFinish(t *testing.T) {
	pol, err := policy.New(policy.Default())
	if err != nil {
		t.Fatal(err)
	}
	res, err := secrets.NewResolver(secrets.Options{
		Provider: mapProvider{"pw": "s3cret-value", "escape": "-DHADOOP_USER_NAME=hdfs"},
		Access:   map[string]secrets.Access{"pw": {Users: []string{"alice", "bob"}}, "escape": {Users: []string{"alice"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	minter := newMinter(t)
	alice := &auth.Identity{User: "alice", Groups: []string{"analysts"}}
	admin := &auth.Identity{User: "carol", Admin: true}

	var written map[string]string
	writer := func(_ context.Context, user string, tok []byte) (string, error) {
		if user == "broken" {
			return "", errors.New("NameNode unreachable")
		}
		written[user] = string(tok)
		return "/user/" + user + "/.livygate/token", nil
	}
	groupsOf := func(_ context.Context, user string) ([]string, error) {
		if user == "bob" {
			return []string{"etl"}, nil
		}
		return nil, errors.New("no such user")
	}
	f := &Finisher{Secrets: res, Check: pol.CheckConf, Minter: minter, Mode: delivery.HDFSFile,
		ConfKeys: []string{"spark.tok"}, WriteToken: writer, GroupsOf: groupsOf}

	cases := []struct {
		name       string
		caller     *auth.Identity
		runAs      string
		conf       map[string]string
		wantStatus int
		check      func(t *testing.T, out map[string]string)
	}{
		{name: "secret resolved, token file path delivered", caller: alice, runAs: "alice",
			conf: map[string]string{"spark.db": "secret@pw", "spark.tok": "caller's own value"},
			check: func(t *testing.T, out map[string]string) {
				if out["spark.db"] != "s3cret-value" || out["spark.tok"] != "/user/alice/.livygate/token" {
					t.Errorf("conf %v", out)
				}
				v, err := minter.Verify(written["alice"])
				if err != nil || v.User != "alice" || v.Groups[0] != "analysts" {
					t.Errorf("written token: %+v %v", v, err)
				}
			}},
		{name: "no conf still gets the token", caller: alice, runAs: "alice", conf: nil,
			check: func(t *testing.T, out map[string]string) {
				if len(out) != 1 || out["spark.tok"] == "" {
					t.Errorf("conf %v", out)
				}
			}},
		{name: "admin acting for bob: bob's token and groups", caller: admin, runAs: "bob",
			conf: map[string]string{"spark.db": "secret@pw"},
			check: func(t *testing.T, out map[string]string) {
				v, err := minter.Verify(written["bob"])
				if err != nil || v.User != "bob" || len(v.Groups) != 1 || v.Groups[0] != "etl" {
					t.Errorf("bob's token: %+v %v", v, err)
				}
			}},
		{name: "secret smuggling a refused option", caller: alice, runAs: "alice",
			conf: map[string]string{"spark.driver.extraJavaOptions": "secret@escape"}, wantStatus: http.StatusBadRequest},
		{name: "secret not granted", caller: &auth.Identity{User: "dave"}, runAs: "dave",
			conf: map[string]string{"spark.db": "secret@pw"}, wantStatus: http.StatusBadRequest},
		{name: "groups of the user acted for unknown", caller: admin, runAs: "nobody", wantStatus: http.StatusServiceUnavailable},
		{name: "token file cannot be written", caller: &auth.Identity{User: "broken"}, runAs: "broken", wantStatus: http.StatusServiceUnavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			written = map[string]string{}
			out, err := f.Finish(context.Background(), c.caller, c.runAs, c.conf)
			if c.wantStatus != 0 {
				var e *Error
				if !errors.As(err, &e) || e.Status != c.wantStatus {
					t.Fatalf("err %v, want status %d", err, c.wantStatus)
				}
				for _, secret := range []string{"s3cret-value", "HADOOP_USER_NAME=hdfs"} {
					if strings.Contains(e.Msg, secret) {
						t.Errorf("error %q reveals a secret value", e.Msg)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, out)
		})
	}
}

func TestFinishConfModeAndNothingToDo(t *testing.T) {
	minter := newMinter(t)
	f := &Finisher{Minter: minter, Mode: delivery.Conf, ConfKeys: []string{"a.token", "b.token"}}
	out, err := f.Finish(context.Background(), &auth.Identity{User: "alice"}, "alice", map[string]string{"x": "1"})
	if err != nil {
		t.Fatal(err)
	}
	if out["a.token"] == "" || out["a.token"] != out["b.token"] || out["x"] != "1" {
		t.Errorf("conf %v", out)
	}
	if _, err := minter.Verify(out["a.token"]); err != nil {
		t.Errorf("delivered token: %v", err)
	}
	// Without secrets or delivery the conf passes untouched.
	in := map[string]string{"x": "secret@pw"}
	if out, err := (&Finisher{}).Finish(context.Background(), &auth.Identity{User: "alice"}, "alice", in); err != nil || out["x"] != "secret@pw" {
		t.Errorf("idle finisher: %v %v", out, err)
	}
}
