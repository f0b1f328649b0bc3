package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// admission bounds the requests read and handled at once
// (Config.MaxActiveRequests). A connection whose next request has arrived
// waits in Read, once the request's head is in but before net/http parses
// it: waiting then costs the connection's buffers and one parked goroutine,
// not a parsed request, a background reader and a response buffer. At 1,000
// busy connections that was ~10 MB of livygate's resident set (README,
// Performance).
//
// A slot is taken only when a head is complete, so a client trickling one
// never holds one; it is given back when the handler returns, and whenever
// net/http reports the connection idle or closed.
//
// net/http drops a request it reads once shutdown has begun, so shutdown
// first opens the gate and waits until every request that had arrived is
// in a handler (drain).
type admission struct {
	slots    chan struct{}
	waiting  atomic.Int64
	unparsed atomic.Int64  // connections with a complete head not yet handled
	open     chan struct{} // closed by drain: no more waiting
	opening  sync.Once
}

// load reports the slots taken and the requests waiting for one; a nil
// admission (no bound) has neither.
func (a *admission) load() (active, waiting int) {
	if a == nil {
		return 0, 0
	}
	return len(a.slots), int(a.waiting.Load())
}

// newAdmission returns nil, no bound, unless max is positive.
func newAdmission(max int) *admission {
	if max <= 0 {
		return nil
	}
	return &admission{slots: make(chan struct{}, max), open: make(chan struct{})}
}

type admittedConnKey struct{}

// wrap is installed on srv (handler, ConnState, ConnContext) and returns the
// listener whose connections wait for slots.
func (a *admission) wrap(srv *http.Server, ln net.Listener) net.Listener {
	next := srv.Handler
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Normally the slot was taken in Read; a request read from what
		// net/http had buffered (pipelining) takes it here.
		if c, ok := r.Context().Value(admittedConnKey{}).(*admittedConn); ok {
			c.handled()
			if ok, _ := c.admit(r.Context().Done()); !ok {
				return
			}
			defer c.release()
		}
		next.ServeHTTP(w, r)
	})
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		return context.WithValue(ctx, admittedConnKey{}, c)
	}
	srv.ConnState = func(c net.Conn, st http.ConnState) {
		ac, ok := c.(*admittedConn)
		if !ok {
			return
		}
		switch st {
		case http.StateNew, http.StateIdle:
			ac.awaitRequest()
		case http.StateClosed, http.StateHijacked:
			ac.settle()
		}
	}
	return admissionListener{Listener: ln, a: a}
}

type admissionListener struct {
	net.Listener
	a *admission
}

func (l admissionListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &admittedConn{Conn: c, a: l.a, closed: make(chan struct{})}, nil
}

type admittedConn struct {
	net.Conn
	a      *admission
	closed chan struct{} // closed by Close: a waiting Read gives up

	// taking serialises admit: net/http's background read and the handler
	// may both find a head, and one slot must not be taken twice.
	taking sync.Mutex

	mu        sync.Mutex
	between   bool    // between requests: the bytes read start a request head
	head      headEnd // where that head ends, across reads
	unhandled bool    // a complete head is in that no handler has taken yet
	holds     bool    // this connection holds a slot
	closeOnce sync.Once
}

// Read waits for a slot when the bytes it read complete a request's head.
// A client that left while it waited is not served: its connection ends.
func (c *admittedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.headCompleted(p[:n]) {
		ok, waited := c.admit(nil)
		if !ok {
			return 0, net.ErrClosed
		}
		if waited && peerGone(c.Conn) {
			c.handled() // nothing left to serve
			return 0, io.EOF
		}
	}
	return n, err
}

func (c *admittedConn) headCompleted(p []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.between && c.head.scan(p) {
		if !c.unhandled {
			c.unhandled = true
			c.a.unparsed.Add(1)
		}
		return true
	}
	return false
}

// handled records that the head found is in a handler, or never will be.
func (c *admittedConn) handled() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.handledLocked()
}

func (c *admittedConn) handledLocked() {
	if c.unhandled {
		c.unhandled = false
		c.a.unparsed.Add(-1)
	}
}

// awaitRequest settles the request that ended and watches for the next
// head.
func (c *admittedConn) awaitRequest() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked()
	c.between, c.head = true, headEnd{}
}

// settle gives back the connection's slot and its count among the
// unhandled heads, whichever it holds.
func (c *admittedConn) settle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked()
}

func (c *admittedConn) settleLocked() {
	c.releaseLocked()
	c.handledLocked()
}

// admit takes a slot unless the connection holds one; ok is false when
// the connection closed or done fired first, waited whether it had to wait.
func (c *admittedConn) admit(done <-chan struct{}) (ok, waited bool) {
	c.taking.Lock()
	defer c.taking.Unlock()
	c.mu.Lock()
	c.between = false
	held := c.holds
	c.mu.Unlock()
	if held {
		return true, false
	}
	slot, ok, waited := c.a.take(c.closed, done)
	if !ok || !slot {
		return ok, waited // no slot to hold: closed, gone, or the gate is open
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.closed: // Close ran meanwhile and found no slot to give back
		<-c.a.slots
		return false, waited
	default:
	}
	c.holds = true
	return true, waited
}

// take waits for a free slot; once drain opened the gate it lets the
// request through without one (slot false, ok true). ok is false when
// closed or done fired first.
func (a *admission) take(closed, done <-chan struct{}) (slot, ok, waited bool) {
	select {
	case a.slots <- struct{}{}:
		return true, true, false
	case <-a.open:
		return false, true, false
	default:
	}
	a.waiting.Add(1)
	defer a.waiting.Add(-1)
	select {
	case a.slots <- struct{}{}:
		return true, true, true
	case <-a.open:
		return false, true, true
	case <-closed:
		return false, false, true
	case <-done:
		return false, false, true
	}
}

func (c *admittedConn) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.releaseLocked()
}

func (c *admittedConn) releaseLocked() {
	if c.holds {
		c.holds = false
		<-c.a.slots
	}
}

func (c *admittedConn) Close() error {
	c.mu.Lock()
	c.closeOnce.Do(func() { close(c.closed) })
	c.settleLocked()
	c.mu.Unlock()
	return c.Conn.Close()
}

// drain lifts the bound and waits until every request whose head had
// arrived is in a handler, or ctx ends; then net/http's shutdown loses none.
func (a *admission) drain(ctx context.Context) {
	a.opening.Do(func() { close(a.open) })
	for a.unparsed.Load() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Millisecond):
		}
	}
}

// headEnd finds the empty line that ends a request's head, across reads.
// net/http takes "\n" line ends as well as "\r\n", and so does this.
type headEnd struct{ atLineStart bool }

func (h *headEnd) scan(p []byte) bool {
	for _, b := range p {
		switch {
		case b == '\n':
			if h.atLineStart {
				return true
			}
			h.atLineStart = true
		case b == '\r' && h.atLineStart:
		default:
			h.atLineStart = false
		}
	}
	return false
}

// peerGone reports whether the client has closed its end: a peek at the
// socket finds the end of the stream or a reset. Connections that are not
// TCP underneath are taken as open.
func peerGone(c net.Conn) bool {
	for {
		switch v := c.(type) {
		case *net.TCPConn:
			raw, err := v.SyscallConn()
			if err != nil {
				return false
			}
			gone := false
			_ = raw.Read(func(fd uintptr) bool {
				var b [1]byte
				n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
				gone = (n == 0 && err == nil) || err == syscall.ECONNRESET
				return true // never wait: this is a look, not a read
			})
			return gone
		case interface{ NetConn() net.Conn }:
			c = v.NetConn()
		default:
			return false
		}
	}
}
