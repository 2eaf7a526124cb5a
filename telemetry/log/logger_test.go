package log

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func TestParseLevel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    zapcore.Level
		wantErr bool
	}{
		{name: "ok - empty is info", in: "", want: zapcore.InfoLevel},
		{name: "ok - info", in: "info", want: zapcore.InfoLevel},
		{name: "ok - debug", in: "debug", want: zapcore.DebugLevel},
		{name: "ok - warning", in: "warning", want: zapcore.WarnLevel},
		{name: "ok - warn", in: "warn", want: zapcore.WarnLevel},
		{name: "ok - error upper case", in: "ERROR", want: zapcore.ErrorLevel},
		{name: "error - unknown", in: "verbose", wantErr: true},
		{name: "error - fatal is not a config level", in: "fatal", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseLevel(tt.in)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "want error, warning, info or debug") {
					t.Fatalf("ParseLevel(%q) error = %v, want a message listing the levels", tt.in, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseLevel(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestNew_levelFiltering(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		level string
		want  []string // messages that must appear, in order
	}{
		{name: "ok - debug shows all", level: "debug", want: []string{"d", "i", "w", "e"}},
		{name: "ok - info drops debug", level: "info", want: []string{"i", "w", "e"}},
		{name: "ok - warning drops info", level: "warning", want: []string{"w", "e"}},
		{name: "ok - error only", level: "error", want: []string{"e"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			logger, _, err := New(tt.level, FormatJSON, &buf)
			if err != nil {
				t.Fatal(err)
			}
			logger.Debug("d")
			logger.Info("i")
			logger.Warn("w")
			logger.Error("e")
			if got := messages(t, &buf); strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("messages at %s = %v, want %v", tt.level, got, tt.want)
			}
		})
	}
}

func TestNew_atomicLevelChangesAtRunTime(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger, level, err := New("error", FormatJSON, &buf)
	if err != nil {
		t.Fatal(err)
	}
	logger.Info("before")
	level.SetLevel(zapcore.DebugLevel)
	logger.Debug("after")
	if got := messages(t, &buf); len(got) != 1 || got[0] != "after" {
		t.Fatalf("messages = %v, want only [after]", got)
	}
}

func TestNew_jsonShape(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger, _, err := New("info", FormatJSON, &buf)
	if err != nil {
		t.Fatal(err)
	}
	logger.Named("shapes").Named("consumer").Info("hello", zap.String("shape", "h-1"), zap.Int("n", 3))
	logger.Error("boom")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(lines), buf.String())
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatalf("line is not JSON: %v\n%s", err, lines[0])
	}
	want := map[string]any{"level": "info", "logger": "shapes.consumer", "msg": "hello", "shape": "h-1", "n": float64(3)}
	for k, v := range want {
		if first[k] != v {
			t.Errorf("%s = %#v, want %#v", k, first[k], v)
		}
	}
	caller, _ := first["caller"].(string)
	if !strings.Contains(caller, "logger_test.go:") {
		t.Errorf("caller = %q, want this test file", caller)
	}
	ts, _ := first["ts"].(string)
	if _, err := time.Parse("2006-01-02T15:04:05.000Z0700", ts); err != nil {
		t.Errorf("ts = %q is not ISO8601 with milliseconds: %v", ts, err)
	}

	var second map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatal(err)
	}
	if st, _ := second["stacktrace"].(string); !strings.Contains(st, "TestNew_jsonShape") {
		t.Errorf("error line stacktrace = %q, want one naming the test", st)
	}
}

func TestNew_noSampling(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger, _, err := New("info", FormatJSON, &buf)
	if err != nil {
		t.Fatal(err)
	}
	// zap's production sampler keeps the first 100 of a message per second.
	const n = 500
	for range n {
		logger.Info("same message")
	}
	if got := len(messages(t, &buf)); got != n {
		t.Fatalf("wrote %d lines, want %d (sampling must be off)", got, n)
	}
}

func TestNew_console(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger, _, err := New("info", FormatConsole, &buf)
	if err != nil {
		t.Fatal(err)
	}
	logger.Info("hello", zap.String("k", "v"))
	line := buf.String()
	if json.Valid([]byte(line)) {
		t.Fatalf("console line is JSON: %s", line)
	}
	for _, want := range []string{"INFO", "hello", `{"k": "v"}`} {
		if !strings.Contains(line, want) {
			t.Errorf("console line %q lacks %q", line, want)
		}
	}
}

func TestNew_errors(t *testing.T) {
	t.Parallel()
	if _, _, err := New("loud", FormatJSON, &bytes.Buffer{}); err == nil {
		t.Error("New with a bad level succeeded")
	}
	if _, _, err := New("info", Format(7), &bytes.Buffer{}); err == nil {
		t.Error("New with a bad format succeeded")
	}
}

func TestIsTerminal(t *testing.T) {
	t.Parallel()
	regular, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer regular.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()

	tests := []struct {
		name string
		f    *os.File
		want bool
	}{
		{name: "ok - regular file is not a terminal", f: regular, want: false},
		{name: "ok - pipe is not a terminal", f: w, want: false},
		{name: "ok - nil is not a terminal", f: nil, want: false},
		// A character device, like a tty: the Stat test cannot tell them apart.
		{name: "ok - /dev/null is a character device", f: devNull, want: true},
	}
	for _, tt := range tests {
		if got := IsTerminal(tt.f); got != tt.want {
			t.Errorf("%s: IsTerminal = %v, want %v", tt.name, got, tt.want)
		}
	}
	if FormatFor(regular) != FormatJSON || FormatFor(devNull) != FormatConsole {
		t.Error("FormatFor does not follow IsTerminal")
	}
}

// messages decodes every JSON line in buf and returns the msg fields.
func messages(t *testing.T, buf *bytes.Buffer) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m struct {
			Msg string `json:"msg"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %v: %s", err, line)
		}
		out = append(out, m.Msg)
	}
	return out
}
