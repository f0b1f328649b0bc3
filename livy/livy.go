// Package livy knows Apache Livy's REST surface: its resources, the fields
// the gateway reads from session and batch objects, and a small client.
// It knows nothing of the gateway.
package livy

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Resource is one of Livy's two session collections.
type Resource string

const (
	Sessions Resource = "sessions" // interactive sessions
	Batches  Resource = "batches"
)

// NotFoundMessage is Livy's exact 404 message for an id or name it lacks.
// Livy's batch servlet shares the session servlet's messages, so batches
// too say "Session".
func (r Resource) NotFoundMessage(idOrName string) string {
	return fmt.Sprintf("Session '%s' not found.", idOrName)
}

// Path is a request path split along Livy's URL structure.
type Path struct {
	Resource Resource
	// Item is the id or name segment ("" for the collection itself).
	Item string
	// Rest is what follows the item, without a leading slash ("statements/3").
	Rest string
}

// ParsePath splits an unescaped URL path. ok is false for paths outside
// /sessions and /batches (Livy's UI, metrics, version and anything unknown).
// Dot segments and empty segments are refused, so "/sessions/1/../2" cannot
// name one session to the gateway and another to Livy.
func ParsePath(path string) (p Path, ok bool) {
	if !strings.HasPrefix(path, "/") {
		return Path{}, false
	}
	segs := strings.Split(path[1:], "/")
	// One trailing slash is tolerated as Livy's router does.
	if len(segs) > 1 && segs[len(segs)-1] == "" {
		segs = segs[:len(segs)-1]
	}
	for _, s := range segs {
		if s == "" || s == "." || s == ".." {
			return Path{}, false
		}
	}
	switch Resource(segs[0]) {
	case Sessions, Batches:
		p.Resource = Resource(segs[0])
	default:
		return Path{}, false
	}
	if len(segs) > 1 {
		p.Item = segs[1]
	}
	if len(segs) > 2 {
		p.Rest = strings.Join(segs[2:], "/")
	}
	return p, true
}

// ParseID reads an item segment the way Livy's router does for ASCII input:
// all digits is an id ("007" is session 7), anything else a name. ok is
// false for a name. Livy also reads other Unicode digits as an id; such an
// item is never a valid name at the gateway, so it never reaches Livy.
func ParseID(item string) (id int, ok bool) {
	if item == "" || strings.Trim(item, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(item, 10, 32)
	if err != nil {
		return -1, true // all digits but out of range: Livy cannot parse it, names nothing
	}
	return int(n), true
}

// RouteCut reports a path that Livy's router (Scalatra) would read as a
// shorter one: it drops everything from the first ';' (a matrix parameter),
// so "/sessions/0;x" is session 0 to Livy.
func RouteCut(path string) bool { return strings.ContainsRune(path, ';') }

// MethodOverrideParam is the query or form parameter by which Livy's router
// (Scalatra's MethodOverride) turns a POST into another method.
const MethodOverrideParam = "_method"

// EscapePath escapes every segment of an unescaped path, ';' and '%'
// included, so Livy gets each segment as one literal segment.
func EscapePath(path string) string {
	if plainPath(path) {
		return path // the polls: nothing to escape, nothing to allocate
	}
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// plainPath reports a path of unreserved characters and '/' only.
func plainPath(path string) bool {
	for i := 0; i < len(path); i++ {
		switch c := path[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '/', c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

// Session holds the fields of a Livy session or batch object the gateway
// reads: the Brief ones and the conf. Answers are otherwise passed on as
// Livy wrote them.
type Session struct {
	Brief
	Conf map[string]string `json:"conf"`
}

// ErrorBody is Livy's error answer: {"msg": "..."}.
type ErrorBody struct {
	Msg string `json:"msg"`
}
