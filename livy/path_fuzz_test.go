package livy

import (
	"net/url"
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	cases := []struct {
		path string
		want Path
		ok   bool
	}{
		{"/sessions", Path{Resource: Sessions}, true},
		{"/sessions/", Path{Resource: Sessions}, true},
		{"/batches/12", Path{Resource: Batches, Item: "12"}, true},
		{"/sessions/etl/statements/3", Path{Sessions, "etl", "statements/3"}, true},
		{"/sessions/1/../2", Path{}, false},
		{"/sessions//1", Path{}, false},
		{"/sessions/./1", Path{}, false},
		{"/ui", Path{}, false},
		{"/version", Path{}, false},
		{"sessions/1", Path{}, false},
		{"/Sessions/1", Path{}, false},
	}
	for _, c := range cases {
		got, ok := ParsePath(c.path)
		if ok != c.ok || got != c.want {
			t.Errorf("ParsePath(%q) = %+v, %v; want %+v, %v", c.path, got, ok, c.want, c.ok)
		}
	}
}

// FuzzParsePath checks that whatever ParsePath accepts rebuilds into the very
// path it was given, with no segment that a server could resolve elsewhere.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"/sessions", "/sessions/1/log", "/batches/a b/state", "/sessions/1/../2", "//", "/sessions/%2e%2e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		p, ok := ParsePath(path)
		if !ok {
			return
		}
		if p.Resource != Sessions && p.Resource != Batches {
			t.Fatalf("resource %q", p.Resource)
		}
		rebuilt := "/" + string(p.Resource)
		if p.Item != "" {
			rebuilt += "/" + p.Item
		}
		if p.Rest != "" {
			rebuilt += "/" + p.Rest
		}
		if rebuilt != path && rebuilt+"/" != path {
			t.Fatalf("ParsePath(%q) rebuilds as %q", path, rebuilt)
		}
		for _, seg := range strings.Split(rebuilt[1:], "/") {
			if seg == "" || seg == "." || seg == ".." {
				t.Fatalf("ParsePath(%q) kept segment %q", path, seg)
			}
		}
		if p.Item == "" && p.Rest != "" {
			t.Fatalf("rest without item: %+v", p)
		}
	})
}

// FuzzEscapePath checks that an escaped path decodes back to itself with its
// segments intact, and leaves no ';' for Livy's router to cut at.
func FuzzEscapePath(f *testing.F) {
	for _, s := range []string{"/sessions/0;x", "/sessions/a b/log", "/sessions/%3B", "/x/y%2Fz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		esc := EscapePath(path)
		if strings.ContainsAny(esc, ";?#") {
			t.Fatalf("EscapePath(%q) = %q", path, esc)
		}
		if strings.Count(esc, "/") != strings.Count(path, "/") {
			t.Fatalf("EscapePath(%q) = %q changes the segments", path, esc)
		}
		back, err := url.PathUnescape(esc)
		if err != nil || back != path {
			t.Fatalf("EscapePath(%q) = %q decodes to %q", path, esc, back)
		}
	})
}
