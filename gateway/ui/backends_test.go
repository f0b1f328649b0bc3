package ui_test

import (
	"strings"
	"testing"

	"github.com/livygate/livygate/gateway/ui"
	"github.com/livygate/livygate/livy"
)

func TestSessionsPageNamesEachSessionsBackend(t *testing.T) {
	h := newHarness(t, func(o *ui.Options) {
		o.BackendOf = func(res livy.Resource, id int) string { return "emr-" + string(res[0]) }
	})
	h.livy.Add("sessions", map[string]any{"proxyUser": "alice"})
	h.livy.Add("batches", map[string]any{"proxyUser": "bob"})
	a := h.admin("GET", "/admin/ui/sessions", nil)
	for _, want := range []string{"<th>Backend</th>", "<td>emr-s</td>", "<td>emr-b</td>"} {
		if !strings.Contains(a.body, want) {
			t.Errorf("the Sessions page lacks %q", want)
		}
	}
	if plain := newHarness(t).admin("GET", "/admin/ui/sessions", nil); strings.Contains(plain.body, "<th>Backend</th>") {
		t.Error("one Livy shows a backend column")
	}
}
