package projections

import (
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/domain"
)

// Certified roles and directories in a fixed order: a summary keeps them as
// bit sets.
var (
	certifiedRoles = []domain.Role{
		domain.RoleInformedPractitioner, domain.RoleLinkProfessional, domain.RoleLeadProfessional,
		domain.RoleLeadPlus, domain.RoleSeniorLink,
	}
	directories = []domain.Directory{
		domain.DirectoryInformed, domain.DirectoryLocalityHub, domain.DirectoryIndependent,
		domain.DirectoryOrganisational,
	}
	standingNames = []string{"good", "at_risk", "lapsed", "suspended", "withdrawn"}
)

func bitsOf[T comparable](all, set []T) uint8 {
	var b uint8
	for i, v := range all {
		if slices.Contains(set, v) {
			b |= 1 << i
		}
	}
	return b
}

func fromBits[T any](all []T, b uint8) []T {
	out := make([]T, 0, 2)
	for i, v := range all {
		if b&(1<<i) != 0 {
			out = append(out, v)
		}
	}
	return out
}

func standingIndex(s string) uint8 {
	if i := slices.Index(standingNames, s); i >= 0 {
		return uint8(i)
	}
	return 0
}

// practitioner folds one practitioner stream (everything recorded) as of on
// into its summary, its decisions and its reviews.
func (r *rules) practitioner(sc *foldScratch, id uuid.UUID, stream string, sf *streamFacts, orgs domain.Organisations, on domain.Date) (*summary, []decisionRec, []reviewRec, error) {
	facts, later := sf.qualifying(on, uuid.Nil)
	// qualifying only leaves facts out: as many means all of them.
	p, err := sc.foldStream(id, stream, facts, len(facts) == len(sf.facts), on)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("projections: %s: %w", stream, err)
	}
	a := r.evaluated(p, facts, orgs, on, false)
	s := &summary{
		ID: id, Name: a.Name, Level: uint8(a.Level.Level), Roles: bitsOf(certifiedRoles, a.Roles),
		Standing: standingIndex(string(a.Standing.Status)), NextChange: dayOf(earliest(a.Standing.NextChange, later)),
		Orgs: a.Orgs, Refs: a.Refs, Listings: bitsOf(directories, a.Listings),
		Revision: sf.revision,
	}
	if len(a.Licences) > 0 {
		s.Licences = make([]licenceRec, len(a.Licences))
		for i, l := range a.Licences {
			s.Licences[i] = licenceRec{ID: l.LicenceID, Kind: l.Kind, Status: l.Status, ValidUntil: dayOf(l.ValidUntil)}
		}
	}
	ds, rs := records(stream, sf)
	return s, ds, rs, nil
}

// organisation folds one organisation stream: everything recorded, since
// its licences and registration are worked out on the date asked.
func (r *rules) organisation(id uuid.UUID, sf *streamFacts) (*domain.Organisation, []decisionRec, []reviewRec, error) {
	stream := OrganisationStream(id)
	facts, _ := sf.qualifying(domain.Date{}, uuid.Nil)
	o, err := domain.FoldOrganisation(id, facts)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("projections: %s: %w", stream, err)
	}
	ds, rs := records(stream, sf)
	return o, ds, rs, nil
}

// records lists a stream's decisions (all of them, each with the retraction
// that counts against it) and its reviews, each retracted one with its
// retraction: taking a review back puts its decision back in the queue,
// and the queue shows what was taken back, by whom.
func records(stream string, sf *streamFacts) ([]decisionRec, []reviewRec) {
	var ds []decisionRec
	var rs []reviewRec
	for i, f := range sf.facts {
		if d, ok := domain.DecisionOf(f.Event); ok {
			rec := decisionRec{
				EventID: f.ID, Stream: stream, Type: f.Event.EventType(), OccurredOn: dayOf(f.OccurredOn),
				RecordedAt: f.RecordedAt, RecordedBy: f.RecordedBy, DecidedBy: d.DecidedBy,
				Rationale: d.Rationale, Exception: d.Exception, RulebookVersion: d.RulebookVersion,
				Position: sf.positions[i],
			}
			if d.Evaluation != nil {
				met := d.Evaluation.Met
				rec.Met = &met
			}
			if by, ok := sf.retractedBy[f.ID]; ok {
				rec.RetractedBy = &by
			}
			ds = append(ds, rec)
			continue
		}
		if rv, ok := f.Event.(*domain.DecisionReviewed); ok {
			rec := reviewRec{
				EventID: f.ID, Stream: stream, DecisionID: rv.DecisionEventID, Outcome: rv.Outcome,
				Notes: rv.Notes, RecordedBy: f.RecordedBy, RecordedAt: f.RecordedAt, OccurredOn: dayOf(f.OccurredOn),
			}
			if by, gone := sf.retractedBy[f.ID]; gone {
				rec.Retraction = retractionOf(sf, by)
			}
			rs = append(rs, rec)
		}
	}
	return ds, rs
}

// retractionOf describes the retraction id of sf, which follows the event
// it retracts.
func retractionOf(sf *streamFacts, id uuid.UUID) *retractionRec {
	rec := &retractionRec{EventID: id}
	for _, f := range slices.Backward(sf.facts) {
		if f.ID == id {
			if r, ok := f.Event.(*domain.EventRetracted); ok {
				rec.Reason = r.Reason
			}
			rec.RecordedBy, rec.RecordedAt = f.RecordedBy, f.RecordedAt
			break
		}
	}
	return rec
}
