package service_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/shapesync/shapesync/chaos/service"
)

func TestParseStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		body string
		want service.Status
		err  string
	}{
		{"ok - spec example", `{"state":"live","reasons":[],"received_lsn":"0/16B3748","durable_lsn":"0/16B3748","acked_lsn":"0/16B3748"}`,
			service.Status{State: "live", Reasons: []string{}, ReceivedLSN: 0x16B3748, DurableLSN: 0x16B3748, AckedLSN: 0x16B3748}, ""},
		{"ok - high half and reasons", `{"state":"starting","reasons":["no connection: check DATABASE_URL"],"received_lsn":"16/B374D848","durable_lsn":"0/0","acked_lsn":"FFFFFFFF/FFFFFFFF"}`,
			service.Status{State: "starting", Reasons: []string{"no connection: check DATABASE_URL"}, ReceivedLSN: 0x16B374D848, AckedLSN: 0xFFFFFFFFFFFFFFFF}, ""},
		{"error - not JSON", `<html>`, service.Status{}, "parse /v1/status"},
		{"error - no state", `{"received_lsn":"0/1","durable_lsn":"0/1","acked_lsn":"0/1"}`, service.Status{}, "no state"},
		{"error - no durable_lsn", `{"state":"live","received_lsn":"0/1","acked_lsn":"0/1"}`, service.Status{}, "no durable_lsn"},
		{"error - LSN as a number", `{"state":"live","received_lsn":"0/1","durable_lsn":"0/1","acked_lsn":23}`, service.Status{}, "parse /v1/status"},
		{"error - bad LSN", `{"state":"live","received_lsn":"0/1","durable_lsn":"1","acked_lsn":"0/1"}`, service.Status{}, "durable_lsn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := service.ParseStatus([]byte(tc.body))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseStatus(%s) error = %v, want one containing %q", tc.body, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.State != tc.want.State || strings.Join(got.Reasons, "|") != strings.Join(tc.want.Reasons, "|") ||
				got.ReceivedLSN != tc.want.ReceivedLSN || got.DurableLSN != tc.want.DurableLSN || got.AckedLSN != tc.want.AckedLSN {
				t.Errorf("ParseStatus = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// ParseStatus never panics, and what it accepts survives a round trip
// through the wire form.
func FuzzParseStatus(f *testing.F) {
	f.Add([]byte(`{"state":"live","reasons":[],"received_lsn":"0/16B3748","durable_lsn":"0/16B3748","acked_lsn":"0/16B3748"}`))
	f.Add([]byte(`{"state":"fallback","reasons":["x"],"received_lsn":"FFFFFFFF/0","durable_lsn":"0/0","acked_lsn":"1/1"}`))
	f.Add([]byte(`{"state":null}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"state":"live","received_lsn":"/","durable_lsn":"0/","acked_lsn":"-1/1"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := service.ParseStatus(body)
		if err != nil {
			return
		}
		wire, err := json.Marshal(map[string]any{
			"state": s.State, "reasons": s.Reasons,
			"received_lsn": s.ReceivedLSN.String(), "durable_lsn": s.DurableLSN.String(), "acked_lsn": s.AckedLSN.String(),
		})
		if err != nil {
			t.Fatal(err)
		}
		back, err := service.ParseStatus(wire)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", wire, err)
		}
		if back.State != s.State || back.ReceivedLSN != s.ReceivedLSN || back.DurableLSN != s.DurableLSN || back.AckedLSN != s.AckedLSN {
			t.Fatalf("round trip changed %+v into %+v", s, back)
		}
	})
}
