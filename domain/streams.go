package domain

import (
	"slices"
	"strings"

	"github.com/google/uuid"
)

// Streams (DOMAIN.md, "Facts are events"): each practitioner has one stream,
// practitioner-<uuid>, and each organisation one, organisation-<uuid>. This
// is the one place the names are made and read.

// StreamPrefix is the name prefix of streams of kind k ("" for a kind that
// is not exactly one of the two).
func StreamPrefix(k StreamKind) string {
	switch k {
	case PractitionerStream:
		return "practitioner-"
	case OrganisationStream:
		return "organisation-"
	}
	return ""
}

// StreamPrefixes are the prefixes of every ledger stream.
func StreamPrefixes() []string {
	return []string{StreamPrefix(PractitionerStream), StreamPrefix(OrganisationStream)}
}

// StreamName returns the name of the stream of kind k for id.
func StreamName(k StreamKind, id uuid.UUID) string { return StreamPrefix(k) + id.String() }

// ParseStream returns the kind and id of a ledger stream name; ok is false
// for any other name, including one whose id is not a UUID in its canonical
// lower-case form (the only form the ledger writes).
func ParseStream(stream string) (k StreamKind, id uuid.UUID, ok bool) {
	for _, k := range []StreamKind{PractitionerStream, OrganisationStream} {
		rest, found := strings.CutPrefix(stream, StreamPrefix(k))
		if !found {
			continue
		}
		if !canonicalUUID(rest) {
			return 0, uuid.Nil, false
		}
		id, err := uuid.Parse(rest)
		if err != nil {
			return 0, uuid.Nil, false
		}
		return k, id, true
	}
	return 0, uuid.Nil, false
}

// canonicalUUID reports whether s is a UUID in the form uuid.UUID.String
// writes (8-4-4-4-12 lower-case hex digits), without building that string:
// the read models parse the stream name of every event they fold.
func canonicalUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}

// OrganisationNamed returns the organisation a practitioner's event names
// (joining, leaving, senior-leadership support, suitability), if any. The
// rules look these organisations up; the write path checks they exist.
func OrganisationNamed(ev Event) (uuid.UUID, bool) {
	switch e := ev.(type) {
	case *PractitionerJoinedOrganisation:
		return e.OrganisationID, true
	case *PractitionerLeftOrganisation:
		return e.OrganisationID, true
	case *SeniorLeadershipSupportRecorded:
		return e.OrganisationID, true
	case *SuitabilityAgreed:
		return e.OrganisationID, true
	}
	return uuid.Nil, false
}

// OrganisationsNamed lists every organisation facts name, in order of first
// mention: those an evaluation over the facts needs folded.
func OrganisationsNamed(facts []Fact) []uuid.UUID {
	var out []uuid.UUID
	for i := range facts {
		if id, ok := OrganisationNamed(facts[i].Event); ok && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
