// Package docs holds the operator documentation. Its test keeps the
// troubleshooting page honest: every message the gateway answers with
// respond.Error (or respond.LivyError) from a literal, every line the CLI
// writes to stderr from a literal, and every warning and error it logs must
// be listed in troubleshooting.md; and every relative link in docs/ and the
// top-level README must resolve.
package docs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// wild stands for any text in a message pattern: a %-verb, or a part of the
// message that is not a literal (a variable, err.Error(), a path).
const wild = "\x00"

// verb matches fmt's %-verbs (flags, width and precision included).
var verb = regexp.MustCompile(`%[-+# 0]*[0-9*]*(\.[0-9*]+)?[a-zA-Z%]`)

// cliHelpers are cmd/livygate's local closures that write their format
// argument to stderr behind a fixed prefix (tokenfetch.go): name → prefix.
var cliHelpers = map[string]string{
	"usageErr": "livygate token fetch: ",
	"fail":     "livygate: token fetch: ",
}

// message is one message pattern and where it was found.
type message struct {
	pattern string // literal text with wild for the variable parts
	where   string // file:line
}

// pattern turns an expression into a message pattern: string literals
// concatenated, fmt.Sprintf's format with its verbs as wildcards, anything
// else a wildcard. format says whether literal text is a format string.
func pattern(e ast.Expr, format bool) string {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return wild
		}
		s, err := strconv.Unquote(e.Value)
		if err != nil {
			return wild
		}
		if format {
			s = verb.ReplaceAllString(strings.ReplaceAll(s, "%%", "%"), wild)
		}
		return s
	case *ast.BinaryExpr:
		if e.Op == token.ADD {
			return pattern(e.X, format) + pattern(e.Y, format)
		}
	case *ast.ParenExpr:
		return pattern(e.X, format)
	case *ast.CallExpr:
		if isSel(e.Fun, "fmt", "Sprintf") && len(e.Args) > 0 {
			return pattern(e.Args[0], true)
		}
	}
	return wild
}

func isSel(e ast.Expr, pkg, name string) bool {
	s, ok := e.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	id, ok := s.X.(*ast.Ident)
	return ok && id.Name == pkg && s.Sel.Name == name
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

// hasText says whether a pattern holds something to look for besides
// wildcards and punctuation.
func hasText(p string) bool {
	return strings.IndexFunc(p, func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}) >= 0
}

// goFiles calls fn for every non-test Go file under dir.
func goFiles(t *testing.T, dir string, fn func(fset *token.FileSet, f *ast.File)) {
	t.Helper()
	fset := token.NewFileSet()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		fn(fset, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// gatewayMessages: the literal part of every message given to
// respond.Error(w, r, status, msg), respond.LivyError(w, status, msg) or
// http.Error(w, msg, status).
func gatewayMessages(t *testing.T) []message {
	var out []message
	goFiles(t, "../gateway", func(fset *token.FileSet, f *ast.File) {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			var arg ast.Expr
			switch {
			case isSel(call.Fun, "respond", "Error") && len(call.Args) == 4:
				arg = call.Args[3]
			case isSel(call.Fun, "respond", "LivyError") && len(call.Args) == 3:
				arg = call.Args[2]
			case isSel(call.Fun, "http", "Error") && len(call.Args) == 3:
				arg = call.Args[1] // the admin UI's plain-text answers
			default:
				return true
			}
			if p := pattern(arg, false); hasText(p) {
				out = append(out, message{p, fset.Position(call.Pos()).String()})
			}
			return true
		})
	})
	return out
}

// cliMessages: every line cmd/livygate writes to stderr from a literal:
// fmt.Fprint/Fprintln/Fprintf(stderr, …) and the token fetch helpers.
func cliMessages(t *testing.T) []message {
	var out []message
	goFiles(t, "../cmd/livygate", func(fset *token.FileSet, f *ast.File) {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			var p string
			switch {
			case (isSel(call.Fun, "fmt", "Fprintf") || isSel(call.Fun, "fmt", "Fprintln") || isSel(call.Fun, "fmt", "Fprint")) &&
				len(call.Args) > 1 && isIdent(call.Args[0], "stderr"):
				p = pattern(call.Args[1], isSel(call.Fun, "fmt", "Fprintf"))
				if isSel(call.Fun, "fmt", "Fprintln") {
					for _, a := range call.Args[2:] {
						p += " " + pattern(a, false)
					}
				}
			default:
				id, ok := call.Fun.(*ast.Ident)
				prefix, helper := cliHelpers[id.String()]
				if !ok || !helper {
					return true
				}
				lit := pattern(call.Args[0], true)
				if lit == wild {
					return true // fail("%v", err): the errors are listed one by one
				}
				p = prefix + lit
			}
			// The first line is the message (the usage may follow).
			p, _, _ = strings.Cut(strings.TrimLeft(p, "\n"), "\n")
			if hasText(p) {
				out = append(out, message{p, fset.Position(call.Pos()).String()})
			}
			return true
		})
	})
	return out
}

// logLevels are the logrus methods that print a warning or an error.
var logLevels = map[string]bool{
	"Warn": true, "Warnf": true, "Warning": true, "Warningf": true,
	"Error": true, "Errorf": true, "Fatal": true, "Fatalf": true,
}

// notLoggers are package and variable names whose Error/Errorf/Fatal are
// not log lines: fmt.Errorf, http.Error, respond.Error (listed above), a
// test's t.
var notLoggers = map[string]bool{"fmt": true, "http": true, "respond": true, "t": true}

// logMessages: the literal part of every warning or error the gateway logs
// (logrus's Warn, Error and their f forms) in the gateway, its adapters and
// cmd/livygate.
func logMessages(t *testing.T) []message {
	var out []message
	for _, dir := range []string{"../gateway", "../livy", "../hdfs", "../jupyterhub", "../cmd/livygate"} {
		goFiles(t, dir, func(fset *token.FileSet, f *ast.File) {
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) == 0 {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok || !logLevels[sel.Sel.Name] || notLoggers[receiverName(sel.X)] {
					return true
				}
				p := pattern(call.Args[0], strings.HasSuffix(sel.Sel.Name, "f"))
				if hasText(p) {
					out = append(out, message{p, fset.Position(call.Pos()).String()})
				}
				return true
			})
		})
	}
	return out
}

// receiverName is the last name of a method's receiver: "t" for s.t, "fmt"
// for fmt.
func receiverName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	}
	return ""
}

// matches says whether the page holds text matching the pattern, with each
// wildcard standing for any text on one line (including text the page
// writes as a placeholder such as NAME or `…`).
func matches(page, p string) bool {
	parts := strings.Split(p, wild)
	var re strings.Builder
	for i, part := range parts {
		if i > 0 {
			re.WriteString(`[^\n]*?`)
		}
		re.WriteString(regexp.QuoteMeta(part))
	}
	return regexp.MustCompile(re.String()).MatchString(page)
}

func TestTroubleshootingListsEveryMessage(t *testing.T) {
	page, err := os.ReadFile("troubleshooting.md")
	if err != nil {
		t.Fatal(err)
	}
	// The page may escape characters for Markdown tables; match the text
	// a reader sees.
	text := strings.NewReplacer(`\|`, `|`, `\*`, `*`, `\_`, `_`).Replace(string(page))
	msgs := append(gatewayMessages(t), cliMessages(t)...)
	msgs = append(msgs, logMessages(t)...)
	if len(msgs) < 40 {
		t.Fatalf("found only %d messages: the extraction is broken", len(msgs))
	}
	var missing []string
	for _, m := range msgs {
		if !matches(text, m.pattern) {
			missing = append(missing, m.where+": "+strings.ReplaceAll(m.pattern, wild, "…"))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("docs/troubleshooting.md does not list %d messages (… is any text); add each with its cause and fix:\n  %s",
			len(missing), strings.Join(missing, "\n  "))
	}
}

// link matches Markdown links and images: [text](target).
var link = regexp.MustCompile(`!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)

// anchor turns a heading into its GitHub anchor.
func anchor(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	var b strings.Builder
	for _, r := range h {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		case r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func anchors(t *testing.T, file string) map[string]bool {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	fence := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "```") {
			fence = !fence
		}
		if !fence && strings.HasPrefix(line, "#") {
			out[anchor(strings.TrimLeft(line, "#"))] = true
		}
	}
	return out
}

func TestRelativeLinksResolve(t *testing.T) {
	files, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../README.md")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		// Links inside code are not links.
		body := regexp.MustCompile("(?s)```.*?```|`[^`\n]*`").ReplaceAllString(string(b), "")
		for _, m := range link.FindAllStringSubmatch(body, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, frag, _ := strings.Cut(target, "#")
			dest := file
			if path != "" {
				dest = filepath.Join(filepath.Dir(file), path)
				if _, err := os.Stat(dest); err != nil {
					t.Errorf("%s: link %q: %s does not exist", file, target, dest)
					continue
				}
			}
			if frag != "" && strings.HasSuffix(dest, ".md") && !anchors(t, dest)[frag] {
				t.Errorf("%s: link %q: no heading #%s in %s", file, target, frag, dest)
			}
		}
	}
}
