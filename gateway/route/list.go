package route

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"

	"github.com/livygate/livygate/gateway/limits"
	"github.com/livygate/livygate/livy"
)

// listAll is the page size asked of each backend: the Router merges whole
// lists, then pages the merged one as Livy would.
const listAll = "1000000"

// listed is one backend's list, or why it has none.
type listed struct {
	b     *backend
	items []json.RawMessage
	err   error
}

// list serves GET /sessions or /batches: every backend's items with their
// gateway ids, in id order, paged by the request's from and size (Livy's
// defaults 0 and 100), total counted over the merged list. A backend that
// is down is left out (logged); only when all are down is the list an
// error.
func (r *Router) list(req *http.Request, res livy.Resource) (*http.Response, error) {
	q := req.URL.Query()
	from, size := intParam(q.Get("from"), 0), intParam(q.Get("size"), 100)
	whole := req.Clone(req.Context())
	whole.URL.RawQuery = "from=0&size=" + listAll
	lists := make(chan listed, len(r.backends))
	for _, b := range r.backends {
		go func() { lists <- r.listOne(whole, b, res) }()
	}
	type entry struct {
		id  int
		raw json.RawMessage
	}
	var all []entry
	var failed []listed
	for range r.backends {
		l := <-lists
		if l.err != nil {
			failed = append(failed, l)
			continue
		}
		live := 0
		for _, raw := range l.items {
			var s livy.Brief
			if json.Unmarshal(raw, &s) != nil {
				continue
			}
			if limits.Live(s.State) {
				live++
			}
			id, err := r.sighted(req.Context(), incarnationOf(res, l.b.name, &s))
			if err != nil {
				continue // without an id it cannot be addressed: left out until the registry answers
			}
			if out, ok := withID(raw, id); ok {
				all = append(all, entry{id, out})
			}
		}
		l.b.remember(res, live)
	}
	if len(failed) == len(r.backends) {
		return nil, failed[0].err
	}
	for _, l := range failed {
		r.log.WithError(l.err).WithField("backend", l.b.name).Warnf("route: the %s list leaves out backend %s", res, l.b.name)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].id < all[j].id })
	page := struct {
		From     int               `json:"from"`
		Total    int               `json:"total"`
		Sessions []json.RawMessage `json:"sessions"`
	}{From: from, Total: len(all), Sessions: []json.RawMessage{}}
	for i := from; i >= 0 && i < len(all) && i < from+size; i++ {
		page.Sessions = append(page.Sessions, all[i].raw)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(page); err != nil {
		return nil, err
	}
	resp := &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json"}}, Request: req,
	}
	setBody(resp, bytes.TrimRight(buf.Bytes(), "\n"))
	return resp, nil
}

// listOne reads one backend's whole list.
func (r *Router) listOne(req *http.Request, b *backend, res livy.Resource) listed {
	resp, err := b.send(req, "/"+string(res))
	if err != nil {
		return listed{b: b, err: err}
	}
	body, err := readBody(resp)
	if err != nil {
		return listed{b: b, err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return listed{b: b, err: &livy.StatusError{Status: resp.StatusCode, Msg: string(body)}}
	}
	var page struct {
		Sessions []json.RawMessage `json:"sessions"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return listed{b: b, err: err}
	}
	return listed{b: b, items: page.Sessions}
}

// intParam reads a paging parameter, def when absent or not a number (the
// proxy has refused bad ones already).
func intParam(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}
