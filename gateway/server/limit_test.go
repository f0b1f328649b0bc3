package server

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/auth"
)

// Issue 11, item 5: slow bodies (headers, then 1 of 100 promised bytes) are
// cut by the read timeout, one client cannot hold more than its share of
// connections, and another client is served meanwhile.
func TestSlowBodiesAreBoundedAndOthersServed(t *testing.T) {
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	})
	l := Default()
	l.ReadTimeout = 400 * time.Millisecond
	l.MaxConnections = 50
	l.MaxConnectionsPerClient = 5
	addr := serve(t, newTestServer(fixedAuth{err: auth.ErrBadCredentials}, echo, l))

	var slow []net.Conn
	for i := 0; i < 20; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = io.WriteString(c, "POST /sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nAuthorization: Basic YTpi\r\n\r\n{")
		slow = append(slow, c)
	}
	// Another client (127.0.0.2 is loopback too) gets through meanwhile.
	other := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext}, Timeout: 2 * time.Second}
	resp, err := other.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("another client is not served: %v", err)
	}
	resp.Body.Close()
	// Every slow connection ends: over the cap at once, the others by the
	// read timeout.
	deadline := time.Now().Add(3 * time.Second)
	for i, c := range slow {
		_ = c.SetReadDeadline(deadline)
		_, err := io.Copy(io.Discard, c)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("slow connection %d still open after 3s", i)
		}
	}
}
