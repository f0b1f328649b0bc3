package policy

import "unicode"

// sparkOptions splits a value the way Spark splits a JVM option string
// (extraJavaOptions, defaultJavaOptions, SPARK_JAVA_OPTS): whitespace
// separates options; single quotes group literally; double quotes group
// with backslash escapes; an unquoted backslash takes the next character as
// it is. The quotes and escaping backslashes are dropped, so
// -DHADOOP_USER_"NAME"=x is -DHADOOP_USER_NAME=x. ok is false for an
// unterminated quote or escape, which Spark refuses.
func sparkOptions(s string) (opts []string, ok bool) {
	var cur []rune
	inOpt, single, double, escaped := false, false, false, false
	for _, c := range s {
		switch {
		case escaped:
			cur, escaped = append(cur, c), false
		case c == '\\' && !single:
			escaped, inOpt = true, true
		case c == '\'' && !double:
			single, inOpt = !single, true
		case c == '"' && !single:
			double, inOpt = !double, true
		case javaSpace(c) && !single && !double:
			if inOpt {
				opts, cur, inOpt = append(opts, string(cur)), cur[:0], false
			}
		default:
			cur, inOpt = append(cur, c), true
		}
	}
	if single || double || escaped {
		return nil, false
	}
	if inOpt {
		opts = append(opts, string(cur))
	}
	return opts, true
}

// javaSpace is Java's Character.isWhitespace, which Spark splits on: ASCII
// and Unicode separators, but not the non-breaking spaces.
func javaSpace(c rune) bool {
	switch c {
	case '\u00a0', '\u2007', '\u202f':
		return false
	case '\t', '\n', '\v', '\f', '\r', '\x1c', '\x1d', '\x1e', '\x1f':
		return true
	}
	return unicode.In(c, unicode.Zs, unicode.Zl, unicode.Zp)
}

// valueForms are the readings of a conf value the identity rules check:
// as written, as Spark splits it into JVM options, and with every quote and
// backslash removed (what a shell or an unbalanced parse might make of it).
func valueForms(v string) []string {
	forms := []string{v}
	if opts, ok := sparkOptions(v); ok {
		for _, o := range opts {
			if o != v {
				forms = append(forms, o)
			}
		}
	}
	stripped := make([]rune, 0, len(v))
	for _, c := range v {
		if c != '"' && c != '\'' && c != '\\' {
			stripped = append(stripped, c)
		}
	}
	if s := string(stripped); s != v {
		forms = append(forms, s)
	}
	return forms
}
