package config

import (
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"
)

// Redacted renders the effective configuration, one NAME=value per line in
// --help order, with the secret and database passwords replaced by
// [REDACTED]. It is what main logs at start.
func (c *Config) Redacted() string {
	var b strings.Builder
	b.WriteString("embedded=" + strconv.FormatBool(c.Embedded) + "\n")
	for _, s := range variableSpecs() {
		b.WriteString(s.Name)
		b.WriteByte('=')
		b.WriteString(s.show(c))
		b.WriteByte('\n')
	}
	return b.String()
}

// String is Redacted, so %v and %s never print a secret.
func (c *Config) String() string { return c.Redacted() }

// GoString is Redacted, so %#v never prints a secret.
func (c *Config) GoString() string { return c.Redacted() }

// newUUID4 returns a random RFC 9562 version 4 UUID. crypto/rand.Read does
// not fail (it aborts the process if the system source is broken).
func newUUID4() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // variant 10
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
