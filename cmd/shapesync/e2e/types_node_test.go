package e2e_test

import (
	"testing"

	"github.com/shapesync/shapesync/replication/pgcluster"
	"github.com/shapesync/shapesync/replication/pgcluster/pgtest"
)

// typesDisplaySQL gives the database display settings unlike the ones
// SHAPE_API §12.6 prescribes, so a connection of shapesync that forgets to
// set them (the replication connection or a snapshot transaction) renders
// floats, dates, intervals, bytea or time zones differently and the
// comparison in types_roundtrip.mjs fails.
const typesDisplaySQL = `
	ALTER DATABASE postgres SET bytea_output = 'escape';
	ALTER DATABASE postgres SET DateStyle = 'SQL, MDY';
	ALTER DATABASE postgres SET TimeZone = 'Asia/Kolkata';
	ALTER DATABASE postgres SET extra_float_digits = 0;
	ALTER DATABASE postgres SET IntervalStyle = 'postgres_verbose'`

// typesSchemaSQL creates the tables of types_roundtrip.mjs: one row-per-case
// table of every value type (ty_scalars) and one table per key shape.
const typesSchemaSQL = `
	CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'it''s "complicated", {really}');
	CREATE DOMAIN posint AS int4 CHECK (VALUE > 0);
	CREATE DOMAIN shorttext AS text CHECK (length(VALUE) < 100);
	CREATE DOMAIN nn_text AS text NOT NULL;
	CREATE DOMAIN code4 AS char(4);
	CREATE DOMAIN boolish AS bool;
	CREATE TYPE pair AS (a int4, b text);

	CREATE TABLE ty_scalars (
		id int4 PRIMARY KEY,
		i2 int2, i4 int4, i8 int8,
		num numeric, num_s numeric(12,4), num_p numeric(5),
		f4 float4, f8 float8,
		b bool,
		t text, vc varchar(20), vcx varchar, ch char(5), ch1 char, bp bpchar,
		u uuid, j json, jb jsonb, by bytea,
		bt bit(3), vb varbit(8), vbx varbit,
		d date, tm time, tm0 time(0), tm3 time(3), ttz timetz, ts timestamp, ts0 timestamp(0),
		tstz timestamptz, tstz6 timestamptz(6),
		iv interval, iv3 interval(3), iv_ds interval day to second(2), iv_y interval year, iv_hm interval hour to minute,
		e mood, ea mood[],
		di posint, dt shorttext, dnn nn_text, dia posint[],
		ip inet, ip6 inet, cid cidr, ipa inet[],
		ia int4[], ta text[], i2d int4[][], i3d int8[][][], ba bool[], fa float8[], f4a float4[], na numeric[],
		tsa timestamptz[], ja jsonb[], jsa json[], ua uuid[], bya bytea[], cha char(3)[],
		nn text NOT NULL, ta_nn text[] NOT NULL,
		bpd code4, dbool boolish, big text, nbig numeric,
		f8b float8, f4b float4,
		comp pair, compa pair[], rng int4range, mrng int4multirange, pt point, mac macaddr, x xml, mny money, tsv tsvector);

	CREATE TABLE ty_textkey (k text PRIMARY KEY, v int4);
	CREATE TABLE ty_comp (n int4, u uuid, label text, PRIMARY KEY (u, n));
	CREATE TABLE ty_boolkey (flag bool, n int4, label text, PRIMARY KEY (flag, n));
	CREATE TABLE ty_inetkey (addr inet PRIMARY KEY, label text);
	CREATE TABLE ty_nopk (a int4, b text, c bool, d inet, e date);
	CREATE TABLE ty_charkey (c char(3) PRIMARY KEY, label text);
	CREATE TABLE ty_dboolkey (flag boolish PRIMARY KEY, label text);
	CREATE TABLE ty_dcharkey (c code4 PRIMARY KEY, label text);
	-- CREATE TABLE AS records no array dimensions (attndims 0).
	CREATE TABLE ty_ctas AS SELECT 1::int4 AS id, ARRAY[1, 2]::int4[] AS ia, ARRAY['a,b', NULL]::text[] AS ta;
	ALTER TABLE ty_ctas ADD PRIMARY KEY (id),
		ADD COLUMN v2 int2vector DEFAULT '1 2', ADD COLUMN iv0 interval(0) DEFAULT '1.5 seconds',
		ADD COLUMN tz0 timestamptz(0) DEFAULT '2024-01-31 12:34:56.5+00', ADD COLUMN ttz2 timetz(2) DEFAULT '12:34:56.789+01',
		ADD COLUMN bit1 bit DEFAULT B'1', ADD COLUMN vc1 varchar(1) DEFAULT 'ü',
		ADD COLUMN ym interval year to month DEFAULT '1 year 2 months 3 days',
		ADD COLUMN ms interval minute to second(3) DEFAULT '1 hour 2 minutes 3.4567 seconds';
	CREATE TABLE ty_dropped (a int4, gone text, b bool, c text);
	ALTER TABLE ty_dropped DROP COLUMN gone`

// typesRowsSQL fills the tables. Row 6 of ty_scalars is NULL in every
// nullable column.
const typesRowsSQL = `
	INSERT INTO ty_scalars VALUES
	(1, -32768, -2147483648, -9223372036854775808,
		'-123456789012345678901234567890.123456789012345678901234567890', 1.5, 12345,
		'NaN', 'NaN', true,
		E'emoji 🚀👩‍👩‍👧 combining e\u0301 RTL שלום عربي', 'ünï/"\\q', 'plain', 'ab', 'x', 'a b  ',
		'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"b": 1,  "a":[1, 2.50, "x"],"a":2}', '{"b": 1,  "a":[1, 2.50, "x"],"a":2}', '\x0001fffe',
		B'101', B'1', B'',
		'2024-01-31', '00:00:00', '12:34:56.7', '12:34:56.789123', '12:34:56.789+05:30', '2024-01-31 12:34:56.789012', '2024-01-31 12:34:56.7',
		'2024-01-31 12:34:56.789+02', '2024-01-31 12:34:56.123456+00',
		'1 year 2 mons 3 days 04:05:06', '1.23456 seconds', '3 days 04:05:06.789', '3 years 5 months', '26 hours 7 minutes 8 seconds',
		'sad', '{sad,"it''s \"complicated\", {really}",NULL}',
		1, 'short', 'not null domain', '{1,2,NULL}',
		'10.0.0.1', '::1', '10.0.0.0/8', '{10.0.0.1/32,::1/128,192.168.1.5/24}',
		'{1,NULL,-3}', ARRAY['a,b', 'q"uote', 'br{ace}', 'back\slash', 'NULL', NULL, '', ' sp ', 'ü🚀', E'new\nline', 'sl/ash'],
		'{{1,2},{3,4}}', '{{{1,2}},{{3,4}}}', '{t,f,NULL}', '{NaN,Infinity,-Infinity,-0,1e-300,0.1}', '{1.1,NaN,-Infinity}', '{1.50,NaN,-0.000}',
		'{"2024-01-31 12:34:56.789+00",infinity}', ARRAY['{"a": [1, "x,y"]}'::jsonb, 'null', '"s"'], ARRAY['{"k" : "v"}'::json, '[1,  2]'],
		'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}', '{"\\x00ff",NULL,"\\x"}', '{"a  ",b}',
		E'quote '' " back \\ \\\\ tab\t nl\n cr\r ctl\x01\x1f', '{}',
		'ab', true, NULL, (repeat('9', 1000) || '.' || repeat('1', 500))::numeric,
		'-0', '-0',
		ROW(1, 'a"b,c ü'), ARRAY[ROW(1, 'x'), ROW(NULL, NULL)]::pair[], '[1,10)', '{[1,3), [5,7)}', '(1.5,-2.5)', '08:00:2b:01:02:03', '<a href="x">t &amp; ü</a>', 12.5, 'a fat cat''s mat'),
	(2, 32767, 2147483647, 9223372036854775807,
		'NaN', '99999999.9999', 0,
		'Infinity', 'Infinity', false,
		'', '', NULL, 'abcde', ' ', '',
		'00000000-0000-0000-0000-000000000000', '"str"', '"\u00e9 🚀"', '',
		B'000', B'11111111', B'1010101010',
		'infinity', '23:59:59.999999', '23:59:59.4', '00:00:00.001', '23:59:59.999999-15:59', 'infinity', '-infinity',
		'infinity', '-infinity',
		'0', '-1 day +02:03:04.5', '00:00:00.000001', '-1.5 years', '100 hours',
		'it''s "complicated", {really}', '{}',
		2147483647, '', 'x', '{}',
		'192.168.1.5/24', '2001:db8::1/128', '2001:db8::/32', '{}',
		'{}', '{}', '{{NULL,2},{3,NULL}}', '{}', '{}', '{}', '{}', '{}',
		'{}', '{}', '{}', '{}', '{}', '{}',
		'NULL', ARRAY['x', 'NULL'],
		'abcd', false, '', '-1e-1000',
		'5e-324', '1e-45',
		ROW(NULL, ''), '{}', 'empty', '{}', '(0,0)', 'ff:ff:ff:ff:ff:ff', '', -92233720368547758.08, ''),
	(3, 0, 0, 0,
		'0.000100', '0.0000', -99999,
		'-Infinity', '-Infinity', NULL,
		'NULL', 'a/b//c', 'x', '/', 'é', '/ /',
		'ffffffff-ffff-ffff-ffff-ffffffffffff', 'null', 'null', '\x5c22',
		NULL, NULL, NULL,
		'-infinity', '24:00:00', NULL, NULL, '00:00:00+00', '-infinity', '0044-03-15 12:00:00 BC',
		'0100-01-01 00:00:00+00 BC', '294276-12-31 23:59:59.999999+00',
		'1 mon -2 days', NULL, '-00:00:00.01', NULL, '-5 minutes',
		'ok', '{happy,ok}',
		NULL, NULL, '', NULL,
		'0.0.0.0/0', '::/0', '::/0', '{0.0.0.0/0}',
		'{2147483647,-2147483648}', '{"{}","{\"\"}",",",""}', '{{1}}', '{{{NULL}}}', '{f}', '{5e-324}', '{-0}', '{Infinity}',
		'{-infinity}', ARRAY['[]'::jsonb, '{}'], ARRAY['null'::json], '{}', '{}', '{}',
		'', '{""}',
		NULL, NULL, NULL, '0',
		'1.7976931348623157e308', '-3.4028235e38',
		ROW(-1, NULL), '{"(11,2.2)"}', '(,5]', '{}', '(1e+300,-1e-300)', '00:00:00:00:00:00', '<!-- c -->', 0, 'x:1A y:2B'),
	(4, 1, 1, 1,
		'Infinity', '-0.0001', 1,
		'1.1', '1e-300', true,
		'tab	x', 'x', 'x', 'x', 'x', 'x',
		'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12', '[1,  2.50 , 1e400, 12345678901234567890]', '[1,  2.50 , 12345678901234567890]', '\x',
		B'111', B'', B'0',
		'4713-01-01 BC', '12:00:00', '12:00:00', '12:00:00', '12:00:00+15:59', '0001-01-01 00:00:00', '2000-02-29 23:59:59.5',
		'1970-01-01 00:00:00+00', '2024-01-31 12:34:56.000001-08',
		'P1Y2M3DT4H5M6.000007S', '1 day', '1 day', '1 year', '1 hour',
		'happy', '{NULL}',
		42, 'mid', E'\\', '{7}',
		'10.0.0.1/32', '::ffff:10.0.0.1', '192.168.0.0/16', '{NULL}',
		'{NULL}', ARRAY[NULL]::text[], '{{1,2},{3,4}}', '{{{1}},{{2}}}', '{NULL,t}', '{NULL}', '{NaN}', '{1e-20}',
		'{NULL}', ARRAY[NULL]::jsonb[], '{}', '{00000000-0000-0000-0000-000000000000}', '{"\\xdeadbeef"}', '{NULL}',
		'/', '{"NULL"}',
		'', NULL, NULL, NULL,
		'0.1', '0.1',
		ROW(2, E'back\\slash "q" (paren)'), NULL, '[-2147483648,2147483647)', '{(,)}', '(NaN,Infinity)', '01:02:03:04:05:06', 'plain', -0.01, 'é ü'),
	(5, -1, -1, -1,
		'1e-30', '1234.5678', -1,
		'3.4028235e38', '0.30000000000000004', false,
		'x', 'x', 'x', 'x', 'x', 'x',
		'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a13', '{"nested": {"deep": [null, true, false, "\"q\""]}}', '{"nested": {"deep": [null, true, false, "\"q\""]}}', '\x00',
		B'010', B'10', B'1',
		'2000-02-29', '01:02:03.000004', '01:02:03', '01:02:03', '01:02:03-01', '2000-02-29 01:02:03.000004', '2000-02-29 01:02:03',
		'2000-02-29 01:02:03.000004+00', '2000-02-29 01:02:03+05:45',
		'-3 years -2 months', '1 microsecond', '1 second', '-1 year', '1 minute',
		'sad', '{sad}',
		3, 'end', 'y', NULL,
		'::', '::ffff:1.2.3.4/128', '1.2.3.0/24', '{::}',
		'{0}', '{"   "}', '{{NULL}}', '{}', '{t}', '{1.7976931348623157e308}', '{3.4028235e38}', '{123456789012345678901234567890.000}',
		'{"2000-02-29 01:02:03+00"}', ARRAY['{"deep": {"x": [1]}}'::jsonb], ARRAY['{"x":"y, z"}'::json], '{}', '{}', '{"   "}',
		'x', '{a,b}',
		'x', true, (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 4000) AS g), NULL,
		'123456789.123456789', '16777217',
		NULL, ARRAY[NULL]::pair[], NULL, NULL, NULL, NULL, NULL, NULL, NULL),
	(6, NULL, NULL, NULL,
		NULL, NULL, NULL,
		NULL, NULL, NULL,
		NULL, NULL, NULL, NULL, NULL, NULL,
		NULL, NULL, NULL, NULL,
		NULL, NULL, NULL,
		NULL, NULL, NULL, NULL, NULL, NULL, NULL,
		NULL, NULL,
		NULL, NULL, NULL, NULL, NULL,
		NULL, NULL,
		NULL, NULL, 'only the domain is NOT NULL', NULL,
		NULL, NULL, NULL, NULL,
		NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
		NULL, NULL, NULL, NULL, NULL, NULL,
		'nulls', '{}',
		NULL, NULL, NULL, NULL,
		NULL, NULL,
		NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

	INSERT INTO ty_textkey VALUES
		('a/b', 1), ('//lead', 2), ('trail/', 3), ('it''s "q"', 4), ('ünï 🚀 שלום e' || U&'\0301', 5),
		(E'back\\slash', 6), ('', 7), ('NULL', 8), ('_', 9), (E'tab\tnl\n', 10), ('/', 11), ('"/"', 12);
	INSERT INTO ty_comp VALUES
		(1, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'one'), (2, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'two'),
		(1, '00000000-0000-0000-0000-000000000000', 'zero'), (-2147483648, 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'min');
	INSERT INTO ty_boolkey VALUES (true, 1, 'yes one'), (false, 1, 'no one'), (true, 2, 'yes two'), (false, 2, 'no two');
	INSERT INTO ty_inetkey VALUES ('10.0.0.1', 'host v4'), ('10.0.0.0/8', 'net v4'), ('::1', 'host v6'),
		('2001:db8::/32', 'net v6'), ('192.168.1.5/24', 'host in net'), ('10.0.0.3', 'to delete');
	INSERT INTO ty_nopk VALUES (1, 'a/b', true, '10.0.0.1', '2024-01-31'), (2, NULL, false, '::1', NULL),
		(NULL, NULL, NULL, NULL, NULL), (3, 'x', true, '10.0.0.0/8', 'infinity'), (4, 'keep', false, '10.0.0.4', '2000-01-01');
	INSERT INTO ty_charkey VALUES ('a', 'one'), ('a/b', 'two'), ('', 'empty');
	INSERT INTO ty_dboolkey VALUES (true, 'yes'), (false, 'no');
	INSERT INTO ty_dcharkey VALUES ('a', 'one'), ('ab/', 'two'), ('', 'empty');
	INSERT INTO ty_dropped VALUES (1, true, 'one'), (2, NULL, NULL)`

// TestOfficialClientTypesRoundTrip checks, with the official client and its
// default parser, that every value type of SHAPE_API §12.6 and every key
// shape of §12.5 arrives value for value, in the snapshot and through the
// replication stream, and that electric-schema describes each column as §13
// says; types_roundtrip.mjs says what it checks.
func TestOfficialClientTypesRoundTrip(t *testing.T) {
	cluster := pgtest.Start(t, pgcluster.Options{})
	dsn := cluster.DSN("postgres")
	execSQL(t, dsn, typesDisplaySQL)
	execSQL(t, dsn, typesSchemaSQL)
	execSQL(t, dsn, typesRowsSQL)

	base := startShapesync(t, dsn, "e2etypes")
	runNodeScript(t, "types_roundtrip.mjs",
		"SHAPESYNC_URL="+base,
		"DATABASE_URL="+dsn,
		"E2E_WAIT_MS=30000", // per wait; a healthy run needs milliseconds
	)
}
