package record

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"strings"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/api/auth"
	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/keystore"
)

// seal seals the personal data in an event's encoded data with the
// stream's key. A practitioner whose personal data was erased gets no new
// personal data: that is refused, and nothing is stored.
func (r *Recorder) seal(stream string, id uuid.UUID, typ string, data []byte) ([]byte, error) {
	if r.keys == nil || !domain.HasPersonalData(typ) {
		return data, nil
	}
	sealed, err := r.keys.Seal(stream, id, typ, data, domain.PersonalFields(typ))
	if errors.Is(err, keystore.ErrErased) {
		return nil, erasedError(stream)
	}
	return sealed, err
}

// sealable refuses, as seal would, new personal data for a practitioner
// whose personal data was erased: what a dry run checks without sealing.
func (r *Recorder) sealable(stream string, ev domain.Event) error {
	if r.keys == nil || !domain.HasPersonalData(ev.EventType()) {
		return nil
	}
	if _, gone := r.keys.Erased(stream); !gone {
		return nil
	}
	data, _, err := domain.Encode(ev)
	if err != nil {
		return err
	}
	if holdsPersonal(eventstore.RecordedEvent{Type: ev.EventType(), Data: data}) {
		return erasedError(stream)
	}
	return nil
}

func erasedError(stream string) error {
	return domain.Errorf(domain.EREFUSED, "data", "the personal data of %s was erased: no name or email is recorded for them again", strings.Replace(stream, "-", " ", 1))
}

// decodeStored decodes a stored event as the domain reads it, its personal
// data opened with keys (erased or unavailable: left out).
func decodeStored(keys *keystore.Keys, e eventstore.RecordedEvent) (domain.Event, error) {
	data := e.Data
	if domain.HasPersonalData(e.Type) {
		var err error
		if data, _, err = keys.Open(e.Stream, e.ID, e.Type, e.Data, domain.PersonalFields(e.Type)); err != nil {
			return nil, err
		}
	}
	return domain.DecodeStored(e.Type, e.SchemaVersion, data)
}

// OpenStored decodes a stored event to be recorded anew (ledger import of
// an export as new facts), its personal data opened with keys. Personal
// data that does not open (sealed with a key this ledger does not hold, or
// erased) is an invalid error: it cannot be recorded again.
func OpenStored(keys *keystore.Keys, e eventstore.RecordedEvent) (domain.Event, error) {
	if !domain.HasPersonalData(e.Type) {
		return domain.DecodeStored(e.Type, e.SchemaVersion, e.Data)
	}
	data, state, err := keys.Open(e.Stream, e.ID, e.Type, e.Data, domain.PersonalFields(e.Type))
	if err != nil {
		return nil, err
	}
	switch state {
	case keystore.Unavailable:
		return nil, invalidf("data", "the name and email of %s are sealed with a key this ledger does not hold: import it where its ledger's %s is, or restore the file into an empty store (names then read as %s)", e.Stream, keystore.FileName, domain.UnavailableName)
	case keystore.Erased:
		return nil, invalidf("data", "the personal data of %s was erased: it is not recorded again", e.Stream)
	}
	return domain.DecodeStored(e.Type, e.SchemaVersion, data)
}

// Erasure is the outcome of an erasure: the PersonalDataErased event, and
// the events that still hold the personal data in plaintext because they
// were stored before the ledger sealed it. Those read as erased everywhere
// the ledger shows them, but their bytes in the store are history under
// the hash chain and cannot be rewritten.
type Erasure struct {
	Recorded
	// PlaintextEvents are the ids of events stored before sealing existed
	// that hold the name or email in plaintext; empty when none do.
	PlaintextEvents []uuid.UUID `json:"plaintext_events"`
	// Warning says what PlaintextEvents means, when there are any.
	Warning string `json:"warning,omitempty"`
}

// Erase erases a practitioner's personal data (crypto-shredding): it
// deletes the key their name and email were sealed with and then appends
// PersonalDataErased with the reason. Afterwards the name reads as erased
// everywhere, while the training record, levels and decisions stay, and
// every hash chain still verifies (the hash covers the ciphertext, which
// does not change). An unknown practitioner is not_found, a missing or bad
// reason invalid, a practitioner already erased a conflict: nothing changes
// on any error. An erasure interrupted between the key's deletion and the
// event's append is completed by erasing again.
func (r *Recorder) Erase(ctx context.Context, by auth.Principal, stream, reason string) (Erasure, error) {
	kind, _, ok := domain.ParseStream(stream)
	if !ok || kind != domain.PractitionerStream {
		return Erasure{}, domain.Errorf(domain.ENOTFOUND, "", "%q is not a practitioner", stream)
	}
	if by.Role != auth.RoleAdmin {
		return Erasure{}, domain.Errorf(domain.EFORBIDDEN, "", "Only the admin role erases personal data.")
	}
	if r.keys == nil {
		return Erasure{}, errors.New("api: erasure needs the key store (Recorder.UseKeys)")
	}
	data, err := json.Marshal(domain.PersonalDataErased{Reason: reason})
	if err != nil {
		return Erasure{}, err
	}
	p := Proposal{Type: domain.TypePersonalDataErased, OccurredOn: domain.DateOf(r.now().UTC()).String(), Data: data}
	if _, _, err := r.check(domain.PractitionerStream, p); err != nil {
		var de *domain.Error
		if errors.As(err, &de) && de.Field == "data.reason" {
			return Erasure{}, domain.Errorf(de.Code, "reason", "%s", de.Message)
		}
		return Erasure{}, err
	}
	stored, err := r.store.ReadStream(ctx, stream, eventstore.ReadOptions{})
	if errors.Is(err, eventstore.ErrStreamNotFound) || err == nil && len(stored) == 0 {
		return Erasure{}, notRegistered(stream)
	}
	if err != nil {
		return Erasure{}, err
	}
	var out Erasure
	for _, e := range stored {
		if e.Type == domain.TypePersonalDataErased {
			return Erasure{}, domain.Errorf(domain.ECONFLICT, "", "The personal data of %s was already erased (event %s, recorded %s).",
				strings.Replace(stream, "-", " ", 1), e.ID, e.RecordedAt.UTC().Format("2006-01-02T15:04:05Z"))
		}
		if domain.HasPersonalData(e.Type) && !keystore.IsSealed(e.Data) && holdsPersonal(e) {
			out.PlaintextEvents = append(out.PlaintextEvents, e.ID)
		}
	}
	// The event lands only on the history just read: two erasures at once
	// (even through two servers) give one event, and a 409 to the other.
	last := stored[len(stored)-1].Revision
	p.ExpectedRevision = &last
	// The key goes first: were the event appended first, a view decoding
	// the stream in between would cache the name as not erased.
	if err := r.keys.Erase(stream, r.now()); err != nil && !errors.Is(err, keystore.ErrErased) {
		return Erasure{}, err
	}
	rec, err := r.record(ctx, by, stream, p, false, nil)
	if err != nil {
		return Erasure{}, fmt.Errorf("api: the key of %s is deleted but the erasure event was not recorded (erase again to record it): %w", stream, err)
	}
	out.Recorded = rec
	if n := len(out.PlaintextEvents); n > 0 {
		out.Warning = fmt.Sprintf("%d event(s) of this practitioner were stored before personal data was sealed: they read as erased everywhere the ledger shows them, but their bytes in the store still hold the name or email in plaintext (history under the hash chain cannot be rewritten); see the README, \"Erasure\"", n)
	} else {
		out.PlaintextEvents = []uuid.UUID{}
	}
	return out, nil
}

// holdsPersonal reports whether a stored event's data holds any of its
// type's personal fields (in plaintext).
func holdsPersonal(e eventstore.RecordedEvent) bool {
	var obj map[string]json.RawMessage
	if json.Unmarshal(e.Data, &obj) != nil {
		return false
	}
	for _, f := range domain.PersonalFields(e.Type) {
		if _, ok := obj[f]; ok {
			return true
		}
	}
	return false
}
