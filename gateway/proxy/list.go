package proxy

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/livygate/livygate/gateway/respond"
	"github.com/livygate/livygate/gateway/scope"
	"github.com/livygate/livygate/livy"
)

// listAll is the page size the gateway asks Livy for, so that it can filter
// the whole list and then page it itself. Livy computes from+size as an Int.
const listAll = 1_000_000

// listPage is Livy's list answer. The gateway rewrites it with the caller's
// items only, and from/total counted over that filtered list.
type listPage struct {
	From     int               `json:"from"`
	Total    int               `json:"total"`
	Sessions []json.RawMessage `json:"sessions"`
}

// list serves GET /sessions and GET /batches: the caller's own only (admins:
// all), paged as Livy pages (from default 0, size default 100).
func (p *Proxy) list(w http.ResponseWriter, r *http.Request, res livy.Resource) {
	q := r.URL.Query()
	from, err1 := intParam(q.Get("from"), 0)
	size, err2 := intParam(q.Get("size"), 100)
	if err1 != nil || err2 != nil || from < 0 {
		scope.From(r.Context()).Refuse("bad paging")
		respond.Error(w, r, http.StatusBadRequest, "from and size must be whole numbers, from not negative")
		return
	}
	q.Set("from", "0")
	q.Set("size", strconv.Itoa(listAll))
	r.URL.RawQuery = q.Encode()
	sc := scope.From(r.Context())
	p.forward(w, r, func(resp *http.Response) error {
		if resp.StatusCode != http.StatusOK {
			return p.redactBody(resp, nil)
		}
		return p.filterList(resp, res, sc, from, size)
	})
}

func intParam(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	return strconv.Atoi(s)
}

func (p *Proxy) filterList(resp *http.Response, res livy.Resource, sc *scope.Scope, from, size int) error {
	body, err := readAnswer(resp)
	if err != nil {
		return err
	}
	var page listPage
	if err := json.Unmarshal(body, &page); err != nil {
		return &answerError{status: http.StatusBadGateway, msg: "Livy's list answer is not a list"}
	}
	mine := make([]json.RawMessage, 0, len(page.Sessions))
	pol := p.policyFor(sc)
	for _, raw := range page.Sessions {
		var s livy.Session
		if err := json.Unmarshal(raw, &s); err != nil {
			return &answerError{status: http.StatusBadGateway, msg: "Livy's list holds an item that is not a session"}
		}
		o := p.ownerOf(&s)
		p.owners.put(res, s.ID, o)
		if !sc.Identity.Admin && (o.user != sc.Identity.User || p.hidden(o.name)) {
			continue
		}
		raw = renameInBody(raw, s.SessionName(), o.user, sc.Identity.User)
		redacted, err := pol.RedactJSON(raw, o.secrets)
		if err != nil {
			return &answerError{status: http.StatusBadGateway, msg: "Livy's list holds an item that is not JSON"}
		}
		mine = append(mine, redacted)
	}
	out := listPage{From: from, Total: len(mine), Sessions: pageOf(mine, from, size)}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return err
	}
	b := bytes.TrimRight(buf.Bytes(), "\n")
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
	return nil
}

// pageOf slices items as Livy does (items[from:from+size], clipped; a
// negative size gives nothing).
func pageOf(items []json.RawMessage, from, size int) []json.RawMessage {
	if from >= len(items) || size < 0 {
		return []json.RawMessage{}
	}
	end := len(items)
	if from+size < end {
		end = from + size
	}
	return items[from:end]
}
