package route

import "strconv"

// withID returns a JSON object with every top-level "id" set to id, every
// other byte as Livy wrote it; ok is false for a body that is not one
// object. Nested ids (a statement's, inside a list) are left alone.
func withID(body []byte, id int) (out []byte, ok bool) {
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return nil, false
	}
	out = make([]byte, 0, len(body)+8)
	done := 0 // body[:done] is copied to out
	for i = skipSpace(body, i+1); i < len(body) && body[i] != '}'; {
		keyStart := i
		if i = skipString(body, i); i < 0 {
			return nil, false
		}
		key := body[keyStart:i]
		if i = skipSpace(body, i); i >= len(body) || body[i] != ':' {
			return nil, false
		}
		valStart := skipSpace(body, i+1)
		if i = skipValue(body, valStart); i < 0 {
			return nil, false
		}
		if string(key) == `"id"` {
			out = append(out, body[done:valStart]...)
			out = strconv.AppendInt(out, int64(id), 10)
			done = i
		}
		if i = skipSpace(body, i); i < len(body) && body[i] == ',' {
			i = skipSpace(body, i+1)
		}
	}
	if i >= len(body) {
		return nil, false
	}
	return append(out, body[done:]...), true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i], or -1.
func skipString(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the index after the JSON value starting at b[i], or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				if i = skipString(b, i); i < 0 {
					return -1
				}
				i--
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	}
	start := i
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\n' && b[i] != '\t' && b[i] != '\r' {
		i++
	}
	if i == start {
		return -1
	}
	return i
}
