package where

import "unicode/utf8"

// Case folding under the C ctype (the differential test's and
// ARCHITECTURE §1.4's locale) touches ASCII letters only.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

type likeResult int

const (
	likeFalse likeResult = iota
	likeTrue
	likeAbort
)

func errLikeEscape() error { return evalErr("LIKE pattern must not end with escape character") }

// matchLike is Postgres's MatchText (like_match.c) for UTF-8, step for
// step, so that it raises the trailing-escape error on exactly the same
// inputs (only when matching reaches the escape).
func matchLike(t, p string) (likeResult, error) {
	if p == "%" {
		return likeTrue, nil
	}
	nextChar := func(s string) string {
		_, n := utf8.DecodeRuneInString(s)
		return s[n:]
	}
	for len(t) > 0 && len(p) > 0 {
		switch p[0] {
		case '\\':
			p = p[1:]
			if len(p) == 0 {
				return 0, errLikeEscape()
			}
			if p[0] != t[0] {
				return likeFalse, nil
			}
		case '%':
			p = p[1:]
			for len(p) > 0 {
				if p[0] == '%' {
					p = p[1:]
				} else if p[0] == '_' {
					if len(t) == 0 {
						return likeAbort, nil
					}
					t = nextChar(t)
					p = p[1:]
				} else {
					break
				}
			}
			if len(p) == 0 {
				return likeTrue, nil
			}
			var first byte
			if p[0] == '\\' {
				if len(p) < 2 {
					return 0, errLikeEscape()
				}
				first = p[1]
			} else {
				first = p[0]
			}
			for len(t) > 0 {
				if t[0] == first {
					m, err := matchLike(t, p)
					if err != nil || m != likeFalse {
						return m, err
					}
				}
				t = nextChar(t)
			}
			return likeAbort, nil
		case '_':
			t = nextChar(t)
			p = p[1:]
			continue
		default:
			if p[0] != t[0] {
				return likeFalse, nil
			}
		}
		t, p = t[1:], p[1:]
	}
	if len(t) > 0 {
		return likeFalse, nil
	}
	for len(p) > 0 && p[0] == '%' {
		p = p[1:]
	}
	if len(p) == 0 {
		return likeTrue, nil
	}
	return likeAbort, nil
}
