package filter

import (
	"fmt"
	"strings"
)

// arrayElements appends the non-NULL elements of a Postgres array in text
// form (array_out: optional "[l:u]…=" bounds, nested braces, comma
// delimiter, double-quoted elements with backslash escapes, unquoted NULL)
// to dst, flattening every dimension as @> does. NULL elements are dropped:
// they never equal a value. Arrays of types with another delimiter (box uses
// ';') must not be routed through Contains.
func arrayElements(text string, dst []string) ([]string, error) {
	p := arrayParser{s: text}
	p.skipBounds()
	p.skipSpace()
	if !p.eat('{') {
		return dst, fmt.Errorf("array text %q: want '{' at byte %d", text, p.i)
	}
	dst, err := p.list(dst)
	if err != nil {
		return dst, fmt.Errorf("array text %q: %w", text, err)
	}
	p.skipSpace()
	if p.i != len(p.s) {
		return dst, fmt.Errorf("array text %q: trailing text at byte %d", text, p.i)
	}
	return dst, nil
}

type arrayParser struct {
	s string
	i int
	b strings.Builder
}

func (p *arrayParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *arrayParser) skipSpace() {
	for p.i < len(p.s) && isArraySpace(p.s[p.i]) {
		p.i++
	}
}

// skipBounds skips the "[1:3][0:1]=" prefix array_out writes when a lower
// bound is not 1; the bounds do not change which elements the array holds.
func (p *arrayParser) skipBounds() {
	if p.i >= len(p.s) || p.s[p.i] != '[' {
		return
	}
	if eq := strings.IndexByte(p.s, '='); eq >= 0 {
		p.i = eq + 1
	}
}

// list parses the inside of one brace level; the '{' is already consumed.
func (p *arrayParser) list(dst []string) ([]string, error) {
	p.skipSpace()
	if p.eat('}') {
		return dst, nil
	}
	for {
		p.skipSpace()
		var err error
		switch {
		case p.eat('{'):
			dst, err = p.list(dst)
		case p.eat('"'):
			dst, err = p.quoted(dst)
		default:
			dst, err = p.unquoted(dst)
		}
		if err != nil {
			return dst, err
		}
		p.skipSpace()
		if p.eat('}') {
			return dst, nil
		}
		if !p.eat(',') {
			return dst, fmt.Errorf("want ',' or '}' at byte %d", p.i)
		}
	}
}

func (p *arrayParser) quoted(dst []string) ([]string, error) {
	p.b.Reset()
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch c {
		case '"':
			return append(dst, p.b.String()), nil
		case '\\':
			if p.i >= len(p.s) {
				return dst, fmt.Errorf("unfinished escape at end")
			}
			p.b.WriteByte(p.s[p.i])
			p.i++
		default:
			p.b.WriteByte(c)
		}
	}
	return dst, fmt.Errorf("unterminated quoted element")
}

func (p *arrayParser) unquoted(dst []string) ([]string, error) {
	p.b.Reset()
	start := p.i
	// trailing tracks the builder length up to the last non-space byte:
	// array_in trims whitespace around unquoted elements, but not escaped
	// whitespace.
	trailing := 0
	escaped := false
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == ',' || c == '}' {
			break
		}
		switch {
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return dst, fmt.Errorf("unfinished escape at end")
			}
			p.b.WriteByte(p.s[p.i+1])
			p.i += 2
			trailing = p.b.Len()
			escaped = true
			continue
		case c == '{' || c == '"':
			return dst, fmt.Errorf("unexpected %q at byte %d", c, p.i)
		}
		p.b.WriteByte(c)
		if !isArraySpace(c) {
			trailing = p.b.Len()
		}
		p.i++
	}
	if p.i == start {
		return dst, fmt.Errorf("empty element at byte %d", p.i)
	}
	elem := p.b.String()[:trailing]
	if !escaped && strings.EqualFold(elem, "NULL") {
		return dst, nil
	}
	return append(dst, elem), nil
}

func isArraySpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}
