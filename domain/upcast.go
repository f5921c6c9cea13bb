package domain

import "encoding/json"

// Event versioning. Each type's data has a schema version (TypeInfo.Version);
// history keeps whatever version it was written in, and DecodeStored reads
// an old version through an upcaster that turns it into the current Go type
// in one step. So a renamed field or a new required field never breaks a
// replay: the upcaster decides what the old facts mean in today's shape.
//
// Rules for changing a type's data:
//   - Adding an optional field is not a new version: old data simply lacks it.
//   - Renaming, removing, re-typing or re-meaning a field, or making one
//     required, is: bump the version in the registry and add an upcaster from
//     every older version here (buildRegistry refuses a gap), with a fixture
//     of the old shape in testdata/.
//   - The frozen shape of an old version lives here as an unexported struct
//     and is never changed again.

// upcasters lists, per type, how to read each older schema version.
var upcasters = map[string]map[uint16]upcaster{
	TypeProfessionalStandingEvidenced: {1: upcastProfessionalStandingV1},
}

// professionalStandingEvidencedV1 is ProfessionalStandingEvidenced as first
// recorded: the professional body was called "organisation", which read as
// one of the ledger's organisations (schools, services) and was not one, and
// evidence had no expiry.
type professionalStandingEvidencedV1 struct {
	Organisation string `json:"organisation"`
}

// upcastProfessionalStandingV1 renames organisation to body. Version 1
// evidence carried no valid_until, so it upcasts to open-ended evidence (a
// zero ValidUntil): the ledger never invents an expiry the record did not
// state; the rulebook decides how long open-ended evidence counts.
func upcastProfessionalStandingV1(data []byte) (Event, error) {
	var v1 professionalStandingEvidencedV1
	if err := json.Unmarshal(data, &v1); err != nil {
		return nil, err
	}
	return &ProfessionalStandingEvidenced{Body: v1.Organisation}, nil
}
