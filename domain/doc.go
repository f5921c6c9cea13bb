// Package domain is the language of I Matter Training's seeds, and nothing
// else: the event catalogue, the validation of new facts, the fold of a
// stream's facts into a practitioner's or an organisation's state, and
// rulebook v1 (levels, roles, licences, decision requirements, maintenance
// and standing, next steps).
//
// It owns:
//
//   - The event types of DOMAIN.md's catalogue (events.go), each with a
//     stable wire name and a schema version, and two separate ways in: a new
//     fact is decoded strictly and validated (DecodeNew, Event.Validate,
//     ValidateFact, CheckPersonalData); stored history is decoded leniently
//     through the upcasters (DecodeStored), so that an old schema version
//     never breaks a replay and nothing stored is ever refused.
//   - Errors with a code and the field at fault (Error, Errorf); callers map
//     the codes to statuses once.
//   - The fold (Fold in practitioner.go, FoldOrganisation in
//     organisation.go, what both share in fold.go): facts in, state out,
//     retractions applied. An Event is always a pointer to its struct, as
//     the codec decodes it, so a fold is one type switch.
//   - Rulebook v1 as data (RulebookV1): requirements are values walked by one
//     evaluator, each citing the seed sentence it comes from, so that an
//     evaluation explains itself (each requirement, met or not, with the
//     event ids that meet it and what is missing) and a rulebook v2 is a new
//     table.
//
// It does no I/O and reads no clock: every date comes in as an argument.
// It must not import eventstore, projections, api, cmd or any storage or
// HTTP package; deps_test.go checks this.
package domain
