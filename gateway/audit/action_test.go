package audit

import "testing"

func TestActionOf(t *testing.T) {
	cases := []struct{ method, path, want string }{
		{"POST", "/batches", "create batch"},
		{"POST", "/sessions", "create session"},
		{"DELETE", "/sessions/3", "delete session"},
		{"DELETE", "/batches/x", "delete batch"},
		{"GET", "/batches", "list batches"},
		{"GET", "/sessions/3/log", "read session"},
		{"POST", "/sessions/3/statements", "run statement"},
		{"POST", "/sessions/3/statements/1/cancel", "cancel statement"},
		{"POST", "/admin/ui/sessions/batches/4/kill", "admin kill batch"},
		{"POST", "/admin/ui/sync/run", "admin sync now"},
		{"POST", "/admin/ui/sync/dry-run", "admin sync dry-run"},
		{"POST", "/admin/ui/login", "admin login"},
		{"GET", "/admin/sync", "admin get"},
		{"GET", "/admin/ui/sessions/batches/4/kill", "admin get"},
		{"PUT", "/other", "put other"},
	}
	for _, c := range cases {
		if got := ActionOf(c.method, c.path); got != c.want {
			t.Errorf("%s %s: %q, want %q", c.method, c.path, got, c.want)
		}
	}
}

type recorder []Event

func (r *recorder) Record(e Event) { *r = append(*r, e) }

func TestMulti(t *testing.T) {
	var a, b recorder
	Multi{&a, &b}.Record(Event{User: "alice"})
	if len(a) != 1 || len(b) != 1 || b[0].User != "alice" {
		t.Errorf("fan-out: %v %v", a, b)
	}
}
