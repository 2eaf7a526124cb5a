package pgwire

import (
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// DefaultStreamID is the stream id when ELECTRIC_REPLICATION_STREAM_ID is unset.
const DefaultStreamID = "default"

const (
	publicationPrefix = "electric_publication_"
	slotPrefix        = "electric_slot_"
	// maxNameLen is NAMEDATALEN - 1: Postgres truncates longer identifiers
	// silently, which would make two stream ids share one slot.
	maxNameLen = 63
	// MaxStreamIDLen keeps both derived names within maxNameLen.
	MaxStreamIDLen = maxNameLen - len(publicationPrefix)
)

// ValidateStreamID checks that id can name both a publication and a slot
// (SHAPE_API §22.1): a valid unquoted identifier that is also a legal slot
// name, so lowercase letters, digits and underscores, not starting with a
// digit, at most MaxStreamIDLen bytes. "$" is a legal identifier character
// but not a legal slot character, so it is refused.
func ValidateStreamID(id string) error {
	if id == "" {
		return fmt.Errorf("replication stream id is empty: set ELECTRIC_REPLICATION_STREAM_ID to lowercase letters, digits and underscores")
	}
	if len(id) > MaxStreamIDLen {
		return fmt.Errorf("replication stream id %q is %d bytes long; at most %d fit into a Postgres name", id, len(id), MaxStreamIDLen)
	}
	if id[0] >= '0' && id[0] <= '9' {
		return fmt.Errorf("replication stream id %q starts with a digit; it must be a valid unquoted identifier", id)
	}
	if i := strings.IndexFunc(id, func(r rune) bool { return !isSlotChar(r) }); i >= 0 {
		return fmt.Errorf("replication stream id %q contains %q; only lowercase letters, digits and underscores are allowed", id, id[i:i+1])
	}
	return nil
}

// ValidateSlotName checks Postgres's rule for replication slot names:
// 1–63 bytes of lowercase letters, digits and underscores.
func ValidateSlotName(name string) error {
	if name == "" || len(name) > maxNameLen {
		return fmt.Errorf("replication slot name %q must be 1 to %d bytes long", name, maxNameLen)
	}
	if i := strings.IndexFunc(name, func(r rune) bool { return !isSlotChar(r) }); i >= 0 {
		return fmt.Errorf("replication slot name %q contains %q; only lowercase letters, digits and underscores are allowed", name, name[i:i+1])
	}
	return nil
}

// ValidatePublicationName checks that name is a valid unquoted identifier of
// at most 63 bytes, so its quoted and unquoted spellings name the same
// publication (pgoutput's publication_names parses identifiers).
func ValidatePublicationName(name string) error {
	if name == "" || len(name) > maxNameLen {
		return fmt.Errorf("publication name %q must be 1 to %d bytes long", name, maxNameLen)
	}
	if name[0] >= '0' && name[0] <= '9' {
		return fmt.Errorf("publication name %q starts with a digit", name)
	}
	if i := strings.IndexFunc(name, func(r rune) bool { return !isSlotChar(r) }); i >= 0 {
		return fmt.Errorf("publication name %q contains %q; only lowercase letters, digits and underscores are allowed", name, name[i:i+1])
	}
	return nil
}

func isSlotChar(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_'
}

// PublicationName is "electric_publication_<streamID>".
func PublicationName(streamID string) (string, error) {
	if err := ValidateStreamID(streamID); err != nil {
		return "", err
	}
	return publicationPrefix + streamID, nil
}

// SlotName is "electric_slot_<streamID>".
func SlotName(streamID string) (string, error) {
	if err := ValidateStreamID(streamID); err != nil {
		return "", err
	}
	return slotPrefix + streamID, nil
}

// RandomSlotName is "electric_slot_<32 random hex digits>", for a temporary
// slot with random naming (SHAPE_API §22.1); rand is normally crypto/rand.Reader.
func RandomSlotName(rand io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return "", fmt.Errorf("random slot name: %w", err)
	}
	return slotPrefix + hex.EncodeToString(b[:]), nil
}

// QuoteIdentifier quotes s as a Postgres identifier ("a""b"). Names are
// validated and still quoted, so a validation bug cannot become injection.
func QuoteIdentifier(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// QuoteLiteral quotes s as a Postgres string literal. Backslashes make it an
// E'...' literal, as libpq's PQescapeLiteral does, so the result means the same
// whatever standard_conforming_strings says. For the replication protocol's
// simple-query commands, where bound parameters do not exist; everywhere else
// bind parameters instead.
func QuoteLiteral(s string) string {
	q := "'" + strings.ReplaceAll(s, "'", "''") + "'"
	if strings.Contains(s, `\`) {
		return "E" + strings.ReplaceAll(q, `\`, `\\`)
	}
	return q
}
