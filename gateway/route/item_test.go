package route

import (
	"net/http"
	"testing"

	"github.com/livygate/livygate/livy"
)

func TestRelocateNamesTheGatewayIDWithoutTheBackend(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"/sessions/0", "/sessions/41"},
		{"/sessions/0/statements/3", "/sessions/41/statements/3"},
		{"http://10.0.0.11:8998/sessions/0/statements/3", "/sessions/41/statements/3"},
		{"/sessions/01", "/sessions/01"}, // another item: left as it is
		{"/batches/0", "/batches/0"},
	} {
		h := http.Header{"Location": {c.in}}
		relocate(h, livy.Sessions, 0, 41)
		if got := h.Get("Location"); got != c.want {
			t.Errorf("relocate(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}
