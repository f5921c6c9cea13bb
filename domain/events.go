package domain

import (
	"reflect"
	"time"

	"github.com/google/uuid"
)

// Event is the data of one fact in DOMAIN.md's event catalogue. Each event
// type is a plain struct whose EventType is its stable wire name; renaming a
// Go type never changes the name stored in history. An Event is a pointer
// to the struct (the codec decodes into one, and only the pointer has the
// methods), so a switch over events has one case per type. A nil pointer
// is no event: Encode refuses it and Decide finds no decision in it; the
// fold, which never gets one from the codec, does not check for it.
type Event interface {
	EventType() string
	// Validate checks the event as a new fact proposed for recording: required
	// fields, enum values, lengths, and free text free of personal
	// identifiers. It returns an *Error naming the field at fault. Stored
	// history is never validated again (see DecodeStored).
	Validate() error
}

// missing reports whether e holds no event: nil, or a nil pointer to an
// event struct. Encode and Decide check for both; a fold checks only for
// nil, as the codec never returns a nil pointer and the check would cost
// the fold a tenth of its instructions.
func missing(e Event) bool {
	if e == nil {
		return true
	}
	v := reflect.ValueOf(e)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// Fact is an event as the domain sees it: its data and the envelope fields
// the rules need. Facts are values; the domain never reads a clock.
type Fact struct {
	// ID is the event's id, cited as evidence by evaluations.
	ID uuid.UUID
	// OccurredOn is the effective date: when it happened in the world.
	OccurredOn Date
	// RecordedAt is when the ledger learnt it.
	RecordedAt time.Time
	// RecordedBy names the principal who recorded it.
	RecordedBy string
	Event      Event
}

// Decision is carried by every decision event (marked * in the catalogue).
// RulebookVersion and Evaluation are filled in by the ledger when the decision
// is recorded, from the history known at that moment.
type Decision struct {
	DecidedBy string `json:"decided_by"`
	Rationale string `json:"rationale"`
	// Exception marks a decision taken against the rules or ahead of the
	// evidence; it needs a rationale and goes to the QC queue.
	Exception       bool        `json:"exception,omitempty"`
	RulebookVersion string      `json:"rulebook_version,omitempty"`
	Evaluation      *Evaluation `json:"evaluation,omitempty"`
}

// DecisionOf returns the Decision part of e and true when e is a decision event.
func DecisionOf(e Event) (*Decision, bool) {
	d, ok := e.(interface{ decision() *Decision })
	if !ok {
		return nil, false
	}
	return d.decision(), true
}

func (d *Decision) decision() *Decision { return d }

// PractitionerRegistered opens a practitioner's stream. Name and email are the
// practitioner's own personal data and live only here and in
// PractitionerDetailsChanged.
type PractitionerRegistered struct {
	Name        string     `json:"name"`
	Email       string     `json:"email,omitempty"`
	Profession  Profession `json:"profession"`
	Independent bool       `json:"independent,omitempty"`
}

// PractitionerDetailsChanged changes any of a practitioner's details; absent
// fields are unchanged.
type PractitionerDetailsChanged struct {
	Name        *string     `json:"name,omitempty"`
	Email       *string     `json:"email,omitempty"`
	Profession  *Profession `json:"profession,omitempty"`
	Independent *bool       `json:"independent,omitempty"`
}

// OrganisationRegistered opens an organisation's stream.
type OrganisationRegistered struct {
	Name              string           `json:"name"`
	Kind              OrganisationKind `json:"kind"`
	RegisteredService bool             `json:"registered_service"`
}

// PractitionerJoinedOrganisation records that a practitioner works in or with an organisation.
type PractitionerJoinedOrganisation struct {
	OrganisationID uuid.UUID `json:"organisation_id"`
}

// PractitionerLeftOrganisation records that a practitioner left an organisation.
type PractitionerLeftOrganisation struct {
	OrganisationID uuid.UUID `json:"organisation_id"`
}

// SeniorLeadershipSupportRecorded records senior-leadership support from an organisation.
type SeniorLeadershipSupportRecorded struct {
	OrganisationID uuid.UUID `json:"organisation_id"`
	EndorsedBy     string    `json:"endorsed_by"`
}

// SuitabilityAgreed records that an organisation or network agreed a
// practitioner's suitability for a role.
type SuitabilityAgreed struct {
	OrganisationID uuid.UUID `json:"organisation_id"`
	Role           Role      `json:"role"`
}

// CourseCompleted records a completed course.
type CourseCompleted struct {
	Course      Course `json:"course"`
	DeliveredBy string `json:"delivered_by,omitempty"`
}

// CPDEngagementRecorded records a CPD engagement.
type CPDEngagementRecorded struct {
	Kind  CPDKind `json:"kind"`
	Hours float64 `json:"hours,omitempty"`
	Title string  `json:"title,omitempty"`
}

// ReflectiveUpdateSubmitted records a log book, journal or periodic update.
type ReflectiveUpdateSubmitted struct {
	Kind    ReflectiveKind `json:"kind"`
	Summary string         `json:"summary,omitempty"`
}

// ParticipantFeedbackGathered records feedback gathered from a group's participants.
type ParticipantFeedbackGathered struct {
	GroupID   string `json:"group_id"`
	Responses int    `json:"responses,omitempty"`
}

// ActionPlanSubmitted records an annual action plan.
type ActionPlanSubmitted struct {
	Year           int  `json:"year"`
	BudgetIncluded bool `json:"budget_included"`
}

// StudyGroupRun records a study group the practitioner ran or supported.
type StudyGroupRun struct {
	GroupID      string      `json:"group_id"`
	Course       GroupCourse `json:"course"`
	Audience     Audience    `json:"audience,omitempty"`
	Participants int         `json:"participants,omitempty"`
	Registered   bool        `json:"registered,omitempty"`
}

// TrackerAssessmentRecorded records use of the I Matter Tracker. The summary
// never holds a child's personal data.
type TrackerAssessmentRecorded struct {
	Summary string `json:"summary,omitempty"`
}

// PracticeSupportEvidenced records support given to another practitioner.
type PracticeSupportEvidenced struct {
	Summary                 string     `json:"summary,omitempty"`
	SupportedPractitionerID *uuid.UUID `json:"supported_practitioner_id,omitempty"`
}

// ProfessionalStandingEvidenced records evidence of professional standing.
type ProfessionalStandingEvidenced struct {
	Body       string `json:"body"`
	ValidUntil Date   `json:"valid_until,omitzero"`
}

// IndemnityInsuranceRecorded records professional indemnity insurance.
type IndemnityInsuranceRecorded struct {
	Provider   string `json:"provider"`
	ValidUntil Date   `json:"valid_until"`
}

// ApplicationSubmitted records an application for a role.
type ApplicationSubmitted struct {
	ApplicationID string          `json:"application_id"`
	Role          ApplicationRole `json:"role"`
	FastTrack     bool            `json:"fast_track,omitempty"`
}

// ReferenceReceived records a reference for an application.
type ReferenceReceived struct {
	ApplicationID string `json:"application_id"`
	Supportive    bool   `json:"supportive"`
}

// InterviewHeld records an interview for an application.
type InterviewHeld struct {
	ApplicationID string           `json:"application_id"`
	Outcome       InterviewOutcome `json:"outcome"`
}

// ApplicationDecided is a decision on an application.
type ApplicationDecided struct {
	ApplicationID string             `json:"application_id"`
	Outcome       ApplicationOutcome `json:"outcome"`
	FastTrack     bool               `json:"fast_track,omitempty"`
	Decision
}

// TraineeshipStarted records the start of a traineeship for a certification.
type TraineeshipStarted struct {
	Role Role `json:"role"`
}

// CertificationAwarded is a decision certifying a role.
type CertificationAwarded struct {
	Role Role `json:"role"`
	Decision
}

// CertificationSuspended is a decision suspending a certified role.
type CertificationSuspended struct {
	Role   Role   `json:"role"`
	Reason string `json:"reason"`
	Decision
}

// CertificationReinstated is a decision reinstating a suspended role.
type CertificationReinstated struct {
	Role   Role   `json:"role"`
	Reason string `json:"reason"`
	Decision
}

// CertificationWithdrawn is a decision withdrawing a certified role.
type CertificationWithdrawn struct {
	Role   Role   `json:"role"`
	Reason string `json:"reason"`
	Decision
}

// LicenceGranted is a decision granting a licence, to a practitioner or an organisation.
type LicenceGranted struct {
	LicenceID  string       `json:"licence_id"`
	Kind       LicenceKind  `json:"kind"`
	Scope      LicenceScope `json:"scope,omitempty"`
	ValidUntil Date         `json:"valid_until"`
	Decision
}

// LicenceRenewed is a decision extending a licence's validity.
type LicenceRenewed struct {
	LicenceID  string `json:"licence_id"`
	ValidUntil Date   `json:"valid_until"`
	Decision
}

// LicenceSuspended is a decision suspending a licence.
type LicenceSuspended struct {
	LicenceID string `json:"licence_id"`
	Reason    string `json:"reason"`
	Decision
}

// LicenceReinstated is a decision reinstating a suspended licence.
type LicenceReinstated struct {
	LicenceID string `json:"licence_id"`
	Reason    string `json:"reason"`
	Decision
}

// LicenceRevoked is a decision revoking a licence for good.
type LicenceRevoked struct {
	LicenceID string `json:"licence_id"`
	Reason    string `json:"reason"`
	Decision
}

// DirectoryListingConsented records consent to be listed in a directory.
type DirectoryListingConsented struct {
	Directory Directory `json:"directory"`
}

// DirectoryListingWithdrawn withdraws consent to be listed in a directory.
type DirectoryListingWithdrawn struct {
	Directory Directory `json:"directory"`
}

// DecisionReviewed records a quality-control review of a decision event.
type DecisionReviewed struct {
	DecisionEventID uuid.UUID     `json:"decision_event_id"`
	Outcome         ReviewOutcome `json:"outcome"`
	Notes           string        `json:"notes,omitempty"`
}

// EventRetracted corrects a mistake: the retracted event no longer counts in
// any evaluation. The retracted event itself stays in history.
type EventRetracted struct {
	RetractedEventID uuid.UUID `json:"retracted_event_id"`
	Reason           string    `json:"reason"`
}

// PersonalDataErased records that a practitioner's personal data was erased
// at their request (crypto-shredding: the key their name and email were
// sealed with is deleted). It holds no personal data: the reason only. Their
// training record, levels and decisions stay.
type PersonalDataErased struct {
	Reason string `json:"reason"`
}

// Event type names, stable forever: they are what history stores.
const (
	TypePractitionerRegistered          = "PractitionerRegistered"
	TypePractitionerDetailsChanged      = "PractitionerDetailsChanged"
	TypeOrganisationRegistered          = "OrganisationRegistered"
	TypePractitionerJoinedOrganisation  = "PractitionerJoinedOrganisation"
	TypePractitionerLeftOrganisation    = "PractitionerLeftOrganisation"
	TypeSeniorLeadershipSupportRecorded = "SeniorLeadershipSupportRecorded"
	TypeSuitabilityAgreed               = "SuitabilityAgreed"
	TypeCourseCompleted                 = "CourseCompleted"
	TypeCPDEngagementRecorded           = "CPDEngagementRecorded"
	TypeReflectiveUpdateSubmitted       = "ReflectiveUpdateSubmitted"
	TypeParticipantFeedbackGathered     = "ParticipantFeedbackGathered"
	TypeActionPlanSubmitted             = "ActionPlanSubmitted"
	TypeStudyGroupRun                   = "StudyGroupRun"
	TypeTrackerAssessmentRecorded       = "TrackerAssessmentRecorded"
	TypePracticeSupportEvidenced        = "PracticeSupportEvidenced"
	TypeProfessionalStandingEvidenced   = "ProfessionalStandingEvidenced"
	TypeIndemnityInsuranceRecorded      = "IndemnityInsuranceRecorded"
	TypeApplicationSubmitted            = "ApplicationSubmitted"
	TypeReferenceReceived               = "ReferenceReceived"
	TypeInterviewHeld                   = "InterviewHeld"
	TypeApplicationDecided              = "ApplicationDecided"
	TypeTraineeshipStarted              = "TraineeshipStarted"
	TypeCertificationAwarded            = "CertificationAwarded"
	TypeCertificationSuspended          = "CertificationSuspended"
	TypeCertificationReinstated         = "CertificationReinstated"
	TypeCertificationWithdrawn          = "CertificationWithdrawn"
	TypeLicenceGranted                  = "LicenceGranted"
	TypeLicenceRenewed                  = "LicenceRenewed"
	TypeLicenceSuspended                = "LicenceSuspended"
	TypeLicenceReinstated               = "LicenceReinstated"
	TypeLicenceRevoked                  = "LicenceRevoked"
	TypeDirectoryListingConsented       = "DirectoryListingConsented"
	TypeDirectoryListingWithdrawn       = "DirectoryListingWithdrawn"
	TypeDecisionReviewed                = "DecisionReviewed"
	TypeEventRetracted                  = "EventRetracted"
	TypePersonalDataErased              = "PersonalDataErased"
)

// EventType implementations: one line each, the stable name.

func (*PractitionerRegistered) EventType() string         { return TypePractitionerRegistered }
func (*PractitionerDetailsChanged) EventType() string     { return TypePractitionerDetailsChanged }
func (*OrganisationRegistered) EventType() string         { return TypeOrganisationRegistered }
func (*PractitionerJoinedOrganisation) EventType() string { return TypePractitionerJoinedOrganisation }
func (*PractitionerLeftOrganisation) EventType() string   { return TypePractitionerLeftOrganisation }
func (*SeniorLeadershipSupportRecorded) EventType() string {
	return TypeSeniorLeadershipSupportRecorded
}
func (*SuitabilityAgreed) EventType() string             { return TypeSuitabilityAgreed }
func (*CourseCompleted) EventType() string               { return TypeCourseCompleted }
func (*CPDEngagementRecorded) EventType() string         { return TypeCPDEngagementRecorded }
func (*ReflectiveUpdateSubmitted) EventType() string     { return TypeReflectiveUpdateSubmitted }
func (*ParticipantFeedbackGathered) EventType() string   { return TypeParticipantFeedbackGathered }
func (*ActionPlanSubmitted) EventType() string           { return TypeActionPlanSubmitted }
func (*StudyGroupRun) EventType() string                 { return TypeStudyGroupRun }
func (*TrackerAssessmentRecorded) EventType() string     { return TypeTrackerAssessmentRecorded }
func (*PracticeSupportEvidenced) EventType() string      { return TypePracticeSupportEvidenced }
func (*ProfessionalStandingEvidenced) EventType() string { return TypeProfessionalStandingEvidenced }
func (*IndemnityInsuranceRecorded) EventType() string    { return TypeIndemnityInsuranceRecorded }
func (*ApplicationSubmitted) EventType() string          { return TypeApplicationSubmitted }
func (*ReferenceReceived) EventType() string             { return TypeReferenceReceived }
func (*InterviewHeld) EventType() string                 { return TypeInterviewHeld }
func (*ApplicationDecided) EventType() string            { return TypeApplicationDecided }
func (*TraineeshipStarted) EventType() string            { return TypeTraineeshipStarted }
func (*CertificationAwarded) EventType() string          { return TypeCertificationAwarded }
func (*CertificationSuspended) EventType() string        { return TypeCertificationSuspended }
func (*CertificationReinstated) EventType() string       { return TypeCertificationReinstated }
func (*CertificationWithdrawn) EventType() string        { return TypeCertificationWithdrawn }
func (*LicenceGranted) EventType() string                { return TypeLicenceGranted }
func (*LicenceRenewed) EventType() string                { return TypeLicenceRenewed }
func (*LicenceSuspended) EventType() string              { return TypeLicenceSuspended }
func (*LicenceReinstated) EventType() string             { return TypeLicenceReinstated }
func (*LicenceRevoked) EventType() string                { return TypeLicenceRevoked }
func (*DirectoryListingConsented) EventType() string     { return TypeDirectoryListingConsented }
func (*DirectoryListingWithdrawn) EventType() string     { return TypeDirectoryListingWithdrawn }
func (*DecisionReviewed) EventType() string              { return TypeDecisionReviewed }
func (*EventRetracted) EventType() string                { return TypeEventRetracted }
func (*PersonalDataErased) EventType() string            { return TypePersonalDataErased }
