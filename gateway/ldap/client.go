// Package ldap is livygate's LDAP adapter: it verifies a user's password
// against a directory, finds the user's groups, and lists a group's members.
// It knows nothing of the gateway: callers give it a validated Config and
// the service account's password.
package ldap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/sirupsen/logrus"
)

// maxGroups bounds a group search; a user in more groups keeps the first.
const maxGroups = 1000

var (
	// ErrBadCredentials: no such user, several entries, or a wrong password.
	ErrBadCredentials = errors.New("invalid credentials")
	// ErrUnavailable: the directory could not answer (down, TLS failure, the
	// service account refused, a malformed answer).
	ErrUnavailable = errors.New("directory unavailable")
)

// BadPasswordError is a wrong password for an entry the directory found.
type BadPasswordError struct {
	Entry string // the entry's DN
	Name  string // its canonical user name
}

func (e *BadPasswordError) Error() string {
	return fmt.Sprintf("%v: wrong password for %q", ErrBadCredentials, e.Name)
}

func (e *BadPasswordError) Unwrap() error { return ErrBadCredentials }

// Entry is a user the directory found: the canonical name, the groups and
// the entry's DN.
type Entry struct {
	User   string
	Groups []string
	DN     string
}

// Client verifies passwords against an LDAP directory:
//
//  1. connect (ldaps://, or ldap:// upgraded with StartTLS, or plain ldap://
//     only when AllowInsecure says so), all within Timeout;
//  2. bind as the service account (BindDN);
//  3. search UserBaseDN for (&UserFilter(UsernameAttribute=name)), the name
//     escaped exactly once, and require exactly one entry;
//  4. bind as that entry's DN with the password;
//  5. read the groups from GroupMembershipAttribute on the entry (memberOf),
//     or search GroupBaseDN with GroupFilter as the service account.
//
// Wrong credentials (no entry, several entries, bind refused) are
// ErrBadCredentials; everything else is ErrUnavailable, so that an outage
// or a misconfiguration never looks like a wrong password. Passwords never
// appear in errors or logs.
//
// Each Verify uses its own connection; the credential cache in front of it
// keeps binds rare. It is safe for concurrent use.
type Client struct {
	settings
	bindPassword string
	log          logrus.FieldLogger
}

// New returns the client for a configuration that Validate accepts.
// bindPassword is the service account's (empty for an anonymous search);
// log nil means logrus.StandardLogger().
func New(cfg Config, bindPassword string, log logrus.FieldLogger) (*Client, error) {
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = logrus.StandardLogger()
	}
	return &Client{settings: s, bindPassword: bindPassword, log: log.WithField("component", "ldap")}, nil
}

// Verify checks user's password and returns the entry.
func (l *Client) Verify(ctx context.Context, user, password string) (*Entry, error) {
	return l.VerifyEntry(ctx, user, password, nil)
}

// VerifyEntry is Verify where before, when set, may refuse the
// entry found before its password is tried. A user the directory does not
// know costs a bind too (as a DN that does not exist), so an unknown name
// does not answer measurably faster than a wrong password.
func (l *Client) VerifyEntry(ctx context.Context, user, password string, before func(entry string) error) (*Entry, error) {
	// Checked again here so that no caller can get an empty password to a
	// bind, where it would be an anonymous bind that succeeds.
	if password == "" {
		return nil, fmt.Errorf("%w: empty password", ErrBadCredentials)
	}
	id, err := l.identify(ctx, user, func(conn *ldap.Conn, entry *ldap.Entry, name string) error {
		if entry == nil {
			_ = conn.Bind("cn=livygate-no-such-user,"+l.userBaseDN, password)
			return nil
		}
		if before != nil {
			if err := before(entry.DN); err != nil {
				return err
			}
		}
		if err := conn.Bind(entry.DN, password); err != nil {
			if ldap.IsErrorAnyOf(err, ldap.LDAPResultInvalidCredentials, ldap.LDAPResultInappropriateAuthentication) {
				return &BadPasswordError{Entry: entry.DN, Name: name}
			}
			return l.unavailable(ctx, conn, "binding as the user's entry", err)
		}
		return nil
	})
	return id, err
}

// Lookup finds a user's entry and groups without their password, for an
// admin minting a token on their behalf. An unknown user is
// ErrBadCredentials.
func (l *Client) Lookup(ctx context.Context, user string) (*Entry, error) {
	return l.identify(ctx, user, nil)
}

// identify finds user's one entry over the service connection, runs check
// on it when given (a login binds as the entry), and reads the groups.
func (l *Client) identify(ctx context.Context, user string, check func(*ldap.Conn, *ldap.Entry, string) error) (*Entry, error) {
	if strings.TrimSpace(user) == "" {
		return nil, fmt.Errorf("%w: empty user name", ErrBadCredentials)
	}
	conn, done, err := l.serviceConn(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	entry, err := l.findUser(ctx, conn, user)
	if err != nil {
		if check != nil && errors.Is(err, ErrBadCredentials) && !errors.Is(err, ErrUnavailable) {
			_ = check(conn, nil, "") // no entry: the check's decoy work
		}
		return nil, err
	}
	name, err := l.canonicalName(entry, user)
	if err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(conn, entry, name); err != nil {
			return nil, err
		}
	}
	groups, err := l.groupsOf(ctx, conn, entry, name)
	if err != nil {
		return nil, err
	}
	return &Entry{User: name, Groups: groups, DN: entry.DN}, nil
}

// groupsOf reads the entry's groups from its membership attribute or by a
// group search, as configured.
func (l *Client) groupsOf(ctx context.Context, conn *ldap.Conn, entry *ldap.Entry, name string) ([]string, error) {
	switch {
	case l.memberAttr != "":
		return l.groupsFromDNs(entry.GetEqualFoldAttributeValues(l.memberAttr), name), nil
	case l.groupBaseDN != "":
		return l.searchGroups(ctx, conn, entry.DN, name)
	}
	return nil, nil
}

// serviceConn connects and binds as the service account.
func (l *Client) serviceConn(ctx context.Context) (*ldap.Conn, func(), error) {
	conn, done, err := l.connect(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := l.bindService(ctx, conn); err != nil {
		done()
		return nil, nil, err
	}
	return conn, done, nil
}

// connect dials the server (TLS as configured) and returns the connection
// and a function that releases it. The whole exchange is bounded by the
// timeout, and cancelling ctx aborts it.
func (l *Client) connect(ctx context.Context) (*ldap.Conn, func(), error) {
	// ctx's own deadline is left to context.AfterFunc below, so that an
	// abandoned request is reported as such, not as a server timeout.
	deadline := time.Now().Add(l.timeout)
	dialer := net.Dialer{Deadline: deadline}
	raw, err := dialer.DialContext(ctx, "tcp", l.addr)
	if err != nil {
		return nil, nil, l.unavailable(ctx, nil, "connecting", err)
	}
	// One deadline for the whole verification: a server that stalls at any
	// step fails it instead of hanging the request.
	_ = raw.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })

	var netConn net.Conn = raw
	if l.ldaps {
		tc := tls.Client(raw, l.tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			stop()
			raw.Close()
			return nil, nil, l.tlsFailed(ctx, "TLS handshake", err)
		}
		netConn = tc
	}
	conn := ldap.NewConn(netConn, l.ldaps)
	conn.Start()
	conn.SetTimeout(l.timeout)
	done := func() {
		stop()
		conn.Close()
	}
	if l.startTLS {
		if err := conn.StartTLS(l.tlsConfig); err != nil {
			err = l.tlsFailed(ctx, "StartTLS", err)
			done()
			return nil, nil, err
		}
	}
	return conn, done, nil
}

func (l *Client) bindService(ctx context.Context, conn *ldap.Conn) error {
	if l.bindDN == "" {
		return nil // anonymous search
	}
	err := conn.Bind(l.bindDN, l.bindPassword)
	if err == nil {
		return nil
	}
	if ldap.IsErrorAnyOf(err, ldap.LDAPResultInvalidCredentials, ldap.LDAPResultInappropriateAuthentication, ldap.LDAPResultNoSuchObject) {
		// Not the user's fault: the gateway's own account is misconfigured.
		l.log.WithField("bind_dn", l.bindDN).Error("ldap: the directory refused the service account; check auth.ldap.bind_dn and auth.ldap.bind_password")
		return fmt.Errorf("%w: ldap: the directory refused the service account %q (check auth.ldap.bind_dn and auth.ldap.bind_password): %w",
			ErrUnavailable, l.bindDN, err)
	}
	return l.unavailable(ctx, conn, "binding as the service account", err)
}

func (l *Client) findUser(ctx context.Context, conn *ldap.Conn, user string) (*ldap.Entry, error) {
	attrs := []string{l.userAttr}
	if l.memberAttr != "" {
		attrs = append(attrs, l.memberAttr)
	}
	req := ldap.NewSearchRequest(l.userBaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		2, l.timeLimit(), false, l.userSearchFilter(user), attrs, nil)
	res, err := conn.Search(req)
	switch {
	case err == nil:
	case ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) && res != nil && len(res.Entries) > 1:
		// Fall through to the ambiguity check below.
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return nil, fmt.Errorf("%w: ldap: auth.ldap.user_base_dn %q does not exist (or the service account cannot see it): %w",
			ErrUnavailable, l.userBaseDN, err)
	default:
		return nil, l.unavailable(ctx, conn, "searching for the user", err)
	}
	switch n := len(res.Entries); {
	case n == 0:
		return nil, fmt.Errorf("%w: ldap: no entry for user %q", ErrBadCredentials, user)
	case n > 1:
		l.log.WithFields(logrus.Fields{"user": user, "base_dn": l.userBaseDN}).
			Warn("ldap: several entries match this user name; refusing the login (make auth.ldap.user_filter or username_attribute unique)")
		return nil, fmt.Errorf("%w: ldap: user name %q matches several entries", ErrBadCredentials, user)
	}
	entry := res.Entries[0]
	if entry.DN == "" {
		return nil, fmt.Errorf("%w: ldap: the search for %q returned an entry without a DN", ErrUnavailable, user)
	}
	return entry, nil
}

// canonicalName is the user name as the directory spells it: the value of
// the username attribute that matches what was typed (an entry may have
// several), else its first value.
func (l *Client) canonicalName(entry *ldap.Entry, typed string) (string, error) {
	values := entry.GetEqualFoldAttributeValues(l.userAttr)
	if len(values) == 0 {
		return "", fmt.Errorf("%w: ldap: entry %q has no %s attribute the service account can read", ErrUnavailable, entry.DN, l.userAttr)
	}
	want := strings.Join(strings.Fields(typed), " ")
	for _, v := range values {
		if strings.EqualFold(strings.Join(strings.Fields(v), " "), want) {
			return v, nil
		}
	}
	return values[0], nil
}

// groupsFromDNs names each group DN by the value of its first RDN
// (cn=analysts,ou=groups,… → analysts).
func (l *Client) groupsFromDNs(dns []string, user string) []string {
	groups := make([]string, 0, len(dns))
	for _, s := range dns {
		dn, err := ldap.ParseDN(s)
		if err != nil || len(dn.RDNs) == 0 || len(dn.RDNs[0].Attributes) == 0 {
			l.log.WithFields(logrus.Fields{"user": user, "attribute": l.memberAttr, "value": s}).
				Warn("ldap: group membership value is not a DN; ignored")
			continue
		}
		groups = appendUnique(groups, dn.RDNs[0].Attributes[0].Value)
	}
	return groups
}

func (l *Client) searchGroups(ctx context.Context, conn *ldap.Conn, userDN, user string) ([]string, error) {
	// The connection is bound as the user now; search as the gateway.
	if l.bindDN != "" {
		if err := l.bindService(ctx, conn); err != nil {
			return nil, err
		}
	} else if err := conn.UnauthenticatedBind(""); err != nil {
		return nil, l.unavailable(ctx, conn, "returning to an anonymous bind for the group search", err)
	}
	req := ldap.NewSearchRequest(l.groupBaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		maxGroups, l.timeLimit(), false, l.groupSearchFilter(userDN, user), []string{l.groupAttr}, nil)
	res, err := conn.Search(req)
	switch {
	case err == nil:
	case ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) && res != nil:
		l.log.WithFields(logrus.Fields{"user": user, "limit": maxGroups}).Warn("ldap: user is in too many groups; keeping the first")
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return nil, fmt.Errorf("%w: ldap: auth.ldap.group_base_dn %q does not exist (or the service account cannot see it): %w",
			ErrUnavailable, l.groupBaseDN, err)
	default:
		return nil, l.unavailable(ctx, conn, "searching for the user's groups", err)
	}
	var groups []string
	for _, e := range res.Entries {
		for _, v := range e.GetEqualFoldAttributeValues(l.groupAttr) {
			groups = appendUnique(groups, v)
		}
	}
	return groups, nil
}

func appendUnique(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// timeLimit is the server-side time limit of a search, in whole seconds.
func (l *Client) timeLimit() int {
	return max(1, int((l.timeout+time.Second-1)/time.Second))
}

// unavailable wraps err as ErrUnavailable, saying whether the server could
// not be reached or answered something unexpected. conn, when not nil, is
// the connection the step used: if it has been closed under us (read error,
// timeout, reset) the server is not answering, whatever err says. step reads
// as "while <step>".
func (l *Client) unavailable(ctx context.Context, conn *ldap.Conn, step string, err error) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%w: ldap: request abandoned while %s with %s: %w (%w)", ErrUnavailable, step, l.url, ctx.Err(), err)
	case serverDown(err) || (conn != nil && conn.IsClosing()):
		return fmt.Errorf("%w: ldap: server %s is unreachable or not answering (while %s): %w", ErrUnavailable, l.url, step, err)
	}
	return fmt.Errorf("%w: ldap: server %s failed while %s: %w", ErrUnavailable, l.url, step, err)
}

// tlsFailed reports a failed ldaps:// handshake or StartTLS: a
// configuration problem on one side or the other, said as such.
func (l *Client) tlsFailed(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return l.unavailable(ctx, nil, what, err)
	}
	hint := "check that auth.ldap.ca_file holds the CA of the server's certificate and that the certificate names the host in auth.ldap.url"
	if what == "StartTLS" && ldap.IsErrorAnyOf(err, ldap.LDAPResultProtocolError, ldap.LDAPResultUnavailable, ldap.LDAPResultConfidentialityRequired, ldap.LDAPResultUnwillingToPerform) {
		hint = "the server does not offer TLS on this port; enable TLS on the server, or use ldaps://"
	}
	return fmt.Errorf("%w: ldap: %s with %s failed (%s): %w", ErrUnavailable, what, l.url, hint, err)
}

// serverDown reports errors that mean the server cannot be reached or
// cannot serve right now, as opposed to an answer we did not expect.
func serverDown(err error) bool {
	if ldap.IsErrorAnyOf(err,
		ldap.ErrorNetwork,
		ldap.LDAPResultUnavailable,
		ldap.LDAPResultBusy,
		ldap.LDAPResultServerDown,
		ldap.LDAPResultConnectError,
		ldap.LDAPResultTimeout,
		ldap.LDAPResultTimeLimitExceeded,
		ldap.LDAPResultAdminLimitExceeded,
		ldap.LDAPResultUnwillingToPerform,
	) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// GroupMembers lists the user names (username attribute) of the members of
// the group with DN groupDN, for the sync's second user source. It searches
// the user base with (memberOf=<group DN>), paged so that large groups are
// read whole, so the server must maintain memberOf (OpenLDAP's memberof
// overlay, Active Directory, 389-ds).
func (l *Client) GroupMembers(ctx context.Context, groupDN string) ([]string, error) {
	if _, err := ldap.ParseDN(groupDN); err != nil || groupDN == "" {
		return nil, fmt.Errorf("sync.ldap_group_dn %q is not a DN: %v", groupDN, err)
	}
	conn, done, err := l.serviceConn(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	filter := "(memberOf=" + ldap.EscapeFilter(groupDN) + ")"
	if l.userFilter != "" {
		filter = "(&" + l.userFilter + filter + ")"
	}
	req := ldap.NewSearchRequest(l.userBaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		0, l.timeLimit(), false, filter, []string{l.userAttr}, nil)
	res, err := conn.SearchWithPaging(req, 500)
	if err != nil {
		return nil, l.unavailable(ctx, conn, "listing the group's members", err)
	}
	names := make([]string, 0, len(res.Entries))
	for _, e := range res.Entries {
		if v := e.GetEqualFoldAttributeValue(l.userAttr); v != "" {
			names = append(names, v)
		}
	}
	return names, nil
}

// Ping dials the directory and binds as the service account, for the admin
// UI's reachability check.
func (l *Client) Ping(ctx context.Context) error {
	_, done, err := l.serviceConn(ctx)
	if err != nil {
		return err
	}
	done()
	return nil
}
