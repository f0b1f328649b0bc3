package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strings"
	"sync"
)

// minEchoLen is the shortest secret value masked wherever it appears. Shorter
// values ("1", "true") would mask unrelated text; their keys are still masked.
const minEchoLen = 4

// assignment finds the key and separator of key=value and key: value pairs
// in free text such as Livy's log lines ("--conf spark.x.password=abc").
var assignment = regexp.MustCompile(`([A-Za-z0-9_.\-]+)(\s*[=:]\s*)`)

// jwtLike finds JSON Web Tokens in free text: three base64url parts, the
// first a JSON header. Any token in an answer is a credential; it is masked
// wherever it stands (a minted token delivered in conf, echoed in a log).
var jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+`)

// RedactLine masks, in one line of text, the given secret values, resolved
// secret references, tokens, and the value of every key=value pair whose
// key is sensitive. A quoted value is masked to its closing quote; any other
// to the end of the line, since a value may hold spaces, ',' or ';' and
// masking too much is the safe side. Keys inside values count too
// ("url=jdbc:…?user=x&password=y").
func (p *Policy) RedactLine(line string, secrets []string) string {
	line = p.maskString(line, secrets)
	if !strings.ContainsAny(line, "=:") {
		return line
	}
	var b strings.Builder
	rest := line
	for {
		m := assignment.FindStringSubmatchIndex(rest)
		if m == nil {
			break
		}
		key, v := rest[m[2]:m[3]], rest[m[1]:]
		b.WriteString(rest[:m[1]])
		rest = v
		if !p.IsSensitive(key) || strings.HasPrefix(v, Mask) {
			continue
		}
		b.WriteString(Mask)
		rest = ""
		if len(v) > 1 && (v[0] == '"' || v[0] == '\'') {
			if end := strings.IndexByte(v[1:], v[0]); end >= 0 {
				rest = v[end+2:]
			}
		}
	}
	b.WriteString(rest)
	return b.String()
}

// RedactJSON masks secrets in a Livy answer: values of sensitive keys in any
// "conf" object, sensitive pairs in any "log" array, and the given secret
// values in every string. It returns the body unchanged, byte for byte, when
// nothing needed masking, and an error only for a body that is not JSON.
func (p *Policy) RedactJSON(body []byte, secrets []string) ([]byte, error) {
	if !p.mayNeedMasking(body, secrets) {
		return body, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after the JSON value")
	}
	r := redactor{p: p, secrets: secrets}
	doc = r.walk(doc, "")
	if !r.changed {
		return body, nil
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return bytes.TrimRight(out.Bytes(), "\n"), nil
}

// mayNeedMasking is the fast path for the answers Sparkmagic polls for: a
// body with no secret value, no sensitive key name and no JSON escape (which
// could spell a key in disguise, as in "pass\u0077ord") has nothing to mask.
func (p *Policy) mayNeedMasking(body []byte, secrets []string) bool {
	if !p.clean.has(body) {
		// Only valid JSON is remembered, so a hit needs no second check;
		// anything else takes the slow path, which reports it.
		if !json.Valid(body) || bytes.Contains(body, []byte(`\u`)) || p.redact.Match(body) || bytes.Contains(body, []byte("eyJ")) {
			return true
		}
		p.clean.add(body)
	}
	if p.references != nil {
		for value := range p.references() {
			if bytes.Contains(body, []byte(value)) || needsEscape(value) {
				return true
			}
		}
	}
	for _, s := range secrets {
		if len(s) < minEchoLen {
			continue
		}
		// A secret with a quote or backslash stands escaped in the raw body.
		escaped, _ := json.Marshal(s)
		if bytes.Contains(body, []byte(s)) || bytes.Contains(body, escaped[1:len(escaped)-1]) {
			return true
		}
	}
	return false
}

type redactor struct {
	p       *Policy
	secrets []string
	changed bool
}

func (r *redactor) walk(v any, key string) any {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			if k == "conf" {
				r.maskConf(child)
			}
			t[k] = r.walk(child, k)
		}
	case []any:
		for i, child := range t {
			t[i] = r.walk(child, key)
		}
	case string:
		var masked string
		if key == "log" {
			masked = r.p.RedactLine(t, r.secrets)
		} else {
			masked = r.p.maskString(t, r.secrets)
		}
		if masked != t {
			r.changed = true
		}
		return masked
	}
	return v
}

func (r *redactor) maskConf(v any) {
	conf, ok := v.(map[string]any)
	if !ok {
		return
	}
	for k, val := range conf {
		switch s, isString := val.(string); {
		case r.p.IsSensitive(k) && val != Mask:
			conf[k] = Mask
			r.changed = true
		case isString:
			// A value may carry a secret under its own key (a JDBC URL's
			// password=…).
			if masked := r.p.RedactLine(s, nil); masked != s {
				conf[k] = masked
				r.changed = true
			}
		}
	}
}

// maskString masks secret values and tokens in s, and shows resolved secret
// references instead of their values.
func (p *Policy) maskString(s string, secrets []string) string {
	s = maskSecrets(s, secrets)
	if p.references != nil {
		for value, ref := range p.references() {
			s = strings.ReplaceAll(s, value, ref)
		}
	}
	if strings.Contains(s, "eyJ") {
		s = jwtLike.ReplaceAllString(s, Mask)
	}
	return s
}

// needsEscape reports a value that a JSON body may hold escaped, where a
// byte search for it would miss it.
func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x7f {
			return true
		}
	}
	return false
}

// maskSecrets replaces every secret value long enough to mask safely.
func maskSecrets(s string, secrets []string) string {
	for _, secret := range secrets {
		if len(secret) >= minEchoLen {
			s = strings.ReplaceAll(s, secret, Mask)
		}
	}
	return s
}

// cleanBodies remembers, exactly, bodies in which no key can be sensitive.
// Sparkmagic polls an idle session for byte-identical answers, and the
// case-insensitive scan is the costliest step of serving them.
type cleanBodies struct {
	mu    sync.RWMutex
	m     map[string]struct{}
	bytes int // of the bodies in m
}

// The bodies kept are bounded by their total size, not their number: a
// busy gateway sees a new body with every state change and log line of
// every session, and 4,096 bodies of up to 8 KiB each was up to 32 MiB held
// for a cache whose hits are the few idle sessions being polled.
const (
	cleanBodiesBudget = 1 << 20
	cleanBodyMaxBytes = 8 << 10
)

func (c *cleanBodies) has(body []byte) bool {
	c.mu.RLock()
	_, ok := c.m[string(body)]
	c.mu.RUnlock()
	return ok
}

func (c *cleanBodies) add(body []byte) {
	if len(body) > cleanBodyMaxBytes {
		return
	}
	c.mu.Lock()
	if c.m == nil || c.bytes+len(body) > cleanBodiesBudget {
		c.m, c.bytes = map[string]struct{}{}, 0
	}
	c.m[string(body)] = struct{}{}
	c.bytes += len(body)
	c.mu.Unlock()
}
