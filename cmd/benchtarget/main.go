// Command benchtarget is `make bench`'s upstream side, one role per process:
//
//	benchtarget livy                 a fast in-memory fake Livy
//	benchtarget bare --upstream URL  a bare httputil.ReverseProxy to URL
//
// The bare proxy is the baseline the gateway is measured against: its own
// process, like the gateway, in front of the same fake Livy. It is not shipped.
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
	if len(os.Args) < 2 {
		log.Fatal("usage: benchtarget livy | benchtarget bare --upstream URL")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch os.Args[1] {
	case "livy":
		fake := livytest.New()
		fake.NoRecord = true
		defer fake.Close()
		fmt.Printf("LIVY_URL=%s\n", fake.URL())
	case "bare":
		fs := flag.NewFlagSet("bare", flag.ExitOnError)
		upstream := fs.String("upstream", "", "URL of the Livy to proxy to")
		_ = fs.Parse(os.Args[2:])
		u, err := url.Parse(*upstream)
		if err != nil || u.Host == "" {
			log.Fatalf("--upstream %q: not a URL", *upstream)
		}
		bare := &httputil.ReverseProxy{
			Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(u) },
			Transport: &http.Transport{MaxIdleConnsPerHost: 64},
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		srv := &http.Server{Handler: bare}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Shutdown(context.Background())
		fmt.Printf("BARE_URL=http://%s\n", ln.Addr())
	default:
		log.Fatalf("unknown role %q", os.Args[1])
	}
	_ = os.Stdout.Sync()
	<-ctx.Done()
}
