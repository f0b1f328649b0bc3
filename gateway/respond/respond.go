// Package respond writes the gateway's own answers in Livy's shape, so every
// Livy client (Sparkmagic included) prints them.
package respond

import (
	"encoding/json"
	"net/http"

	"github.com/livygate/livygate/gateway/scope"
)

// errorBody is Livy's {"msg": …} plus the request id for support.
type errorBody struct {
	Msg       string `json:"msg"`
	RequestID string `json:"request_id,omitempty"`
}

// Error writes a JSON error answer.
func Error(w http.ResponseWriter, r *http.Request, status int, msg string) {
	JSON(w, status, errorBody{Msg: msg, RequestID: scope.From(r.Context()).RequestID})
}

// JSON writes v as a JSON answer.
func JSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"msg":"internal error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// LivyError writes exactly the body Livy itself would send, with no request
// id, so a refusal cannot be told apart from Livy's own answer (a non-owner's
// 404 must look like a session that does not exist).
func LivyError(w http.ResponseWriter, status int, msg string) {
	JSON(w, status, struct {
		Msg string `json:"msg"`
	}{msg})
}
