package config

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// What each syntax accepts, quoted by every invalid-value message.
const (
	wantSize     = "want a size in bytes with an optional K, M or G suffix (e.g. 256M)"
	wantDuration = "want a positive duration: milliseconds, or a number with ms, s, m or h (e.g. 30s)"
	wantBool     = "want true or false"
)

var errTooLarge = errors.New("too large")

const (
	kib = int64(1) << 10
	mib = int64(1) << 20
	gib = int64(1) << 30
)

// ParseSize reads a byte count: a non-negative integer with an optional K,
// M or G suffix (1024-based), case-insensitive, with an optional trailing B
// (`256M`, `2gb`, `10 KB`); a bare number, or one ending in B alone, is
// bytes.
func ParseSize(s string) (int64, error) {
	num, unit := splitNumber(strings.TrimSpace(s))
	if num == "" || strings.ContainsRune(num, '.') {
		return 0, errors.New(wantSize)
	}
	var mult int64
	switch strings.ToLower(unit) {
	case "", "b":
		mult = 1
	case "k", "kb":
		mult = kib
	case "m", "mb":
		mult = mib
	case "g", "gb":
		mult = gib
	default:
		return 0, errors.New(wantSize)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%w; %s", errTooLarge, wantSize)
	}
	return n * mult, nil
}

// FormatSize renders n in the largest unit that divides it exactly, so that
// ParseSize(FormatSize(n)) == n.
func FormatSize(n int64) string {
	switch {
	case n != 0 && n%gib == 0:
		return strconv.FormatInt(n/gib, 10) + "G"
	case n != 0 && n%mib == 0:
		return strconv.FormatInt(n/mib, 10) + "M"
	case n != 0 && n%kib == 0:
		return strconv.FormatInt(n/kib, 10) + "K"
	default:
		return strconv.FormatInt(n, 10)
	}
}

// ParseDuration reads the reference's human-readable time: a positive
// decimal number of milliseconds, or one followed by ms/msec, s/sec, m/min
// or h/hr (units case-insensitive, spaces allowed before the unit).
// Fractions are allowed (`1.5s`); the result is truncated to whole
// nanoseconds and must stay positive.
func ParseDuration(s string) (time.Duration, error) {
	num, unit := splitNumber(strings.TrimSpace(s))
	if num == "" {
		return 0, errors.New(wantDuration)
	}
	var mult time.Duration
	switch strings.ToLower(unit) {
	case "", "ms", "msec":
		mult = time.Millisecond
	case "s", "sec":
		mult = time.Second
	case "m", "min":
		mult = time.Minute
	case "h", "hr":
		mult = time.Hour
	default:
		return 0, errors.New(wantDuration)
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, errors.New(wantDuration)
	}
	r.Mul(r, new(big.Rat).SetInt64(int64(mult)))
	ns := new(big.Int).Quo(r.Num(), r.Denom()) // truncates toward zero
	if !ns.IsInt64() {
		return 0, fmt.Errorf("%w; %s", errTooLarge, wantDuration)
	}
	if ns.Sign() <= 0 {
		return 0, errors.New(wantDuration)
	}
	return time.Duration(ns.Int64()), nil
}

// FormatDuration renders a positive d in the largest of m, s and ms that
// divides it exactly, else as fractional milliseconds, so that
// ParseDuration(FormatDuration(d)) == d. Non-positive d renders as "0".
func FormatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	case d%time.Millisecond == 0:
		return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
	default:
		frac := strings.TrimRight(fmt.Sprintf("%06d", int64(d%time.Millisecond)), "0")
		return strconv.FormatInt(int64(d/time.Millisecond), 10) + "." + frac + "ms"
	}
}

// splitNumber splits "12.5 min" into "12.5" and "min". The number part is
// digits with at most one inner '.', and must start and end with a digit;
// anything else yields an empty number.
func splitNumber(s string) (num, unit string) {
	i, dot := 0, false
	for ; i < len(s); i++ {
		c := s[i]
		if c == '.' && !dot && i > 0 && i+1 < len(s) && isDigit(s[i+1]) {
			dot = true
			continue
		}
		if !isDigit(c) {
			break
		}
	}
	if i == 0 {
		return "", s
	}
	return s[:i], strings.TrimLeft(s[i:], " \t")
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, errors.New(wantBool)
}

// parseInt reads a decimal integer in [lo, hi]; want describes the range
// for the error message.
func parseInt(s string, lo, hi int64, want string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, errors.New(want)
	}
	return n, nil
}

// parseEnum returns the canonical spelling of s among choices, compared
// case-insensitively.
func parseEnum(s string, choices ...string) (string, error) {
	for _, c := range choices {
		if strings.EqualFold(strings.TrimSpace(s), c) {
			return c, nil
		}
	}
	return "", fmt.Errorf("want %s", orList(choices))
}

// orList renders [a b c] as "a, b or c".
func orList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}
