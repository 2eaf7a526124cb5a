package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    int64
		wantErr string
	}{
		{name: "ok - bare bytes", in: "1024", want: 1024},
		{name: "ok - zero", in: "0", want: 0},
		{name: "ok - trailing B alone is bytes", in: "100B", want: 100},
		{name: "ok - K", in: "4K", want: 4096},
		{name: "ok - KB lower case", in: "4kb", want: 4096},
		{name: "ok - M", in: "256M", want: 256 << 20},
		{name: "ok - mB mixed case", in: "256mB", want: 256 << 20},
		{name: "ok - gb", in: "2gb", want: 2 << 30},
		{name: "ok - G", in: "2G", want: 2 << 30},
		{name: "ok - space before unit and around", in: " 10 MB ", want: 10 << 20},
		{name: "ok - leading zeros", in: "007K", want: 7 << 10},
		{name: "ok - largest G", in: "8589934591G", want: 8589934591 << 30},
		{name: "error - unknown suffix", in: "12Q", wantErr: wantSize},
		{name: "error - tebibytes not offered", in: "1T", wantErr: wantSize},
		{name: "error - KiB not offered", in: "1KiB", wantErr: wantSize},
		{name: "error - fraction", in: "1.5G", wantErr: wantSize},
		{name: "error - negative", in: "-1", wantErr: wantSize},
		{name: "error - plus sign", in: "+1", wantErr: wantSize},
		{name: "error - empty", in: "", wantErr: wantSize},
		{name: "error - unit only", in: "M", wantErr: wantSize},
		{name: "error - overflow by multiplier", in: "8589934592G", wantErr: "too large"},
		{name: "error - overflow of digits", in: "99999999999999999999", wantErr: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSize(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseSize(%q) = %d, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    time.Duration
		wantErr string
	}{
		{name: "ok - bare milliseconds", in: "20000", want: 20 * time.Second},
		{name: "ok - ms", in: "250ms", want: 250 * time.Millisecond},
		{name: "ok - msec", in: "250msec", want: 250 * time.Millisecond},
		{name: "ok - s", in: "30s", want: 30 * time.Second},
		{name: "ok - sec", in: "30sec", want: 30 * time.Second},
		{name: "ok - m", in: "10m", want: 10 * time.Minute},
		{name: "ok - min", in: "10min", want: 10 * time.Minute},
		{name: "ok - h", in: "2h", want: 2 * time.Hour},
		{name: "ok - hr", in: "2hr", want: 2 * time.Hour},
		{name: "ok - upper case unit", in: "5S", want: 5 * time.Second},
		{name: "ok - space before unit", in: "5 s", want: 5 * time.Second},
		{name: "ok - fraction", in: "1.5s", want: 1500 * time.Millisecond},
		{name: "ok - fraction of a millisecond", in: "0.25", want: 250 * time.Microsecond},
		{name: "ok - truncated to nanoseconds", in: "0.0000015ms", want: 1},
		{name: "error - zero", in: "0", wantErr: wantDuration},
		{name: "error - zero with unit", in: "0s", wantErr: wantDuration},
		{name: "error - below a nanosecond", in: "0.0000001ms", wantErr: wantDuration},
		{name: "error - negative", in: "-5s", wantErr: wantDuration},
		{name: "error - Go syntax", in: "1m30s", wantErr: wantDuration},
		{name: "error - unknown unit", in: "5d", wantErr: wantDuration},
		{name: "error - trailing dot", in: "5.", wantErr: wantDuration},
		{name: "error - leading dot", in: ".5s", wantErr: wantDuration},
		{name: "error - exponent", in: "1e3", wantErr: wantDuration},
		{name: "error - empty", in: "", wantErr: wantDuration},
		{name: "error - overflow", in: "9999999999h", wantErr: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseDuration(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseDuration(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	sizes := map[int64]string{0: "0", 1: "1", 1023: "1023", 1024: "1K", 1536: "1536", 256 << 20: "256M", 2 << 30: "2G", 10485760: "10M"}
	for n, want := range sizes {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
	durations := map[time.Duration]string{
		0: "0", -time.Second: "0", time.Minute: "1m", 90 * time.Second: "90s", 1500 * time.Millisecond: "1500ms",
		1500 * time.Microsecond: "1.5ms", 1: "0.000001ms", time.Hour: "60m",
	}
	for d, want := range durations {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// FuzzParseSize: no panic, and every accepted size survives FormatSize.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"256M", "2gb", "1024", "0", "10 KB", "12Q", "8589934592G", "", " 1b ", "1.5G", "-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			if !strings.Contains(err.Error(), wantSize) {
				t.Fatalf("ParseSize(%q) error %q does not say what it accepts", s, err)
			}
			return
		}
		if n < 0 {
			t.Fatalf("ParseSize(%q) = %d < 0", s, n)
		}
		back, err := ParseSize(FormatSize(n))
		if err != nil || back != n {
			t.Fatalf("round trip %q -> %d -> %q -> %d, %v", s, n, FormatSize(n), back, err)
		}
	})
}

// FuzzParseDuration: no panic, accepted durations are positive and
// survive FormatDuration.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"20000", "30s", "1.5 min", "10m", "2hr", "0", "-1s", "0.0000015ms", "9999999999h", "1m30s", "5.", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if !strings.Contains(err.Error(), wantDuration) {
				t.Fatalf("ParseDuration(%q) error %q does not say what it accepts", s, err)
			}
			return
		}
		if d <= 0 {
			t.Fatalf("ParseDuration(%q) = %v, want positive", s, d)
		}
		back, err := ParseDuration(FormatDuration(d))
		if err != nil || back != d {
			t.Fatalf("round trip %q -> %v -> %q -> %v, %v", s, d, FormatDuration(d), back, err)
		}
	})
}
