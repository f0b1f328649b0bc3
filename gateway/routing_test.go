package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/livygate/livygate/gateway"
	"github.com/livygate/livygate/gateway/config"
	"github.com/livygate/livygate/gateway/logging/logtest"
	"github.com/livygate/livygate/gateway/route"
	"github.com/livygate/livygate/livy"
	"github.com/livygate/livygate/livy/livytest"
)

// TestSeveralBackendsAreReadyWhileOneAnswers: livy.backends builds the
// Router over the store's registry, and /readyz holds while one Livy is up.
func TestSeveralBackendsAreReadyWhileOneAnswers(t *testing.T) {
	a, b := livytest.New(), livytest.New()
	defer a.Close()
	defer b.Close()
	cfg := config.Default()
	cfg.Livy.Routes.Backends = []route.Backend{
		{Name: "emr-a", Config: livy.Config{URL: a.URL()}},
		{Name: "emr-b", Config: livy.Config{URL: b.URL()}},
	}
	withUnusedLDAP(&cfg)
	cfg.Store.Path = filepath.Join(t.TempDir(), "livygate.db")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	g, err := gateway.New(cfg, logtest.Discard())
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	ready := func() int {
		w := httptest.NewRecorder()
		g.Server.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
		return w.Code
	}
	if got := ready(); got != http.StatusOK {
		t.Errorf("both up: %d", got)
	}
	a.Close()
	if got := ready(); got != http.StatusOK {
		t.Errorf("emr-b up: %d", got)
	}
	b.Close()
	if got := ready(); got != http.StatusServiceUnavailable {
		t.Errorf("both down: %d", got)
	}
}
