package auth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/config"
)

// Defaults for config.LDAP fields left empty.
const (
	DefaultLDAPTimeout            = 10 * time.Second
	DefaultLDAPUsernameAttribute  = "uid"
	DefaultLDAPGroupFilter        = "(member={dn})"
	DefaultLDAPGroupNameAttribute = "cn"

	// maxGroups bounds a group search; a user in more groups keeps the first.
	maxGroups = 1000
)

// LDAP verifies passwords against an LDAP directory:
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
// ErrBadCredentials; everything else (server down, TLS failure, the service
// account refused, a malformed answer) is ErrUnavailable, so that an outage
// or a misconfiguration never looks like a wrong password. Passwords never
// appear in errors or logs.
//
// Each Verify uses its own connection; the credential cache in front of it
// keeps binds rare. It is safe for concurrent use.
type LDAP struct {
	log logrus.FieldLogger

	url       string // for messages
	addr      string // host:port
	ldaps     bool
	startTLS  bool
	tlsConfig *tls.Config // nil for plain ldap://
	timeout   time.Duration

	bindDN       string
	bindPassword string

	userBaseDN string
	userFilter string // normalised to "(…)" or empty
	userAttr   string

	memberAttr string // GroupMembershipAttribute mode when set

	groupBaseDN string // group search mode when set
	groupFilter string
	groupAttr   string
}

// NewLDAP checks the configuration, reads the CA file and the bind password,
// and returns the verifier. It gathers every problem into one error. log nil
// means logrus.StandardLogger().
func NewLDAP(cfg config.LDAP, log logrus.FieldLogger) (*LDAP, error) {
	if log == nil {
		log = logrus.StandardLogger()
	}
	l := &LDAP{
		log:         log.WithField("component", "auth.ldap"),
		url:         cfg.URL,
		startTLS:    cfg.StartTLS,
		timeout:     cfg.Timeout,
		bindDN:      cfg.BindDN,
		userBaseDN:  cfg.UserBaseDN,
		userAttr:    cfg.UsernameAttribute,
		memberAttr:  cfg.GroupMembershipAttribute,
		groupBaseDN: cfg.GroupBaseDN,
		groupFilter: cfg.GroupFilter,
		groupAttr:   cfg.GroupNameAttribute,
	}
	if l.timeout == 0 {
		l.timeout = DefaultLDAPTimeout
	}
	if l.userAttr == "" {
		l.userAttr = DefaultLDAPUsernameAttribute
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	u, err := url.Parse(cfg.URL)
	switch {
	case cfg.URL == "":
		bad("auth.ldap.url is required")
	case err != nil:
		bad("auth.ldap.url %q: %v", cfg.URL, err)
	case u.Scheme != "ldap" && u.Scheme != "ldaps":
		bad("auth.ldap.url %q: the scheme must be ldap:// or ldaps://", cfg.URL)
	case u.Hostname() == "":
		bad("auth.ldap.url %q names no host", cfg.URL)
	case u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "":
		bad("auth.ldap.url %q: give only scheme, host and port (base DNs and the bind DN have their own keys)", cfg.URL)
	default:
		l.ldaps = u.Scheme == "ldaps"
		port := u.Port()
		if port == "" {
			port = map[bool]string{true: "636", false: "389"}[l.ldaps]
		}
		l.addr = net.JoinHostPort(u.Hostname(), port)
		switch {
		case l.ldaps && cfg.StartTLS:
			bad("auth.ldap.start_tls is for ldap:// URLs; %q is already TLS", cfg.URL)
		case !l.ldaps && !cfg.StartTLS && !cfg.AllowInsecure:
			bad("auth.ldap.url %q is plain LDAP: passwords would cross the network in clear; use ldaps://, set auth.ldap.start_tls, or set auth.ldap.allow_insecure to accept that", cfg.URL)
		}
		if l.ldaps || cfg.StartTLS {
			l.tlsConfig = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
			if cfg.CAFile != "" {
				pool, err := loadCAFile(cfg.CAFile)
				if err != nil {
					bad("auth.ldap.ca_file: %v", err)
				}
				l.tlsConfig.RootCAs = pool
			}
		} else if cfg.CAFile != "" {
			bad("auth.ldap.ca_file is set but %q uses no TLS; use ldaps:// or set auth.ldap.start_tls", cfg.URL)
		}
	}
	if cfg.Timeout < 0 {
		bad("auth.ldap.timeout must be positive")
	}

	switch {
	case cfg.BindDN == "" && cfg.BindPassword.IsSet():
		bad("auth.ldap.bind_password is set but auth.ldap.bind_dn is empty")
	case cfg.BindDN != "":
		if _, err := ldap.ParseDN(cfg.BindDN); err != nil {
			bad("auth.ldap.bind_dn %q is not a DN: %v", cfg.BindDN, err)
		}
		pw, err := cfg.BindPassword.Resolve()
		switch {
		case err != nil:
			bad("auth.ldap.bind_password: %v", err)
		case pw == "":
			bad("auth.ldap.bind_password is required with auth.ldap.bind_dn (an empty password would be an anonymous bind)")
		}
		l.bindPassword = pw
	}

	if cfg.UserBaseDN == "" {
		bad("auth.ldap.user_base_dn is required")
	} else if _, err := ldap.ParseDN(cfg.UserBaseDN); err != nil {
		bad("auth.ldap.user_base_dn %q is not a DN: %v", cfg.UserBaseDN, err)
	}
	if !validAttributeName(l.userAttr) {
		bad("auth.ldap.username_attribute %q is not an attribute name", l.userAttr)
	}
	if f := strings.TrimSpace(cfg.UserFilter); f != "" {
		if !strings.HasPrefix(f, "(") {
			f = "(" + f + ")"
		}
		l.userFilter = f
	}
	if _, err := ldap.CompileFilter(l.userSearchFilter("probe")); err != nil {
		bad("auth.ldap.user_filter %q: %v", cfg.UserFilter, err)
	}

	switch {
	case l.memberAttr != "" && l.groupBaseDN != "":
		bad("auth.ldap: set either group_membership_attribute or group_base_dn, not both")
	case l.memberAttr != "":
		if !validAttributeName(l.memberAttr) {
			bad("auth.ldap.group_membership_attribute %q is not an attribute name", l.memberAttr)
		}
	case l.groupBaseDN != "":
		if _, err := ldap.ParseDN(l.groupBaseDN); err != nil {
			bad("auth.ldap.group_base_dn %q is not a DN: %v", l.groupBaseDN, err)
		}
		if l.groupFilter == "" {
			l.groupFilter = DefaultLDAPGroupFilter
		}
		if l.groupAttr == "" {
			l.groupAttr = DefaultLDAPGroupNameAttribute
		}
		if !validAttributeName(l.groupAttr) {
			bad("auth.ldap.group_name_attribute %q is not an attribute name", l.groupAttr)
		}
		if _, err := ldap.CompileFilter(l.groupSearchFilter("cn=probe,dc=example", "probe")); err != nil {
			bad("auth.ldap.group_filter %q: %v", l.groupFilter, err)
		}
	case l.groupFilter != "" || l.groupAttr != "":
		bad("auth.ldap.group_filter and group_name_attribute need auth.ldap.group_base_dn")
	}

	if len(errs) > 0 {
		return nil, fmt.Errorf("ldap configuration: %w", errors.Join(errs...))
	}
	return l, nil
}

func loadCAFile(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// validAttributeName accepts an attribute description: a name or an OID,
// optionally with options (cn;lang-en).
func validAttributeName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == ';') {
			return false
		}
	}
	return true
}

// userSearchFilter is the filter that finds name's entry. The name is escaped
// here, exactly once; nothing else may escape or unescape it.
func (l *LDAP) userSearchFilter(name string) string {
	match := "(" + l.userAttr + "=" + ldap.EscapeFilter(name) + ")"
	if l.userFilter == "" {
		return match
	}
	return "(&" + l.userFilter + match + ")"
}

// groupSearchFilter fills {dn} and {user} in one pass, so a value that itself
// contains "{user}" is never substituted again.
func (l *LDAP) groupSearchFilter(userDN, user string) string {
	return strings.NewReplacer(
		"{dn}", ldap.EscapeFilter(userDN),
		"{user}", ldap.EscapeFilter(user),
	).Replace(l.groupFilter)
}

// Verify implements PasswordVerifier.
func (l *LDAP) Verify(ctx context.Context, user, password string) (*Identity, error) {
	return l.VerifyEntry(ctx, user, password, nil)
}

// VerifyEntry implements EntryVerifier: before, when set, may refuse the
// entry found before its password is tried. A user the directory does not
// know costs a bind too (as a DN that does not exist), so an unknown name
// does not answer measurably faster than a wrong password.
func (l *LDAP) VerifyEntry(ctx context.Context, user, password string, before func(entry string) error) (*Identity, error) {
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
func (l *LDAP) Lookup(ctx context.Context, user string) (*Identity, error) {
	return l.identify(ctx, user, nil)
}

// identify finds user's one entry over the service connection, runs check
// on it when given (a login binds as the entry), and reads the groups.
func (l *LDAP) identify(ctx context.Context, user string, check func(*ldap.Conn, *ldap.Entry, string) error) (*Identity, error) {
	if err := CheckUsername(user); err != nil {
		return nil, err
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
	return &Identity{User: name, Groups: groups, Method: "ldap", Entry: entry.DN}, nil
}

// groupsOf reads the entry's groups from its membership attribute or by a
// group search, as configured.
func (l *LDAP) groupsOf(ctx context.Context, conn *ldap.Conn, entry *ldap.Entry, name string) ([]string, error) {
	switch {
	case l.memberAttr != "":
		return l.groupsFromDNs(entry.GetEqualFoldAttributeValues(l.memberAttr), name), nil
	case l.groupBaseDN != "":
		return l.searchGroups(ctx, conn, entry.DN, name)
	}
	return nil, nil
}

// serviceConn connects and binds as the service account.
func (l *LDAP) serviceConn(ctx context.Context) (*ldap.Conn, func(), error) {
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
func (l *LDAP) connect(ctx context.Context) (*ldap.Conn, func(), error) {
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

func (l *LDAP) bindService(ctx context.Context, conn *ldap.Conn) error {
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

func (l *LDAP) findUser(ctx context.Context, conn *ldap.Conn, user string) (*ldap.Entry, error) {
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
func (l *LDAP) canonicalName(entry *ldap.Entry, typed string) (string, error) {
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
func (l *LDAP) groupsFromDNs(dns []string, user string) []string {
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

func (l *LDAP) searchGroups(ctx context.Context, conn *ldap.Conn, userDN, user string) ([]string, error) {
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
func (l *LDAP) timeLimit() int {
	return max(1, int((l.timeout+time.Second-1)/time.Second))
}

// unavailable wraps err as ErrUnavailable, saying whether the server could
// not be reached or answered something unexpected. conn, when not nil, is
// the connection the step used: if it has been closed under us (read error,
// timeout, reset) the server is not answering, whatever err says. step reads
// as "while <step>".
func (l *LDAP) unavailable(ctx context.Context, conn *ldap.Conn, step string, err error) error {
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
func (l *LDAP) tlsFailed(ctx context.Context, what string, err error) error {
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
func (l *LDAP) GroupMembers(ctx context.Context, groupDN string) ([]string, error) {
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
func (l *LDAP) Ping(ctx context.Context) error {
	_, done, err := l.serviceConn(ctx)
	if err != nil {
		return err
	}
	done()
	return nil
}
