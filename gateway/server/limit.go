package server

import (
	"net"
	"sync"
)

// limitListener caps open connections, in all and per client address. A
// connection over a cap is closed at once instead of waiting in Accept, so
// clients under their cap keep being served while others hold theirs open
// (slow bodies are then ended by the server's read timeout).
func limitListener(ln net.Listener, max, perClient int) net.Listener {
	if max <= 0 && perClient <= 0 {
		return ln
	}
	return &limitedListener{Listener: ln, max: max, perClient: perClient, byClient: map[string]int{}}
}

type limitedListener struct {
	net.Listener
	max, perClient int

	mu       sync.Mutex
	total    int
	byClient map[string]int
}

func (l *limitedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		client := clientOf(c)
		if l.acquire(client) {
			return &limitedConn{Conn: c, release: func() { l.release(client) }}, nil
		}
		_ = c.Close()
	}
}

func (l *limitedListener) acquire(client string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if (l.max > 0 && l.total >= l.max) || (l.perClient > 0 && l.byClient[client] >= l.perClient) {
		return false
	}
	l.total++
	l.byClient[client]++
	return true
}

func (l *limitedListener) release(client string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.byClient[client]--; l.byClient[client] <= 0 {
		delete(l.byClient, client)
	}
}

func clientOf(c net.Conn) string {
	if host, _, err := net.SplitHostPort(c.RemoteAddr().String()); err == nil {
		return host
	}
	return c.RemoteAddr().String()
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// NetConn is the connection underneath, as tls.Conn offers it.
func (c *limitedConn) NetConn() net.Conn { return c.Conn }

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
