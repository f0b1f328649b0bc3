package ui

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/reaper"
	"github.com/livygate/livygate/gateway/scope"
	"github.com/livygate/livygate/gateway/store"
	"github.com/livygate/livygate/gateway/warm"
	"github.com/livygate/livygate/livy"
)

// flashes are the only messages a redirect may ask a page to show: fixed
// texts chosen by code, never text from the URL.
var flashes = map[string]string{
	"killed":       "killed",
	"sync-started": "The sync started. Reload this page to see its run when it finishes.",
	"dry-started":  "The dry run started. Reload this page to see its preview when it finishes.",
}

// usersPerPage and friends keep every page small enough to render fast.
const (
	usersPerPage   = 100
	auditPerPage   = 100
	runsPerPage    = 50
	resultsPerPage = 200
	exportMax      = 100_000
)

func (u *UI) overview(w http.ResponseWriter, r *http.Request, v *viewer) {
	ctx := r.Context()
	data := map[string]any{"Title": "Overview"}
	data["Probes"] = u.probes.get(ctx)
	if runs, err := u.opts.Store.Runs(ctx, 1, 0); err != nil {
		data["StoreError"] = err.Error()
	} else if len(runs) > 0 {
		data["LastRun"] = runs[0]
	}
	data["SyncConfigured"] = u.opts.Sync != nil
	data["SyncStatus"] = u.sync.status()
	sessions, batches, err := u.livy.get(ctx)
	if err != nil {
		data["LivyError"] = err.Error()
	} else {
		n, m := 0, 0
		for _, s := range sessions {
			if live(s.State) {
				n++
			}
		}
		for _, b := range batches {
			if live(b.State) {
				m++
			}
		}
		data["LiveSessions"], data["LiveBatches"] = n, m
	}
	if u.opts.Keys != nil {
		data["Keys"] = u.opts.Keys.List()
	}
	data["StoreStats"] = u.opts.Store.Stats()
	u.render(w, r, http.StatusOK, "overview", v, data)
}

type userRow struct {
	Name         string
	HubAdmin     bool
	HubActivity  time.Time
	LastAction   time.Time
	Home         store.Home
	HomeKnown    bool
	LiveSessions int
	LiveUnknown  bool
	AuditURL     string
}

func (u *UI) users(w http.ResponseWriter, r *http.Request, v *viewer) {
	ctx := r.Context()
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	page, err := pageParam(r)
	if err == nil {
		err = auth.CheckText("q", q, auth.MaxUsernameBytes)
	}
	if err != nil {
		u.badRequest(w, r, v, err.Error())
		return
	}
	data := map[string]any{"Title": "Users", "Q": q}
	hubUsers, err := u.hub.get(ctx)
	if err != nil {
		data["HubError"] = hubError(err)
	}
	lq := strings.ToLower(q)
	var match []int
	for i, hu := range hubUsers {
		if lq == "" || strings.Contains(strings.ToLower(hu.Name), lq) {
			match = append(match, i)
		}
	}
	from := min((page-1)*usersPerPage, len(match))
	to := min(from+usersPerPage, len(match))
	names := make([]string, 0, to-from)
	for _, i := range match[from:to] {
		names = append(names, hubUsers[i].Name)
	}
	homes, err := u.opts.Store.Homes(ctx, names)
	if err != nil {
		data["StoreError"] = err.Error()
	}
	last, err := u.opts.Store.LastActivity(ctx, names)
	if err != nil {
		data["StoreError"] = err.Error()
	}
	liveBy := map[string]int{}
	sessions, batches, livyErr := u.livy.get(ctx)
	for _, e := range append(append([]livy.Entry(nil), sessions...), batches...) {
		if live(e.State) {
			liveBy[e.User()]++
		}
	}
	rows := make([]userRow, 0, len(names))
	for _, i := range match[from:to] {
		hu := hubUsers[i]
		row := userRow{Name: hu.Name, HubAdmin: hu.Admin, LastAction: last[hu.Name],
			LiveSessions: liveBy[hu.Name], LiveUnknown: livyErr != nil,
			AuditURL: Prefix + "audit?" + url.Values{"user": {hu.Name}}.Encode()}
		if hu.LastActivity != nil {
			row.HubActivity = *hu.LastActivity
		}
		row.Home, row.HomeKnown = homes[hu.Name]
		rows = append(rows, row)
	}
	data["Rows"] = rows
	data["Backends"] = u.opts.BackendOf != nil
	data["Pager"] = newPager(Prefix+"users", url.Values{"q": {q}}, page, usersPerPage, len(match))
	u.render(w, r, http.StatusOK, "users", v, data)
}

func hubError(err error) string {
	if errors.Is(err, errNotConfigured) {
		return "JupyterHub is not configured (jupyterhub.url)."
	}
	return "Could not list the Hub's users: " + err.Error()
}

type sessionRow struct {
	Res     string
	Kind    string
	ID      int
	Name    string
	Backend string // with several Livy backends
	Owner   string
	State   string
	AppID   string
	SparkUI string
	Created time.Time
	Live    bool
	// Idle and Notebook are the reaper's view (interactive sessions only).
	Idle     string
	Notebook string
}

func (u *UI) sessionsPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	ctx := r.Context()
	data := map[string]any{"Title": "Sessions and batches"}
	if msg := r.URL.Query().Get("msg"); msg == "killed" {
		res, id, ok := parseTarget(r.URL.Query().Get("res"), r.URL.Query().Get("id"))
		if ok {
			data["Flash"] = fmt.Sprintf("%s %d was killed.", strings.ToUpper(noun(res)[:1])+noun(res)[1:], id)
		}
	}
	sessions, batches, err := u.livy.get(ctx)
	if err != nil {
		data["LivyError"] = livyError(err)
	}
	var rows []sessionRow
	add := func(res livy.Resource, entries []livy.Entry) {
		ids := make([]string, 0, len(entries))
		for _, e := range entries {
			ids = append(ids, strconv.Itoa(e.ID))
		}
		created, _ := u.opts.Store.CreatedAt(ctx, string(res), ids)
		for _, e := range entries {
			row := sessionRow{Res: string(res), Kind: e.Kind, ID: e.ID, Owner: e.User(), State: e.State,
				SparkUI: e.SparkUI(), Created: created[strconv.Itoa(e.ID)], Live: live(e.State)}
			if e.Name != nil {
				row.Name = *e.Name
			}
			if e.AppID != nil {
				row.AppID = *e.AppID
			}
			if u.opts.BackendOf != nil {
				row.Backend = u.opts.BackendOf(res, e.ID)
			}
			if res == livy.Batches {
				row.Kind = "batch"
			} else if row.Live {
				row.Idle, row.Notebook = u.reaperView(e.ID, row.Owner)
			}
			rows = append(rows, row)
		}
	}
	add(livy.Sessions, sessions)
	add(livy.Batches, batches)
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Res != rows[j].Res {
			return rows[i].Res > rows[j].Res // sessions first
		}
		return rows[i].ID > rows[j].ID
	})
	data["Rows"] = rows
	data["Backends"] = u.opts.BackendOf != nil
	if u.opts.Reaper != nil {
		data["Reaper"] = u.opts.Reaper.Status()
	}
	if u.opts.Warm != nil {
		data["Warm"] = warmView(u.opts.Warm.Status(ctx), u.opts.Warm.Config())
	}
	u.render(w, r, http.StatusOK, "sessions", v, data)
}

// reaperView is a live session's idle time and its owner's notebook state
// as the reaper sees them ("" when the reaper is off).
func (u *UI) reaperView(id int, owner string) (idle, notebook string) {
	if u.opts.Reaper == nil {
		return "", ""
	}
	idle = "not idle"
	if d, ok := u.opts.Reaper.IdleFor(id); ok {
		idle = reaper.Short(d)
	}
	nb := u.opts.Reaper.NotebookOf(owner)
	notebook = nb.State
	if nb.State == "stopped" {
		notebook = "stopped " + reaper.Short(u.opts.Now().Sub(nb.Since)) + " ago"
	}
	return idle, notebook
}

func livyError(err error) string {
	if errors.Is(err, errNotConfigured) {
		return "Livy is not configured."
	}
	return "Could not list Livy's sessions: " + err.Error()
}

func noun(res livy.Resource) string {
	if res == livy.Batches {
		return "batch"
	}
	return "session"
}

// parseTarget validates the {res}/{id} of a kill.
func parseTarget(res, id string) (livy.Resource, int, bool) {
	n, err := strconv.Atoi(id)
	if err != nil || n < 0 || strconv.Itoa(n) != id {
		return "", 0, false
	}
	switch livy.Resource(res) {
	case livy.Sessions, livy.Batches:
		return livy.Resource(res), n, true
	}
	return "", 0, false
}

// find looks the target up in Livy's list, for the confirmation page and
// for the audit trail's proxy_user.
func (u *UI) find(ctx context.Context, res livy.Resource, id int) (*livy.Entry, error) {
	sessions, batches, err := u.livy.get(ctx)
	if err != nil {
		return nil, err
	}
	list := sessions
	if res == livy.Batches {
		list = batches
	}
	for _, e := range list {
		if e.ID == id {
			return &e, nil
		}
	}
	return nil, nil
}

func (u *UI) killConfirm(w http.ResponseWriter, r *http.Request, v *viewer) {
	res, id, ok := parseTarget(r.PathValue("res"), r.PathValue("id"))
	if !ok {
		u.badRequest(w, r, v, "Not a session or batch: "+r.PathValue("res")+"/"+r.PathValue("id"))
		return
	}
	u.livy.forget()
	e, err := u.find(r.Context(), res, id)
	switch {
	case err != nil:
		u.errorPage(w, r, v, http.StatusBadGateway, livyError(err))
		return
	case e == nil:
		u.errorPage(w, r, v, http.StatusNotFound, fmt.Sprintf("Livy has no %s %d.", noun(res), id))
		return
	}
	u.render(w, r, http.StatusOK, "kill", v, map[string]any{
		"Title": "Kill " + noun(res), "Res": string(res), "Noun": noun(res), "Entry": e,
		"Action": fmt.Sprintf("%ssessions/%s/%d/kill", Prefix, res, id),
	})
}

func (u *UI) kill(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc := scope.From(r.Context())
	res, id, ok := parseTarget(r.PathValue("res"), r.PathValue("id"))
	if !ok {
		u.badRequest(w, r, v, "Not a session or batch: "+r.PathValue("res")+"/"+r.PathValue("id"))
		return
	}
	if u.opts.Livy == nil {
		u.errorPage(w, r, v, http.StatusNotFound, livyError(errNotConfigured))
		return
	}
	sc.SessionID = strconv.Itoa(id)
	if e, err := u.find(r.Context(), res, id); err == nil && e != nil {
		sc.ProxyUser = e.User()
	}
	err := u.opts.Livy.Delete(r.Context(), res, id)
	u.livy.forget()
	switch {
	case livy.IsNotFound(err):
		sc.Refuse("no such " + noun(res))
		u.errorPage(w, r, v, http.StatusNotFound, fmt.Sprintf("Livy has no %s %d (it may have ended already).", noun(res), id))
		return
	case err != nil:
		sc.Fail("livy: " + err.Error())
		u.errorPage(w, r, v, http.StatusBadGateway, fmt.Sprintf("Livy did not kill %s %d: %v", noun(res), id, err))
		return
	}
	http.Redirect(w, r, fmt.Sprintf("%ssessions?msg=killed&res=%s&id=%d", Prefix, res, id), http.StatusSeeOther)
}

func (u *UI) syncPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	page, err := pageParam(r)
	if err != nil {
		u.badRequest(w, r, v, err.Error())
		return
	}
	data := map[string]any{"Title": "Sync", "Configured": u.opts.Sync != nil, "Status": u.sync.status()}
	if f, ok := flashes[r.URL.Query().Get("msg")]; ok {
		data["Flash"] = f
	}
	runs, err := u.opts.Store.Runs(r.Context(), runsPerPage+1, (page-1)*runsPerPage)
	if err != nil {
		data["StoreError"] = err.Error()
	}
	p := pager{Page: page, Pages: page}
	if page > 1 {
		p.Prev = fmt.Sprintf("%ssync?page=%d", Prefix, page-1)
	}
	if len(runs) > runsPerPage {
		runs = runs[:runsPerPage]
		p.Next = fmt.Sprintf("%ssync?page=%d", Prefix, page+1)
		p.Pages = page + 1
	}
	data["Runs"], data["Pager"] = runs, p
	u.render(w, r, http.StatusOK, "sync", v, data)
}

func (u *UI) syncRun(w http.ResponseWriter, r *http.Request, v *viewer) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	page, perr := pageParam(r)
	if err != nil || id <= 0 || perr != nil {
		u.badRequest(w, r, v, "Not a run id or page.")
		return
	}
	run, err := u.opts.Store.Run(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		u.errorPage(w, r, v, http.StatusNotFound, fmt.Sprintf("There is no sync run %d.", id))
		return
	}
	if err != nil {
		u.errorPage(w, r, v, http.StatusInternalServerError, "Reading the run failed: "+err.Error())
		return
	}
	from := min((page-1)*resultsPerPage, len(run.Results))
	to := min(from+resultsPerPage, len(run.Results))
	u.render(w, r, http.StatusOK, "run", v, map[string]any{
		"Title": fmt.Sprintf("Sync run %d", id), "Run": run, "Results": run.Results[from:to],
		"Pager": newPager(fmt.Sprintf("%ssync/%d", Prefix, id), url.Values{}, page, resultsPerPage, len(run.Results)),
	})
}

func (u *UI) syncNow(dryRun bool) func(http.ResponseWriter, *http.Request, *viewer) {
	return func(w http.ResponseWriter, r *http.Request, v *viewer) {
		sc := scope.From(r.Context())
		if u.opts.Sync == nil {
			sc.Refuse("sync is not configured")
			u.errorPage(w, r, v, http.StatusConflict, "The user sync is not configured (jupyterhub.url and hdfs.namenodes).")
			return
		}
		if !u.sync.start(dryRun, v.Identity.User, u.opts.Now()) {
			sc.Refuse("a sync is already running")
			u.errorPage(w, r, v, http.StatusConflict, "A sync is already running; wait for it to finish.")
			return
		}
		trigger := "admin:" + v.Identity.User
		go func() {
			defer u.sync.done()
			ctx, cancel := context.WithTimeout(context.Background(), u.opts.SyncTimeout)
			defer cancel()
			run, _ := u.opts.Sync.Run(ctx, dryRun)
			if u.opts.OnRun != nil && run != nil {
				u.opts.OnRun(run, trigger)
			}
		}()
		msg := "sync-started"
		if dryRun {
			msg = "dry-started"
		}
		http.Redirect(w, r, Prefix+"sync?msg="+msg, http.StatusSeeOther)
	}
}

// Actions offered in the audit filter (any ActionOf value is accepted).
var auditActions = []string{"create session", "create batch", "delete session", "delete batch",
	"run statement", "cancel statement", "read session", "read batch", "list sessions", "list batches",
	"admin kill session", "admin kill batch", "admin sync now", "admin sync dry-run", "admin login", "admin logout"}

var outcomes = []string{scope.OutcomeOK, scope.OutcomeRefused, scope.OutcomeError}

// timeLayouts are what the filter's time fields accept, read as UTC.
var timeLayouts = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"}

func parseTime(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%s must be a time like 2026-01-31T14:00 (UTC), not %q", name, s)
}

func (u *UI) auditPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	qs := r.URL.Query()
	f := store.AuditQuery{User: strings.TrimSpace(qs.Get("user")), Action: qs.Get("action"), Outcome: qs.Get("outcome")}
	format := qs.Get("format")
	page, err := pageParam(r)
	var errs []string
	if err != nil {
		errs = append(errs, err.Error())
	}
	if err := auth.CheckText("user", f.User, auth.MaxUsernameBytes); err != nil {
		errs = append(errs, err.Error())
	}
	if err := auth.CheckText("action", f.Action, 64); err != nil {
		errs = append(errs, err.Error())
	}
	if f.Outcome != "" && f.Outcome != scope.OutcomeOK && f.Outcome != scope.OutcomeRefused && f.Outcome != scope.OutcomeError {
		errs = append(errs, fmt.Sprintf("outcome must be ok, refused or error, not %q", f.Outcome))
	}
	if f.From, err = parseTime("from", qs.Get("from")); err != nil {
		errs = append(errs, err.Error())
	}
	if f.To, err = parseTime("to", qs.Get("to")); err != nil {
		errs = append(errs, err.Error())
	}
	if format != "" && format != "csv" && format != "json" {
		errs = append(errs, fmt.Sprintf("format must be csv or json, not %q", format))
	}
	if len(errs) > 0 {
		u.badRequest(w, r, v, strings.Join(errs, "; "))
		return
	}
	if format != "" {
		u.export(w, r, f, format)
		return
	}
	f.Limit, f.Offset = auditPerPage, (page-1)*auditPerPage
	events, total, err := u.opts.Store.Audit(r.Context(), f)
	data := map[string]any{"Title": "Audit", "F": f, "From": qs.Get("from"), "To": qs.Get("to"),
		"Actions": auditActions, "Outcomes": outcomes, "Events": events}
	if err != nil {
		data["StoreError"] = err.Error()
	}
	keep := url.Values{}
	for _, k := range []string{"user", "action", "outcome", "from", "to"} {
		if qs.Get(k) != "" {
			keep.Set(k, qs.Get(k))
		}
	}
	data["Pager"] = newPager(Prefix+"audit", keep, page, auditPerPage, total)
	exp := url.Values{}
	for k, vs := range keep {
		exp[k] = vs
	}
	exp.Set("format", "csv")
	data["CSV"] = Prefix + "audit?" + exp.Encode()
	exp.Set("format", "json")
	data["JSON"] = Prefix + "audit?" + exp.Encode()
	u.render(w, r, http.StatusOK, "audit", v, data)
}

// exportRecord is one event in the JSON export; the field names are the log's.
type exportRecord struct {
	ID        int64     `json:"id"`
	Time      time.Time `json:"time"`
	RequestID string    `json:"request_id"`
	User      string    `json:"user"`
	Client    string    `json:"client"`
	Method    string    `json:"method"`
	Path      string    `json:"path"`
	SessionID string    `json:"session_id"`
	ProxyUser string    `json:"proxy_user"`
	Action    string    `json:"action"`
	Outcome   string    `json:"outcome"`
	Reason    string    `json:"reason"`
	Status    int       `json:"status"`
	Subject   string    `json:"subject"`
	Note      string    `json:"note"`
}

func (u *UI) export(w http.ResponseWriter, r *http.Request, f store.AuditQuery, format string) {
	f.Limit = exportMax
	events, _, err := u.opts.Store.Audit(r.Context(), f)
	if err != nil {
		scope.From(r.Context()).Fail("store: " + err.Error())
		http.Error(w, "reading the audit trail failed", http.StatusInternalServerError)
		return
	}
	name := "livygate-audit-" + u.opts.Now().UTC().Format("20060102T150405Z") + "." + format
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	if format == "json" {
		out := make([]exportRecord, 0, len(events))
		for _, e := range events {
			out = append(out, exportRecord{e.ID, e.Time.UTC(), e.RequestID, e.User, e.ClientAddr, e.Method, e.Path,
				e.SessionID, e.ProxyUser, e.Action, e.Outcome, e.Reason, e.Status, e.Subject, e.Note})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "time", "request_id", "user", "client", "method", "path", "session_id", "proxy_user", "action", "outcome", "reason", "status", "subject", "note"})
	for _, e := range events {
		_ = cw.Write([]string{strconv.FormatInt(e.ID, 10), e.Time.UTC().Format(time.RFC3339Nano), cell(e.RequestID), cell(e.User),
			cell(e.ClientAddr), cell(e.Method), cell(e.Path), cell(e.SessionID), cell(e.ProxyUser), cell(e.Action),
			cell(e.Outcome), cell(e.Reason), strconv.Itoa(e.Status), cell(e.Subject), cell(e.Note)})
	}
	cw.Flush()
}

// cell defuses spreadsheet formulas: a user name or path is data, never a
// formula when an administrator opens the export.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// mintsShown is how many recent token mints the Keys page lists.
const mintsShown = 50

func (u *UI) keysPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	data := map[string]any{"Title": "Signing keys"}
	if u.opts.Keys != nil {
		data["Configured"] = true
		data["Keys"] = u.opts.Keys.List()
	}
	mints, err := u.opts.Store.Mints(r.Context(), mintsShown)
	if err != nil {
		data["StoreError"] = err.Error()
	}
	data["Mints"] = mints
	u.render(w, r, http.StatusOK, "keys", v, data)
}

func (u *UI) keyPEM(w http.ResponseWriter, r *http.Request, v *viewer) {
	kid, ok := strings.CutSuffix(r.PathValue("file"), ".pem")
	if !ok || u.opts.Keys == nil {
		u.errorPage(w, r, v, http.StatusNotFound, "There is no such key.")
		return
	}
	for _, k := range u.opts.Keys.List() {
		if k.Kid == kid && len(k.PublicPEM) > 0 {
			w.Header().Set("Content-Type", "application/x-pem-file")
			w.Header().Set("Content-Disposition", `attachment; filename="`+safeFileName(kid)+`.pem"`)
			_, _ = w.Write(k.PublicPEM)
			return
		}
	}
	u.errorPage(w, r, v, http.StatusNotFound, "There is no such key.")
}

func safeFileName(s string) string {
	return strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' {
			return c
		}
		return '_'
	}, s)
}

// warmPage is the warm sessions' part of the Sessions page.
type warmPage struct {
	warm.Status
	Config warm.Config
	// Rate is the adoption rate ("" before the first start).
	Rate string
}

func warmView(s warm.Status, c warm.Config) warmPage {
	p := warmPage{Status: s, Config: c}
	if r := s.AdoptionRate(); r >= 0 {
		p.Rate = fmt.Sprintf("%.0f%%", 100*r)
	}
	return p
}
