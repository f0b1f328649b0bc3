package proxy

import (
	"net/url"
	"strings"
	"testing"

	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/livy"
)

// FuzzItemNames checks the name rules for any input: a valid name has
// nothing a router reads, is never an id to Livy, round-trips through its
// Livy name, and whatever item the gateway resolves reaches Livy as one
// segment that means the same to Livy.
func FuzzItemNames(f *testing.F) {
	for _, s := range []string{"etl", "0;x", "7", "007", "٥", "a b", "bob~etl", "~~x", "a%3Bb", "+1", "x/y"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, item string, admin bool) {
		if validName(item) {
			if strings.ContainsAny(item, ";/%?#~ \\") {
				t.Fatalf("valid name %q holds a routing character", item)
			}
			if _, isID := livy.ParseID(item); isID {
				t.Fatalf("valid name %q is an id to Livy", item)
			}
			if shown, ok := shownName(livyName("alice", item), "alice", "alice"); !ok || shown == nil || *shown != item {
				t.Fatalf("name %q shows as %v", item, shown)
			}
			body := `{"id":1,"name":"alice~` + item + `","log":["name:\"alice~` + item + `\""]}`
			want := `{"id":1,"name":"` + item + `","log":["name:\"alice~` + item + `\""]}`
			if got := string(renameInBody([]byte(body), livyName("alice", item), "alice", "alice")); got != want {
				t.Fatalf("renamed %s as %s", body, got)
			}
			if got := string(renameInBody([]byte(body), livyName("alice", item), "alice", "carol")); got != body {
				t.Fatalf("renamed for an admin: %s", got)
			}
		}
		id := &auth.Identity{User: "alice", Admin: admin}
		target, ok := (&Proxy{}).resolveItem(id, item)
		if !ok {
			return
		}
		esc := url.PathEscape(target)
		if strings.ContainsAny(esc, ";/?#") || livy.RouteCut(target) {
			t.Fatalf("item %q resolves to %q, escaped %q", item, target, esc)
		}
		if back, err := url.PathUnescape(esc); err != nil || back != target {
			t.Fatalf("%q does not round-trip: %q", target, back)
		}
		if !admin {
			if _, isID := livy.ParseID(item); !isID && target != "alice~"+item {
				t.Fatalf("alice's item %q resolves outside her names: %q", item, target)
			}
		}
	})
}
