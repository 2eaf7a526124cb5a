package where

// Generator branches of the differential test for float4 / float8, the
// operators ^ |/ @ & | # ~ << >>, bytea, bpchar and name.

func (g *exprGen) float(d int) string {
	if d <= 0 {
		return g.pick("f4", "f8", "f4", "f8", "1.5::float8", "'NaN'::float8", "'-Infinity'::float8", "'Infinity'::real",
			"'1e308'::float8", "'3.4e38'::float4", "'1e-45'::float4", "0.1::float4", "(-0.0)::float8", "'-0'::float8",
			g.param()+"::float8", "'16777217'::float4", "2.5::double precision")
	}
	switch g.r.IntN(7) {
	case 0, 1:
		return "(" + g.float(d-1) + " " + g.pick("+", "-", "*", "/") + " " + g.pick(g.float(d-1), g.num(d-1)) + ")"
	case 2:
		return "(" + g.pick(g.num(d-1), g.text(d-1)) + ")::" + g.pick("float4", "float8", "real", "double precision", "float")
	case 3:
		return "(" + g.float(d-1) + ")::" + g.pick("int2", "int4", "int8", "numeric")
	case 4:
		return "(- " + g.float(d-1) + ")"
	case 5:
		return g.mathExpr(d)
	}
	return g.float(0)
}

func (g *exprGen) integer(d int) string {
	if d <= 0 {
		return g.pick("i4", "i2", "i8", "1", "-1", "7", "2147483647", "(-32768)::int2", "9223372036854775807", "(-8)", "i4")
	}
	switch g.r.IntN(4) {
	case 0:
		return "(" + g.num(d-1) + ")::" + g.pick("int2", "int4", "int8")
	case 1:
		return g.mathExpr(d)
	}
	return g.integer(0)
}

func (g *exprGen) mathExpr(d int) string {
	if d <= 0 {
		d = 1
	}
	switch g.r.IntN(6) {
	case 0:
		return "(" + g.pick(g.float(d-1), g.integer(d-1)) + " ^ " +
			g.pick(g.float(d-1), g.integer(d-1), "0.5::float8", "2", "-1", "1024", "'NaN'::float8", "(1.0/3)::float8", "-1075") + ")"
	case 1:
		return "(|/ " + g.pick(g.float(d-1), g.integer(d-1)) + ")"
	case 2:
		return "(@ " + g.num(d-1) + ")"
	case 3:
		return "(" + g.integer(d-1) + " " + g.pick("&", "|", "#") + " " + g.integer(d-1) + ")"
	case 4:
		return "(" + g.integer(d-1) + " " + g.pick("<<", ">>") + " " +
			g.pick("1", "31", "32", "33", "-1", "15", "16", "17", "63", "64", "i2", "(i4 % 70)", "'3'") + ")"
	}
	return "(~ " + g.integer(d-1) + ")"
}

func (g *exprGen) bytea(d int) string {
	if d <= 0 {
		return g.pick("by", "by", `'\x00'::bytea`, `'\x0102'::bytea`, `'abc'::bytea`, `'\001\377'::bytea`, `'\x'::bytea`,
			`'\x 41 '::bytea`, `'\xFF'::bytea`, "NULL::bytea")
	}
	switch g.r.IntN(5) {
	case 0:
		return "(" + g.bytea(d-1) + " || " + g.pick(g.bytea(d-1), `'\x7f'`, `'a\\b'`) + ")"
	case 1:
		return "(" + g.text(d-1) + ")::bytea"
	case 2:
		return "coalesce(" + g.bytea(d-1) + ", " + g.bytea(d-1) + ")"
	}
	return g.bytea(0)
}

func (g *exprGen) byteaCmp(d int) string {
	switch g.r.IntN(4) {
	case 0:
		return "(" + g.bytea(d-1) + ")::text " + g.cmp() + " " + g.text(d-1)
	case 1:
		return g.bytea(d-1) + g.pick(" IN (", " NOT IN (") + g.bytea(d-1) + ", " + g.bytea(d-1) + ")"
	}
	return g.bytea(d-1) + " " + g.cmp() + " " + g.pick(g.bytea(d-1), `'\x01'`, `'\x'`, g.param())
}

func (g *exprGen) textLikeCmp(d int) string {
	side := func() string {
		return g.pick("c", "c", "nm", "nm", "'ab'", "'ab  '", "'a'::bpchar", "'ab '::bpchar", "s", "v", "(s)::bpchar", "(v)::name",
			"concat(c, '')", "(c)::text", "coalesce(c, s)", "coalesce(s, c)", "coalesce(c, v)", "coalesce(c, nm)", "greatest(c, 'ab ')",
			"lower(c)", "(c || '|')", "(nm || 'x')", g.param(), "(c)::varchar", "(c)::name", "(nm)::bpchar", "(b)::name", "(b)::bpchar",
			"(i4)::bpchar", "(by)::bpchar", "(u)::name")
	}
	switch g.r.IntN(5) {
	case 0:
		return side() + g.pick(" LIKE ", " ILIKE ", " NOT LIKE ") + g.pick("'ab'", "'ab%'", "'ab  '", "'%  '", "c", "s", "nm")
	case 1:
		return side() + g.pick(" IN (", " NOT IN (") + side() + ", " + side() + ")"
	case 2:
		return side() + " IS DISTINCT FROM " + side()
	}
	return side() + " " + g.cmp() + " " + side()
}
