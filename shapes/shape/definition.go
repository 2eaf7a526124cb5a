package shape

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Replica is the replica parameter (SHAPE_API §12.3).
type Replica uint8

// The replica modes; the zero value is the default.
const (
	ReplicaDefault Replica = iota
	ReplicaFull
)

// LogMode is the log parameter (SHAPE_API §12.7).
type LogMode uint8

// The log modes; the zero value is the default.
const (
	LogFull LogMode = iota
	LogChangesOnly
)

// ErrInvalidValue is the protocol's text for a bad enum parameter.
var ErrInvalidValue error = &ParseError{"is invalid"}

// ParseReplica reads "default" or "full".
func ParseReplica(s string) (Replica, error) {
	switch s {
	case "default":
		return ReplicaDefault, nil
	case "full":
		return ReplicaFull, nil
	}
	return 0, ErrInvalidValue
}

// ParseLogMode reads "full" or "changes_only".
func ParseLogMode(s string) (LogMode, error) {
	switch s {
	case "full":
		return LogFull, nil
	case "changes_only":
		return LogChangesOnly, nil
	}
	return 0, ErrInvalidValue
}

func (r Replica) String() string {
	switch r {
	case ReplicaDefault:
		return "default"
	case ReplicaFull:
		return "full"
	}
	return fmt.Sprintf("Replica(%d)", uint8(r))
}

func (l LogMode) String() string {
	switch l {
	case LogFull:
		return "full"
	case LogChangesOnly:
		return "changes_only"
	}
	return fmt.Sprintf("LogMode(%d)", uint8(l))
}

// MarshalText writes the parameter spelling; unknown values are an error.
func (r Replica) MarshalText() ([]byte, error) {
	if r > ReplicaFull {
		return nil, fmt.Errorf("shape: unknown replica mode %d", uint8(r))
	}
	return []byte(r.String()), nil
}

// UnmarshalText reads the parameter spelling.
func (r *Replica) UnmarshalText(b []byte) error {
	v, err := ParseReplica(string(b))
	if err != nil {
		return fmt.Errorf("shape: replica %q: %w", b, err)
	}
	*r = v
	return nil
}

// MarshalText writes the parameter spelling; unknown values are an error.
func (l LogMode) MarshalText() ([]byte, error) {
	if l > LogChangesOnly {
		return nil, fmt.Errorf("shape: unknown log mode %d", uint8(l))
	}
	return []byte(l.String()), nil
}

// UnmarshalText reads the parameter spelling.
func (l *LogMode) UnmarshalText(b []byte) error {
	v, err := ParseLogMode(string(b))
	if err != nil {
		return fmt.Errorf("shape: log mode %q: %w", b, err)
	}
	*l = v
	return nil
}

// Definition is what makes two requests the same shape (SHAPE_API §6.1).
// Everything else in a request (offset, live, cursor, queryable_columns) is
// per request.
type Definition struct {
	// Schema and Table name the root table as parsed (ParseRelation).
	Schema string `json:"schema"`
	Table  string `json:"table"`
	// RelationOID is the table's OID, set once the name is resolved against
	// the catalog; the definition is hashed only after that.
	RelationOID uint32 `json:"relation_oid"`
	// Columns is nil when the request selected all columns implicitly (no
	// columns parameter). Otherwise it is the effective column set: the
	// resolver adds the primary-key columns (EffectiveColumns). Order and
	// duplicates do not matter to the canonical form.
	Columns []string `json:"columns"`
	// Where is the where parameter as given, "" for none.
	Where string `json:"where"`
	// Params are the values of $1, $2, … (Params[0] is $1). They count only
	// with a where clause.
	Params []string `json:"params"`
	// NormalizedWhere is the hook for shapes/where: the normalised clause
	// with parameter values substituted. When set, it replaces Where and
	// Params in the canonical form, so requests that differ only in
	// whitespace or keyword case share a shape.
	NormalizedWhere string  `json:"normalized_where,omitempty"`
	Replica         Replica `json:"replica"`
	Log             LogMode `json:"log"`
}

// AllColumns reports whether the definition selects every column implicitly.
func (d *Definition) AllColumns() bool { return d.Columns == nil }

// definitionJSON has Definition's fields without its methods, so the custom
// marshalling below can use encoding/json without recursing.
type definitionJSON Definition

// MarshalJSON is the storage form. It refuses strings that are not valid
// UTF-8, because encoding/json would silently replace bytes and the stored
// definition would no longer hash like the original.
func (d Definition) MarshalJSON() ([]byte, error) {
	if err := d.checkUTF8(); err != nil {
		return nil, err
	}
	return json.Marshal(definitionJSON(d))
}

// UnmarshalJSON reads the storage form; unknown replica or log values are an
// error.
func (d *Definition) UnmarshalJSON(b []byte) error {
	var v definitionJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("shape: decode definition: %w", err)
	}
	*d = Definition(v)
	return nil
}

var errNotUTF8 = errors.New("shape: definition holds text that is not valid UTF-8")

func (d *Definition) checkUTF8() error {
	for _, s := range [...]string{d.Schema, d.Table, d.Where, d.NormalizedWhere} {
		if !utf8.ValidString(s) {
			return errNotUTF8
		}
	}
	for _, list := range [...][]string{d.Columns, d.Params} {
		for _, s := range list {
			if !utf8.ValidString(s) {
				return errNotUTF8
			}
		}
	}
	return nil
}
