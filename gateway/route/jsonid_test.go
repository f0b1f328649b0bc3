package route

import "testing"

func TestWithIDRewritesTopLevelIDsOnly(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"id":0,"state":"idle"}`, `{"id":41,"state":"idle"}`},
		{`{"appId":"x","id": 3 ,"log":["{\"id\":3}"],"output":{"id":3}}`, `{"appId":"x","id": 41 ,"log":["{\"id\":3}"],"output":{"id":3}}`},
		{` { "name" : "a\"id\"" , "id" : 12 } `, ` { "name" : "a\"id\"" , "id" : 41 } `},
		{`{"statements":[{"id":1}],"total_statements":1}`, `{"statements":[{"id":1}],"total_statements":1}`},
	} {
		got, ok := withID([]byte(c.in), 41)
		if !ok || string(got) != c.want {
			t.Errorf("withID(%s) = %s %v, want %s", c.in, got, ok, c.want)
		}
	}
	for _, bad := range []string{``, `[]`, `{"id":`, `{"id":1`, `{"a":"x}`, `"id"`} {
		if _, ok := withID([]byte(bad), 1); ok {
			t.Errorf("withID(%q) accepted", bad)
		}
	}
}
