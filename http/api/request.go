package api

import (
	"sort"
	"strconv"
	"strings"

	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/valyala/fasthttp"
)

// Protocol messages of SHAPE_API §5.6 (exact texts).
const (
	msgBlank           = "can't be blank"
	msgHandleBlank     = "can't be blank when offset != -1"
	msgLiveWithStart   = "can't be true when offset == -1"
	msgLiveWithNow     = "can't be true when offset is 'now'"
	msgSSEWithoutLive  = "can't be true unless live is also true"
	msgInvalid         = "is invalid"
	msgInvalidFormat   = "has invalid format"
	msgOutOfBounds     = "out of bounds for this shape"
	msgNotSupportedYet = "not supported yet"
	msgParamKeys       = "Parameters can only use numbers as keys"
	msgParamSequence   = "Parameters must be numbered sequentially, starting from 1"
)

// shapeRequest is a validated GET/HEAD /v1/shape request. It holds copies,
// never references into the fasthttp request.
type shapeRequest struct {
	def    ShapeDefinition
	offset lsn.LogOffset // meaningless when now
	now    bool          // offset=now
	handle string        // "" when absent or ignored (offset -1 / now)
	live   bool
	cursor string
}

// startsFresh reports an offset for which the handle is ignored (§6.3).
func (r *shapeRequest) startsFresh() bool { return r.now || r.offset.Before }

// queryValues is the query string with the last value of a repeated key
// winning, as in the reference's parameter decoding.
type queryValues map[string]string

func queryOf(args *fasthttp.Args) queryValues {
	q := make(queryValues, args.Len())
	for k, v := range args.All() {
		q[string(k)] = string(v)
	}
	return q
}

// value returns a parameter's value; empty or whitespace-only counts as
// absent (§5).
func (q queryValues) value(name string) (string, bool) {
	v, ok := q[name]
	if !ok || strings.TrimSpace(v) == "" {
		return "", false
	}
	return v, true
}

// flag applies the §5.4 truthiness: present means true unless it is exactly
// "false"; an empty value is true.
func (q queryValues) flag(name string) (set, present bool) {
	v, ok := q[name]
	if !ok {
		return false, false
	}
	return v != "false", true
}

// parseShapeRequest validates a request in the order of SHAPE_API §5.6, steps
// 1–5 as far as they need no catalog (table existence is the backend's),
// plus step 6's gate. Parameters not implemented yet answer "not supported
// yet" rather than being ignored, so no client is served a shape it did not
// ask for.
func parseShapeRequest(q queryValues) (shapeRequest, *InvalidRequestError) {
	var r shapeRequest
	errs := map[string][]string{}

	// Step 1: per-parameter format checks, reported together.
	offset, hasOffset := q.value("offset")
	switch {
	case !hasOffset:
		errs["offset"] = []string{msgBlank}
	case offset == "now":
		r.now = true
	default:
		o, err := lsn.ParseOffset(offset)
		if err != nil {
			errs["offset"] = []string{msgInvalidFormat}
		}
		r.offset = o
	}
	if v, ok := q.value("replica"); ok {
		switch v {
		case "default":
		case "full":
			r.def.Replica = ReplicaFull
		default:
			errs["replica"] = []string{msgInvalid}
		}
	}
	if v, ok := q.value("log"); ok {
		switch v {
		case "full":
		case "changes_only":
			errs["log"] = []string{msgNotSupportedYet}
		default:
			errs["log"] = []string{msgInvalid}
		}
	}
	if _, ok := q.value("params"); ok {
		errs["params"] = []string{msgInvalid} // must be params[n]=…, §5.5
	} else if w, ok := q.value("where"); ok {
		params, msg := bracketParams(q)
		if msg != "" {
			errs["params"] = []string{msg}
		}
		r.def.Where, r.def.Params = w, params
	}
	if len(errs) > 0 {
		return r, &InvalidRequestError{Errors: errs}
	}

	// Step 2: handle required unless the offset starts fresh.
	if h, ok := q.value("handle"); ok && !r.startsFresh() {
		r.handle = h
	} else if !r.startsFresh() {
		return r, InvalidParam("handle", msgHandleBlank)
	}

	// Step 3: live only continues from a position.
	r.live, _ = q.flag("live")
	if r.live && r.offset.Before && !r.now {
		return r, InvalidParam("live", msgLiveWithStart)
	}
	if r.live && r.now {
		return r, InvalidParam("live", msgLiveWithNow)
	}

	// Step 4: live_sse requires live (experimental_live_sse is consulted only
	// when live_sse is absent, §5.1).
	sse, present := q.flag("live_sse")
	if !present {
		sse, _ = q.flag("experimental_live_sse")
	}
	if sse && !r.live {
		return r, InvalidParam("live_sse", msgSSEWithoutLive)
	}
	if sse {
		return r, InvalidParam("live_sse", msgNotSupportedYet)
	}

	// Step 5: the definition (table syntax here, existence in the backend).
	table, ok := q.value("table")
	if !ok {
		return r, InvalidParam("table", msgBlank)
	}
	schema, name, err := ParseRelation(table)
	if err != nil {
		return r, InvalidParam("table", err.Error())
	}
	r.def.Schema, r.def.Table = schema, name
	if v, ok := q.value("columns"); ok {
		cols, err := parseColumns(v)
		if err != nil {
			return r, InvalidParam("columns", err.Error())
		}
		r.def.Columns = cols
	}
	// The where clause is parsed and type-checked by the backend, which
	// knows the table's columns.

	// Step 6: subset snapshots (§14) are a later issue.
	subset := ""
	for k := range q {
		if _, ok := q.value(k); ok && strings.HasPrefix(k, "subset__") && (subset == "" || k < subset) {
			subset = k // the smallest name, so the answer does not depend on map order
		}
	}
	if subset != "" {
		return r, InvalidParam(subset, msgNotSupportedYet)
	}

	r.cursor = q["cursor"]
	return r, nil
}

// bracketParams collects params[1]=…&params[2]=… (SHAPE_API §5.5) into the
// values of $1, $2, …; msg is the protocol's error text for keys that are
// not decimal numbers or not the sequence 1..N. Values are kept as given,
// an empty one included: it is the empty string, not an absent parameter.
func bracketParams(q queryValues) (params []string, msg string) {
	byNumber := map[int]string{}
	for k, v := range q {
		inner, ok := strings.CutPrefix(k, "params[")
		if !ok {
			continue
		}
		inner, ok = strings.CutSuffix(inner, "]")
		if !ok || inner == "" || strings.TrimLeft(inner, "0123456789") != "" {
			return nil, msgParamKeys
		}
		n, err := strconv.Atoi(inner)
		if err != nil {
			return nil, msgParamKeys // too many digits to be a position
		}
		byNumber[n] = v
	}
	numbers := make([]int, 0, len(byNumber))
	for n := range byNumber {
		numbers = append(numbers, n)
	}
	sort.Ints(numbers)
	for i, n := range numbers {
		if n != i+1 {
			return nil, msgParamSequence
		}
		params = append(params, byNumber[n])
	}
	return params, ""
}
