package hdfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	gohdfs "github.com/colinmarc/hdfs/v2"
)

// Tunables of the NameNode connection (variables so tests can shorten them).
var (
	// dialTimeout bounds one TCP connect to a NameNode.
	dialTimeout = 10 * time.Second
	// rpcTimeout bounds each read or write on a NameNode connection, so a
	// hung NameNode gives an error instead of a hang.
	rpcTimeout = 60 * time.Second
	// poolSize is how many NameNode connections an FS from Connect opens at
	// most (lazily, as concurrent calls need them). colinmarc/hdfs serialises
	// the RPCs of one connection, so this is what makes Options.Concurrency
	// real.
	poolSize = 8
)

// defaultPort is the NameNode RPC port used when an address has none.
const defaultPort = "8020"

// Connect dials the NameNode(s) as user (simple authentication: the name of
// the HDFS superuser, or of a member of its group, so that chown works).
// Several addresses are an HA pair (or more): the active one is found and
// used, as colinmarc/hdfs does. An address without a port gets 8020.
//
// Connect checks that a NameNode actually answers (one getFileInfo of "/"),
// so an unreachable, wrong or standby-only address fails here with a clear
// error ("NameNode 127.0.0.1:9820 unreachable: …"), wrapping ErrUnavailable.
// The FS returned is safe for concurrent use; it keeps a small pool of
// connections and replaces a broken one (e.g. after a NameNode restart),
// retrying the call once. Call close when the run is done: colinmarc/hdfs
// renews leases on every open connection once a second, so an FS should not
// be kept open between runs.
func Connect(addresses []string, user string) (FS, func() error, error) {
	addrs, err := normalizeAddrs(addresses)
	if err != nil {
		return nil, nil, err
	}
	if strings.TrimSpace(user) == "" {
		return nil, nil, errors.New("no HDFS user given (the superuser name to connect as)")
	}
	c := &client{addrs: addrs, user: user, slots: make(chan struct{}, poolSize)}
	cl, err := c.dial()
	if err != nil {
		return nil, nil, err
	}
	if _, err := cl.Stat("/"); err != nil {
		cl.Close()
		if isConnErr(err) {
			return nil, nil, c.unavailable(err)
		}
		return nil, nil, fmt.Errorf("NameNode %s refused a first call as %q: %w", c.addrList(), user, err)
	}
	c.idle = append(c.idle, cl)
	c.open = 1
	return c, c.close, nil
}

// normalizeAddrs trims the addresses and gives the default port to those
// without one.
func normalizeAddrs(addresses []string) ([]string, error) {
	if len(addresses) == 0 {
		return nil, errors.New("no NameNode address given")
	}
	addrs := make([]string, 0, len(addresses))
	for _, a := range addresses {
		a = strings.TrimSpace(a)
		if a == "" {
			return nil, fmt.Errorf("empty NameNode address in %q", addresses)
		}
		if _, _, err := net.SplitHostPort(a); err != nil {
			if !strings.Contains(err.Error(), "missing port") {
				return nil, fmt.Errorf("NameNode address %q: %w", a, err)
			}
			a = net.JoinHostPort(strings.Trim(a, "[]"), defaultPort)
		}
		addrs = append(addrs, a)
	}
	return addrs, nil
}

// client is the FS of Connect: a pool of colinmarc/hdfs clients.
type client struct {
	addrs []string
	user  string

	slots chan struct{} // one per connection in use
	mu    sync.Mutex
	idle  []*gohdfs.Client
	open  int // connections open (idle or in use)
	shut  bool
}

func (c *client) addrList() string { return strings.Join(c.addrs, ",") }

func (c *client) nameNodes() string {
	if len(c.addrs) == 1 {
		return "NameNode " + c.addrs[0]
	}
	return "NameNodes " + strings.Join(c.addrs, ", ")
}

// unavailable wraps a connection-level error.
func (c *client) unavailable(err error) error {
	return &unavailableError{what: c.nameNodes(), err: err}
}

type unavailableError struct {
	what string
	err  error
}

func (e *unavailableError) Error() string {
	// colinmarc/hdfs prefixes dial failures with this; the "unreachable" says it.
	return e.what + " unreachable: " + strings.TrimPrefix(e.err.Error(), "no available namenodes: ")
}
func (e *unavailableError) Unwrap() error        { return e.err }
func (e *unavailableError) Is(target error) bool { return target == ErrUnavailable }

// dial opens one NameNode connection. colinmarc/hdfs connects at once, but
// the first RPC is what proves a NameNode is there.
func (c *client) dial() (*gohdfs.Client, error) {
	cl, err := gohdfs.NewClient(gohdfs.ClientOptions{
		Addresses:        c.addrs,
		User:             c.user,
		NamenodeDialFunc: dialWithTimeouts,
	})
	if err != nil {
		return nil, c.unavailable(err)
	}
	return cl, nil
}

// dialWithTimeouts connects with dialTimeout and bounds every read and write
// with rpcTimeout.
func dialWithTimeouts(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &deadlineConn{Conn: conn}, nil
}

type deadlineConn struct{ net.Conn }

func (d *deadlineConn) Read(p []byte) (int, error) {
	if err := d.Conn.SetReadDeadline(time.Now().Add(rpcTimeout)); err != nil {
		return 0, err
	}
	return d.Conn.Read(p)
}

func (d *deadlineConn) Write(p []byte) (int, error) {
	if err := d.Conn.SetWriteDeadline(time.Now().Add(rpcTimeout)); err != nil {
		return 0, err
	}
	return d.Conn.Write(p)
}

var errClosed = errors.New("hdfs: FS is closed")

// get takes a connection, opening one when none is idle and the pool is not
// full.
func (c *client) get() (*gohdfs.Client, error) {
	c.slots <- struct{}{}
	c.mu.Lock()
	if c.shut {
		c.mu.Unlock()
		<-c.slots
		return nil, errClosed
	}
	if n := len(c.idle); n > 0 {
		cl := c.idle[n-1]
		c.idle = c.idle[:n-1]
		c.mu.Unlock()
		return cl, nil
	}
	c.open++
	c.mu.Unlock()
	cl, err := c.dial()
	if err != nil {
		c.mu.Lock()
		c.open--
		c.mu.Unlock()
		<-c.slots
		return nil, err
	}
	return cl, nil
}

// put gives a connection back; a nil one (dropped) frees its place.
func (c *client) put(cl *gohdfs.Client) {
	c.mu.Lock()
	switch {
	case cl == nil:
		c.open--
	case c.shut:
		c.open--
		cl.Close()
	default:
		c.idle = append(c.idle, cl)
	}
	c.mu.Unlock()
	<-c.slots
}

// do runs op on a pooled connection. A connection-level failure drops the
// connection and retries once on a new one (so a NameNode restart or an HA
// failover costs no failed call); if that fails too the error wraps
// ErrUnavailable. Errors the NameNode answered with are returned as they are.
func (c *client) do(op func(*gohdfs.Client) error) error {
	cl, err := c.get()
	if err != nil {
		return err
	}
	err = op(cl)
	if err == nil || !isConnErr(err) {
		c.put(cl)
		return err
	}
	cl.Close()
	cl, derr := c.dial()
	if derr != nil {
		c.put(nil)
		return derr
	}
	err = op(cl)
	if err != nil && isConnErr(err) {
		cl.Close()
		c.put(nil)
		return c.unavailable(err)
	}
	c.put(cl)
	return err
}

func (c *client) close() error {
	c.mu.Lock()
	c.shut = true
	idle := c.idle
	c.idle = nil
	c.open -= len(idle)
	c.mu.Unlock()
	var errs []error
	for _, cl := range idle {
		if err := cl.Close(); err != nil && !isConnErr(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// isConnErr tells a failure to talk to the NameNode from an answer of the
// NameNode (not found, permission denied, …).
func isConnErr(err error) bool {
	if err == nil {
		return false
	}
	var remote gohdfs.Error
	switch {
	case errors.As(err, &remote),
		errors.Is(err, os.ErrNotExist), errors.Is(err, os.ErrPermission),
		errors.Is(err, os.ErrExist), errors.Is(err, os.ErrInvalid),
		errors.Is(err, syscall.ENOTEMPTY), errors.Is(err, errClosed):
		return false
	}
	var ne net.Error
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ne) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, net.ErrClosed) {
		return true
	}
	// colinmarc/hdfs reports an exhausted host list as a plain string, and a
	// wrong call id after a broken exchange likewise.
	msg := err.Error()
	return strings.Contains(msg, "no available namenodes") || strings.Contains(msg, "unexpected sequence number")
}

func (c *client) ReadDir(dir string) ([]os.FileInfo, error) {
	var fis []os.FileInfo
	err := c.do(func(cl *gohdfs.Client) (err error) {
		fis, err = cl.ReadDir(dir)
		return err
	})
	return fis, err
}

func (c *client) Stat(name string) (os.FileInfo, error) {
	var fi os.FileInfo
	err := c.do(func(cl *gohdfs.Client) (err error) {
		fi, err = cl.Stat(name)
		return err
	})
	return fi, err
}

// Mkdir creates one directory (its parent must exist). Retried after a
// broken connection, a mkdir that had in fact succeeded reports os.ErrExist,
// which Provision handles by statting.
func (c *client) Mkdir(name string, perm os.FileMode) error {
	return c.do(func(cl *gohdfs.Client) error { return cl.Mkdir(name, perm) })
}

// Chown sets owner and group. Both must be given: colinmarc/hdfs sends an
// empty group as the group "" (it does not mean "unchanged").
func (c *client) Chown(name, user, group string) error {
	if user == "" || group == "" {
		return &os.PathError{Op: "chown", Path: name, Err: errors.New("owner and group must both be given")}
	}
	return c.do(func(cl *gohdfs.Client) error { return cl.Chown(name, user, group) })
}

func (c *client) Chmod(name string, perm os.FileMode) error {
	return c.do(func(cl *gohdfs.Client) error { return cl.Chmod(name, perm) })
}

// WriteFile creates name with perm (no wider mode is ever visible) and
// writes data. It fails if name exists, so a retry after a broken connection
// fails rather than writing twice; the caller removes a temporary file it
// could not finish.
func (c *client) WriteFile(name string, data []byte, perm os.FileMode) error {
	return c.do(func(cl *gohdfs.Client) error {
		d, err := cl.ServerDefaults()
		if err != nil {
			return err
		}
		w, err := cl.CreateFile(name, d.Replication, d.BlockSize, perm)
		if err != nil {
			return err
		}
		if _, err := w.Write(data); err != nil {
			_ = w.Close()
			return err
		}
		return closeWhenReplicated(w)
	})
}

// closeWhenReplicated closes a new file, waiting while the NameNode has not
// yet heard from the DataNodes that the last block is complete (colinmarc's
// Close says ErrReplicating and is to be called again).
func closeWhenReplicated(w *gohdfs.FileWriter) error {
	delay := 10 * time.Millisecond
	for waited := time.Duration(0); ; waited += delay {
		err := w.Close()
		if !errors.Is(err, gohdfs.ErrReplicating) || waited > 10*time.Second {
			return err
		}
		time.Sleep(delay)
		delay = min(2*delay, time.Second)
	}
}

// Rename moves oldpath over newpath (replacing it).
func (c *client) Rename(oldpath, newpath string) error {
	return c.do(func(cl *gohdfs.Client) error { return cl.Rename(oldpath, newpath) })
}

// Remove deletes a file or an empty directory.
func (c *client) Remove(name string) error {
	return c.do(func(cl *gohdfs.Client) error { return cl.Remove(name) })
}
