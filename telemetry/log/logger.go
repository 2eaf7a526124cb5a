package log

import (
	"fmt"
	"io"
	"os"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Format selects the encoder.
type Format int

const (
	// FormatJSON writes one JSON object per line, for collectors.
	FormatJSON Format = iota
	// FormatConsole writes tab-separated human-readable lines.
	FormatConsole
)

func (f Format) String() string {
	switch f {
	case FormatJSON:
		return "json"
	case FormatConsole:
		return "console"
	default:
		return fmt.Sprintf("Format(%d)", int(f))
	}
}

// IsTerminal reports whether f is a character device. That is how a
// terminal looks to Stat without a terminal library; /dev/null is also a
// character device, which is harmless because nothing written there is read.
func IsTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	info, err := f.Stat()
	if err != nil {
		return false
	}
	return info.Mode()&os.ModeCharDevice != 0
}

// FormatFor picks the console encoder for a terminal and JSON otherwise.
func FormatFor(f *os.File) Format {
	if IsTerminal(f) {
		return FormatConsole
	}
	return FormatJSON
}

// ParseLevel accepts the ELECTRIC_LOG_LEVEL values (SHAPE_API §23): error,
// warning (or warn), info and debug, case-insensitively. The empty string
// is info, the documented default.
func ParseLevel(s string) (zapcore.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "info":
		return zapcore.InfoLevel, nil
	case "debug":
		return zapcore.DebugLevel, nil
	case "warning", "warn":
		return zapcore.WarnLevel, nil
	case "error":
		return zapcore.ErrorLevel, nil
	default:
		return zapcore.InfoLevel, fmt.Errorf("log level %q: want error, warning, info or debug", s)
	}
}

// New builds the process logger writing to w (os.Stderr when nil). The
// returned AtomicLevel changes the level at run time (it is also an
// http.Handler for GET/PUT of the level). Writes to w are serialised, so w
// need not be safe for concurrent use. Call Sync on the logger at exit.
func New(level string, format Format, w io.Writer) (*zap.Logger, zap.AtomicLevel, error) {
	lvl, err := ParseLevel(level)
	if err != nil {
		return nil, zap.AtomicLevel{}, err
	}
	atomic := zap.NewAtomicLevelAt(lvl)

	encCfg := zap.NewProductionEncoderConfig()
	encCfg.EncodeTime = zapcore.ISO8601TimeEncoder
	var enc zapcore.Encoder
	switch format {
	case FormatJSON:
		enc = zapcore.NewJSONEncoder(encCfg)
	case FormatConsole:
		encCfg.EncodeLevel = zapcore.CapitalLevelEncoder
		enc = zapcore.NewConsoleEncoder(encCfg)
	default:
		return nil, zap.AtomicLevel{}, fmt.Errorf("log format %v: want FormatJSON or FormatConsole", format)
	}

	if w == nil {
		w = os.Stderr
	}
	sink := zapcore.Lock(zapcore.AddSync(w))
	// No sampler core: zap's production sampler drops repeats of a message
	// after 100/s, exactly the lines a crash investigation needs.
	core := zapcore.NewCore(enc, sink, atomic)
	logger := zap.New(core,
		zap.AddCaller(),
		zap.AddStacktrace(zapcore.ErrorLevel),
		zap.ErrorOutput(sink),
	)
	return logger, atomic, nil
}
