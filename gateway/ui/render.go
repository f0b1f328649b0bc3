package ui

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/livygate/livygate/gateway/scope"
)

var pageNames = []string{"login", "error", "overview", "users", "sessions", "kill", "sync", "run", "audit", "keys"}

func parseTemplates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"ts": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04:05Z")
		},
		"ago":  ago,
		"join": strings.Join,
		"dur":  func(d time.Duration) string { return d.Round(time.Millisecond).String() },
		"plural": func(n int, one, many string) string {
			if n == 1 {
				return one
			}
			return many
		},
	}
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("ui: template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// ago is a short human age ("3m", "2h 5m", "4d").
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// render executes a page into a buffer first, so a template error becomes a
// clean 500 instead of half a page.
func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, name string, v *viewer, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	data["V"] = v
	data["Now"] = u.opts.Now()
	data["Nav"] = name
	data["Prefix"] = Prefix
	var buf bytes.Buffer
	if err := u.pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		scope.From(r.Context()).Fail("rendering the page failed")
		u.opts.Log.WithError(err).WithField("page", name).Error("ui: rendering failed")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

func (u *UI) errorPage(w http.ResponseWriter, r *http.Request, v *viewer, status int, msg string) {
	u.render(w, r, status, "error", v, map[string]any{"Title": http.StatusText(status), "Status": status, "Message": msg})
}

// badRequest refuses invalid input with a clear page.
func (u *UI) badRequest(w http.ResponseWriter, r *http.Request, v *viewer, msg string) {
	scope.From(r.Context()).Refuse("invalid input")
	u.errorPage(w, r, v, http.StatusBadRequest, msg)
}

// pageParam reads ?page=N (1-based).
func pageParam(r *http.Request) (int, error) {
	s := r.URL.Query().Get("page")
	if s == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 1_000_000 {
		return 0, fmt.Errorf("page must be a positive number, not %q", s)
	}
	return n, nil
}

// pager is the navigation of a paged list.
type pager struct {
	Page, Pages, Total int
	Prev, Next         string
}

func newPager(path string, q url.Values, page, per, total int) pager {
	p := pager{Page: page, Total: total, Pages: max(1, (total+per-1)/per)}
	link := func(n int) string {
		q2 := url.Values{}
		for k, v := range q {
			q2[k] = v
		}
		q2.Set("page", strconv.Itoa(n))
		return path + "?" + q2.Encode()
	}
	if page > 1 {
		p.Prev = link(page - 1)
	}
	if page < p.Pages {
		p.Next = link(page + 1)
	}
	return p
}
