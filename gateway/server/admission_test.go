package server

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/auth"
)

// blockingLivy stands in for the proxy: each request waits for release and
// the most handled at once is recorded.
type blockingLivy struct {
	release       chan struct{}
	entered       chan struct{}
	active, most  atomic.Int32
	mu            sync.Mutex
	handledByPath map[string]int
}

func newBlockingLivy() *blockingLivy {
	return &blockingLivy{release: make(chan struct{}), entered: make(chan struct{}, 100), handledByPath: map[string]int{}}
}

func (b *blockingLivy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := b.active.Add(1)
	defer b.active.Add(-1)
	for m := b.most.Load(); n > m && !b.most.CompareAndSwap(m, n); m = b.most.Load() {
	}
	b.mu.Lock()
	b.handledByPath[r.URL.Path]++
	b.mu.Unlock()
	b.entered <- struct{}{}
	<-b.release
	_, _ = io.WriteString(w, r.URL.Path)
}

func admissionServer(t *testing.T, max int, h http.Handler) string {
	t.Helper()
	l := Default()
	l.MaxActiveRequests = max
	return serve(t, newTestServer(fixedAuth{id: &auth.Identity{User: "alice"}}, h, l))
}

func waitEntered(t *testing.T, b *blockingLivy) {
	t.Helper()
	select {
	case <-b.entered:
	case <-time.After(3 * time.Second):
		t.Fatal("no request reached the handler")
	}
}

// listen.max_active_requests: no more than that many requests are handled at
// once, and the others are handled, in turn, when slots free up.
func TestMaxActiveRequestsBoundsTheRequestsHandledAtOnce(t *testing.T) {
	b := newBlockingLivy()
	addr := admissionServer(t, 2, b)
	results := make(chan error, 6)
	for i := 0; i < 6; i++ {
		go func() {
			resp, err := http.Get("http://" + addr + "/sessions")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != 200 {
					err = io.ErrUnexpectedEOF
				}
			}
			results <- err
		}()
	}
	waitEntered(t, b)
	waitEntered(t, b)
	select {
	case <-b.entered:
		t.Fatal("a third request was handled while two held the slots")
	case <-time.After(300 * time.Millisecond):
	}
	close(b.release)
	for i := 0; i < 6; i++ {
		if err := <-results; err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if got := b.most.Load(); got != 2 {
		t.Errorf("at most %d requests were handled at once; want 2", got)
	}
}

// Slots go to complete heads only: a client trickling a head, or idle on a
// keep-alive connection, does not keep another client out.
func TestIncompleteHeadsAndIdleConnectionsHoldNoSlot(t *testing.T) {
	addr := admissionServer(t, 1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	_, _ = io.WriteString(slow, "GET /sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YTpi\r\n")

	idle := &http.Client{Timeout: 2 * time.Second}
	for i := 0; i < 3; i++ { // one keep-alive connection, idle between requests
		resp, err := idle.Get("http://" + addr + "/sessions")
		if err != nil {
			t.Fatalf("request %d while a head trickles: %v", i, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	other := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{}}
	resp, err := other.Get("http://" + addr + "/sessions")
	if err != nil {
		t.Fatalf("a second client while the first idles on keep-alive: %v", err)
	}
	resp.Body.Close()

	// The trickled head, once complete, is served too.
	_, _ = io.WriteString(slow, "\r\n")
	_ = slow.SetReadDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(slow).ReadString('\n')
	if err != nil || !strings.Contains(line, "200") {
		t.Fatalf("completed head: %q, %v", line, err)
	}
}

// A client that leaves while its request waits is not served, and its
// connection loses no slot: the requests after it are all served.
func TestClientsThatLeaveWhileWaitingAreNotServedAndLoseNoSlot(t *testing.T) {
	b := newBlockingLivy()
	addr := admissionServer(t, 1, b)
	first, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	_, _ = io.WriteString(first, "GET /first HTTP/1.1\r\nHost: x\r\n\r\n")
	waitEntered(t, b)
	for i := 0; i < 5; i++ { // each waits behind /first, then leaves
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(c, "GET /gone HTTP/1.1\r\nHost: x\r\n\r\n")
		time.Sleep(20 * time.Millisecond)
		c.Close()
	}
	close(b.release)
	client := &http.Client{Timeout: 3 * time.Second}
	for i := 0; i < 4; i++ {
		resp, err := client.Get("http://" + addr + "/later")
		if err != nil {
			t.Fatalf("request %d after the waiting clients left: %v", i, err)
		}
		resp.Body.Close()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if n := b.handledByPath["/gone"]; n != 0 {
		t.Errorf("%d requests of clients that had left were handled", n)
	}
}

// Pipelined requests, read by net/http from its buffer without a Read of
// ours, still take a slot each and are answered in order.
func TestPipelinedRequestsAreAnsweredInOrder(t *testing.T) {
	var active, most atomic.Int32
	addr := admissionServer(t, 1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := active.Add(1); n > most.Load() {
			most.Store(n)
		}
		defer active.Add(-1)
		_, _ = io.WriteString(w, r.URL.Path)
	}))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	r := bufio.NewReader(c)
	for _, want := range []string{"/a", "/b", "/c"} {
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("answer for %s: %v", want, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != want {
			t.Errorf("answer %q; want %q", body, want)
		}
	}
	if most.Load() != 1 {
		t.Errorf("%d pipelined requests handled at once; want 1", most.Load())
	}
}

func TestHeadEndIsFoundAcrossReads(t *testing.T) {
	for _, head := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.1\nHost: x\n\n",
		"GET / HTTP/1.1\r\nHost: x\n\r\n",
	} {
		for cut := 0; cut <= len(head); cut++ {
			var h headEnd
			first := h.scan([]byte(head[:cut]))
			second := h.scan([]byte(head[cut:]))
			if first != (cut == len(head)) || (cut < len(head) && !second) {
				t.Errorf("%q cut at %d: found %v then %v", head, cut, first, second)
			}
		}
		var h headEnd
		if h.scan([]byte(strings.TrimSuffix(strings.TrimSuffix(head, "\n"), "\r"))) {
			t.Errorf("%q without its last line end: found", head)
		}
	}
}

// On shutdown, a request that waits unparsed for a slot is still answered
// (net/http drops a request it reads after its shutdown began).
func TestShutdownAnswersRequestsWaitingForASlot(t *testing.T) {
	b := newBlockingLivy()
	l := Default()
	l.MaxActiveRequests = 1
	l.ShutdownTimeout = 5 * time.Second
	s := newTestServer(fixedAuth{id: &auth.Identity{User: "alice"}}, b, l)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	var conns []net.Conn
	for _, path := range []string{"/first", "/second"} {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		conns = append(conns, c)
		if path == "/first" {
			waitEntered(t, b)
		}
	}
	time.Sleep(100 * time.Millisecond) // /second waits for the slot
	if waiting := s.admission.waiting.Load(); waiting != 1 {
		t.Fatalf("%d requests wait for a slot; want 1", waiting)
	}
	cancel()
	waitEntered(t, b) // the gate opened: /second is handled beside /first
	close(b.release)
	for i, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("request %d got no answer: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("request %d: %d", i, resp.StatusCode)
		}
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after shutdown")
	}
}
