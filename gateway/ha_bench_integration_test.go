//go:build integration

package gateway_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway"
	"github.com/livygate/livygate/gateway/config"
	"github.com/livygate/livygate/gateway/ldap/ldaptest"
	"github.com/livygate/livygate/gateway/secrets"
	"github.com/livygate/livygate/gateway/store"
	"github.com/livygate/livygate/gateway/store/pgtest"
	"github.com/livygate/livygate/livy/livytest"
)

// BenchmarkHAStore measures, in one run, what the store costs a request
// through the whole gateway (built by gateway.New from a configuration, a
// cached LDAP login, a fake Livy in process): a poll (GET /sessions/{id})
// and a create (POST /sessions), straight to the fake Livy ("direct", the
// baseline), through the gateway on SQLite and through the gateway on a
// real PostgreSQL on loopback (durable defaults). Sequential ns/op is the
// latency; the Parallel poll reports req/s. Against PostgreSQL it also
// counts, with pg_stat_statements, the statements the server ran during
// the timed loop (pgstmts/op): a poll must cost none. `make bench` (part
// ha) prints the ratios.
func BenchmarkHAStore(b *testing.B) {
	dir := ldaptest.Start(b)
	pg := pgtest.Start(b, pgtest.Durable(), pgtest.StatStatements())
	fake := livytest.New()
	b.Cleanup(fake.Close)
	pw := dir.Passwords["alice"]

	type target struct {
		name string
		url  string
		stmt func() int64 // statements the store's database has run; nil: not counted
	}
	gatewayOn := func(driver string) target {
		cfg := config.Default()
		cfg.Livy.URL = fake.URL()
		cfg.Auth.LDAP = ldapLogin(dir)
		t := target{name: driver}
		switch driver {
		case "sqlite":
			cfg.Store.Path = filepath.Join(b.TempDir(), "livygate.db")
		case "postgres":
			dsn := pg.NewDatabase(b)
			env := "LIVYGATE_BENCH_STORE_URL_" + strings.ToUpper(driver)
			b.Setenv(env, dsn)
			cfg.Store.Driver = store.DriverPostgres
			cfg.Store.URL = secrets.Ref{Env: env}
			db, err := sql.Open("pgx", dsn)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			if _, err := db.Exec(`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
				b.Fatal(err)
			}
			t.stmt = func() int64 {
				var n int64
				// Every statement run in this database but these counting ones.
				if err := db.QueryRow(`SELECT COALESCE(SUM(calls), 0) FROM pg_stat_statements
					WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
					AND query NOT LIKE '%pg_stat_statements%'`).Scan(&n); err != nil {
					b.Fatal(err)
				}
				return n
			}
		}
		if err := cfg.Validate(); err != nil {
			b.Fatal(err)
		}
		log := logrus.New()
		log.SetOutput(io.Discard)
		g, err := gateway.New(cfg, log)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		srv := httptest.NewUnstartedServer(nil)
		done := make(chan error, 1)
		go func() { done <- g.Serve(ctx, srv.Listener) }()
		b.Cleanup(func() { cancel(); <-done; g.Close() })
		t.url = "http://" + srv.Listener.Addr().String()
		return t
	}
	targets := []target{{name: "direct", url: fake.URL()}, gatewayOn("sqlite"), gatewayOn("postgres")}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	do := func(b *testing.B, method, url, body string, want int) []byte {
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Requested-By", "bench")
		req.SetBasicAuth("alice", pw)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			b.Fatalf("%s %s: %d, want %d", method, url, resp.StatusCode, want)
		}
		return out
	}
	// One session of alice's to poll per target, made through it.
	poll := map[string]string{}
	created := func(b *testing.B, body []byte) int {
		var s struct{ ID int }
		if err := json.Unmarshal(body, &s); err != nil {
			b.Fatal(err)
		}
		return s.ID
	}
	for _, t := range targets {
		id := created(b, do(b, "POST", t.url+"/sessions", `{"kind":"pyspark","proxyUser":"alice"}`, 201))
		poll[t.name] = fmt.Sprintf("%s/sessions/%d", t.url, id)
		do(b, "GET", poll[t.name], "", 200) // warm the credential cache
	}
	counted := func(b *testing.B, t target, loop func()) {
		var before int64
		if t.stmt != nil {
			before = t.stmt()
		}
		b.ResetTimer()
		loop()
		b.StopTimer()
		if t.stmt != nil {
			b.ReportMetric(float64(t.stmt()-before)/float64(b.N), "pgstmts/op")
		}
	}
	for _, t := range targets {
		b.Run("Poll/"+t.name, func(b *testing.B) {
			counted(b, t, func() {
				for i := 0; i < b.N; i++ {
					do(b, "GET", poll[t.name], "", 200)
				}
			})
		})
	}
	for _, t := range targets {
		b.Run("PollParallel/"+t.name, func(b *testing.B) {
			b.SetParallelism(4)
			counted(b, t, func() {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						do(b, "GET", poll[t.name], "", 200)
					}
				})
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
	for _, t := range targets {
		b.Run("Create/"+t.name, func(b *testing.B) {
			counted(b, t, func() {
				for i := 0; i < b.N; i++ {
					// Removed at once (in process, as Livy dropping it), so
					// every create sees the same few sessions.
					fake.Remove("sessions", created(b, do(b, "POST", t.url+"/sessions", `{"kind":"pyspark"}`, 201)))
				}
			})
		})
	}
}
