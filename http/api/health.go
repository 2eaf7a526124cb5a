package api

import (
	"encoding/json"

	"github.com/valyala/fasthttp"
)

// serveHealth answers /v1/health (SHAPE_API §19): 200 active when live, 202
// with the state otherwise; HEAD gets the same status without a body.
func (h *Handler) serveHealth(ctx *fasthttp.RequestCtx) {
	st := h.status.Status()
	code, body := fasthttp.StatusAccepted, `{"status":"starting"}`
	switch st.State {
	case StateLive:
		code, body = fasthttp.StatusOK, `{"status":"active"}`
	case StateWaiting:
		body = `{"status":"waiting"}`
	case StateFallback:
		body = `{"status":"fallback"}`
	}
	writeJSON(ctx, code, cacheHealth, []byte(body))
}

type statusBody struct {
	State       string   `json:"state"`
	Reasons     []string `json:"reasons"`
	ReceivedLSN string   `json:"received_lsn"`
	DurableLSN  string   `json:"durable_lsn"`
	AckedLSN    string   `json:"acked_lsn"`
}

// serveStatus answers /v1/status (SHAPE_API §19) with LSNs in pg_lsn text.
func (h *Handler) serveStatus(ctx *fasthttp.RequestCtx) {
	st := h.status.Status()
	b := statusBody{
		State:       knownState(st.State),
		Reasons:     st.Reasons,
		ReceivedLSN: st.ReceivedLSN.String(),
		DurableLSN:  st.DurableLSN.String(),
		AckedLSN:    st.AckedLSN.String(),
	}
	if b.Reasons == nil {
		b.Reasons = []string{}
	}
	body, err := json.Marshal(b)
	if err != nil { // a struct of strings always marshals; keep the handler total anyway
		h.internalError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, cacheHealth, body)
}

func knownState(s string) string {
	switch s {
	case StateStarting, StateWaiting, StateLive, StateFallback:
		return s
	}
	return StateStarting
}
