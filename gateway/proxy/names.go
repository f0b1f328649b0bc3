package proxy

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
)

// Session names are per user. Livy has one name namespace for everyone, so
// the gateway stores user U's name N in Livy as "U~N" and shows N back to U.
// A session created without a name gets "U~~<random>", shown as no name:
// the gateway can then find what a create made even when Livy answers late.
// Names are letters, digits, '.', '_' and '-' with at least one letter, so
// '~' separates unambiguously, Livy never reads a name as an id, and nothing
// in a name means anything to a router (';', '/', '%', '?', '#').

// nameSep joins the owner and the user's name in Livy's name.
const nameSep = "~"

const maxNameLen = 64

var errBadName = errors.New(`"name" must be 1 to 64 letters, digits, '.', '_' or '-', with at least one letter`)

// validName is the rule for the names users give and address.
func validName(n string) bool {
	if n == "" || len(n) > maxNameLen {
		return false
	}
	letter := false
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			letter = true
		case '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return letter
}

// validRawName is what an admin may address as a raw Livy name: a user's
// name, or a namespaced one ("bob~etl").
func validRawName(n string) bool {
	for _, part := range strings.Split(n, nameSep) {
		if part != "" && !validName(part) {
			return false
		}
	}
	return strings.Trim(n, nameSep) != "" && strings.ContainsAny(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
}

// livyName is the name Livy holds for user's name n.
func livyName(user, n string) string { return user + nameSep + n }

// generatedName names a session the user left unnamed.
func generatedName(user string) string {
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	return user + nameSep + nameSep + hex.EncodeToString(b)
}

// shownName is what caller sees of a session's Livy name: its own names
// without the prefix (a generated one as no name); anyone else's (only
// admins see them) raw. ok is false when nothing changes.
func shownName(raw, sessionUser, caller string) (shown *string, ok bool) {
	if sessionUser != caller || !strings.HasPrefix(raw, sessionUser+nameSep) {
		return nil, false
	}
	n := raw[len(sessionUser)+len(nameSep):]
	if strings.HasPrefix(n, nameSep) {
		return nil, true
	}
	return &n, true
}

// renameInBody rewrites the top-level "name" of a Livy session object for
// the caller. Livy writes a name as a plain JSON string, and the names the
// gateway gives need no escaping, so the exact bytes `"name":"<raw>"` are
// the field itself; a string value elsewhere could only hold them escaped.
func renameInBody(body []byte, raw, sessionUser, caller string) []byte {
	shown, ok := shownName(raw, sessionUser, caller)
	if !ok || !plainName(raw) {
		return body
	}
	const key = `"name":"`
	i := bytes.Index(body, []byte(key))
	if i < 0 {
		return body
	}
	rest := body[i+len(key):]
	if len(rest) <= len(raw) || string(rest[:len(raw)]) != raw || rest[len(raw)] != '"' {
		return body
	}
	out := make([]byte, 0, len(body))
	out = append(out, body[:i+len(`"name":`)]...)
	if shown == nil {
		out = append(out, "null"...)
	} else {
		out = append(out, '"')
		out = append(out, *shown...)
		out = append(out, '"')
	}
	return append(out, rest[len(raw)+1:]...)
}

// plainName reports a name JSON writes as it is (printable ASCII, no quote
// or backslash).
func plainName(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
