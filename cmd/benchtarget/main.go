// Command benchtarget is `make bench`'s upstream side: a fast in-memory fake
// Livy, and in front of it a bare httputil.ReverseProxy, the baseline the
// gateway's throughput and latency are compared with. It is not shipped.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/livygate/livygate/livy/livytest"
)

func main() {
	bareAddr := flag.String("bare", "127.0.0.1:0", "address of the bare reverse proxy")
	flag.Parse()

	fake := livytest.New()
	fake.NoRecord = true
	defer fake.Close()
	upstream, err := url.Parse(fake.URL())
	if err != nil {
		log.Fatal(err)
	}
	bare := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(upstream) },
		Transport: &http.Transport{MaxIdleConnsPerHost: 64},
	}
	ln, err := net.Listen("tcp", *bareAddr)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: bare}
	go func() { _ = srv.Serve(ln) }()

	fmt.Printf("LIVY_URL=%s\nBARE_URL=http://%s\n", fake.URL(), ln.Addr())
	_ = os.Stdout.Sync()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	_ = srv.Shutdown(context.Background())
}
