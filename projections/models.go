package projections

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
)

// day is a domain.Date as a plain integer (days since 1970-01-01 plus one,
// zero for no date), so that summaries stay small and encode without
// reflection on unexported fields.
type day int32

var epoch = domain.NewDate(1970, time.January, 1)

func dayOf(d domain.Date) day {
	if d.IsZero() {
		return 0
	}
	return day(epoch.DaysUntil(d) + 1)
}

func (d day) date() domain.Date {
	if d == 0 {
		return domain.Date{}
	}
	return epoch.AddDays(int(d) - 1)
}

// summary is the compact record the list models keep per practitioner: what
// the lists filter and show, computed for the models' date and valid until
// NextChange. It is never the folded state (which a query re-folds from the
// stream when it needs more).
type summary struct {
	ID       uuid.UUID
	Name     string
	Level    uint8
	Roles    uint8 // bit i set: certifiedRoles[i] held
	Standing uint8 // index into standingNames
	// NextChange is the first date after the models' date on which this
	// summary can change with no new event; 0 when none is known.
	NextChange day
	// Orgs are the organisations the practitioner is in; Refs every
	// organisation the history names (an organisation's change re-folds them).
	Orgs     []uuid.UUID
	Refs     []uuid.UUID
	Listings uint8 // bit i set: listed in directories[i] on the models' date
	Licences []licenceRec
	Revision uint64
}

// licenceRec is one of a practitioner's licences as the register keeps it.
type licenceRec struct {
	ID         string
	Kind       domain.LicenceKind
	Status     domain.LicenceStatus // on the models' date
	ValidUntil day
}

// decisionRec is one decision event in the QC queue.
type decisionRec struct {
	EventID         uuid.UUID
	Stream          string
	Type            string
	OccurredOn      day
	RecordedAt      time.Time
	RecordedBy      string
	DecidedBy       string
	Rationale       string
	Exception       bool
	RulebookVersion string
	Position        eventstore.Position
	// Met is what the stored evaluation said, nil when none was stored.
	Met         *bool
	RetractedBy *uuid.UUID
}

// reviewRec is one DecisionReviewed event.
type reviewRec struct {
	EventID    uuid.UUID
	Stream     string
	DecisionID uuid.UUID
	Outcome    domain.ReviewOutcome
	Notes      string
	RecordedBy string
	RecordedAt time.Time
	OccurredOn day
	// Retraction is the EventRetracted that withdrew the review, if any:
	// the review no longer counts, but the queue shows it and who took it
	// back.
	Retraction *retractionRec
}

// retractionRec is the EventRetracted that withdrew a review.
type retractionRec struct {
	EventID    uuid.UUID
	Reason     string
	RecordedBy string
	RecordedAt time.Time
}

// models are the global read models at one checkpoint. A Projector serves
// one models value at a time (an atomic pointer) and swaps in a new one after
// an online rebuild. Safe for concurrent use: mu guards every field.
type models struct {
	mu   sync.RWMutex
	pos  eventstore.Position
	date day // the date summaries and statuses are computed for

	practitioners map[uuid.UUID]*summary
	order         []uuid.UUID                          // practitioner ids, sorted
	due           map[day]map[uuid.UUID]struct{}       // NextChange -> practitioners
	refs          map[uuid.UUID]map[uuid.UUID]struct{} // organisation -> practitioners naming it
	orgs          domain.OrganisationSet               // folded from everything recorded
	decisions     map[uuid.UUID]*decisionRec
	byStream      map[string]streamRecs     // stream -> its decisions and reviews
	reviews       map[uuid.UUID][]reviewRec // decision -> its reviews

	// views are the practitioner views rendered from these models' store,
	// forgotten as the models take in changes (see viewCache); nil until
	// first asked for.
	views atomic.Pointer[viewCache]
}

func newModels() *models {
	return &models{
		practitioners: make(map[uuid.UUID]*summary),
		due:           make(map[day]map[uuid.UUID]struct{}),
		refs:          make(map[uuid.UUID]map[uuid.UUID]struct{}),
		orgs:          make(domain.OrganisationSet),
		decisions:     make(map[uuid.UUID]*decisionRec),
		byStream:      make(map[string]streamRecs),
		reviews:       make(map[uuid.UUID][]reviewRec),
	}
}

func lessID(a, b uuid.UUID) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// putPractitioner replaces (or adds) a practitioner's summary and its index
// entries. Callers hold mu for writing.
func (m *models) putPractitioner(s *summary) {
	old := m.practitioners[s.ID]
	if old == nil {
		i, _ := slices.BinarySearchFunc(m.order, s.ID, lessID)
		m.order = slices.Insert(m.order, i, s.ID)
	} else {
		m.unindex(old)
	}
	m.practitioners[s.ID] = s
	m.index(s)
	m.forgetView(s.ID)
}

func (m *models) index(s *summary) {
	if s.NextChange != 0 {
		b := m.due[s.NextChange]
		if b == nil {
			b = make(map[uuid.UUID]struct{})
			m.due[s.NextChange] = b
		}
		b[s.ID] = struct{}{}
	}
	for _, o := range s.Refs {
		b := m.refs[o]
		if b == nil {
			b = make(map[uuid.UUID]struct{})
			m.refs[o] = b
		}
		b[s.ID] = struct{}{}
	}
}

func (m *models) unindex(s *summary) {
	if b := m.due[s.NextChange]; b != nil {
		delete(b, s.ID)
		if len(b) == 0 {
			delete(m.due, s.NextChange)
		}
	}
	for _, o := range s.Refs {
		if b := m.refs[o]; b != nil {
			delete(b, s.ID)
			if len(b) == 0 {
				delete(m.refs, o)
			}
		}
	}
}

// putStreamRecords replaces the decisions and reviews that came from stream.
// Callers hold mu for writing.
func (m *models) putStreamRecords(stream string, ds []decisionRec, rs []reviewRec) {
	old := m.byStream[stream]
	for _, id := range old.decisions {
		delete(m.decisions, id)
	}
	// Reviews hang on the decision they review, which may live in another
	// stream: drop only this stream's reviews from each.
	for _, dec := range old.reviewed {
		list := slices.DeleteFunc(m.reviews[dec], func(r reviewRec) bool { return r.Stream == stream })
		if len(list) == 0 {
			delete(m.reviews, dec)
		} else {
			m.reviews[dec] = list
		}
	}
	var recs streamRecs
	for i := range ds {
		d := ds[i]
		m.decisions[d.EventID] = &d
		recs.decisions = append(recs.decisions, d.EventID)
	}
	for _, r := range rs {
		if !slices.Contains(recs.reviewed, r.DecisionID) {
			recs.reviewed = append(recs.reviewed, r.DecisionID)
		}
		m.reviews[r.DecisionID] = append(m.reviews[r.DecisionID], r)
	}
	if len(recs.decisions)+len(recs.reviewed) == 0 {
		delete(m.byStream, stream)
	} else {
		m.byStream[stream] = recs
	}
}

// streamRecs names what one stream contributed to the decision queue.
type streamRecs struct {
	decisions []uuid.UUID // decisions recorded in the stream
	reviewed  []uuid.UUID // decisions the stream's reviews are about
}
