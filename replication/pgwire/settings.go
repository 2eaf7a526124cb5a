package pgwire

// DisplaySettings returns the statements every connection that produces
// values runs first (SHAPE_API §12.6): the replication connection before
// START_REPLICATION and every snapshot transaction. Both paths must render
// values identically, so this list is the only copy. A fresh slice each call,
// so no caller can change what another sees.
func DisplaySettings() []string {
	return []string{
		"SET bytea_output = 'hex'",
		"SET DateStyle = 'ISO, DMY'",
		"SET TimeZone = 'UTC'",
		"SET extra_float_digits = 1",
		"SET IntervalStyle = 'iso_8601'",
	}
}
