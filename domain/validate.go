package domain

import (
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Validation of new events: what a person proposes to record, checked before
// it is stored. Stored history is never validated again (see DecodeStored):
// rules may tighten, and old facts must still replay.

// Limits on what one event may hold. They bound the size of history and
// catch pasted documents; none is a rule of the seeds.
const (
	maxNameRunes = 200  // names, bodies, providers, people named as deciders or endorsers
	maxTextRunes = 2000 // summaries, notes, reasons, rationales, titles
	maxIDRunes   = 100  // identifiers chosen by the caller: group, application, licence ids
	maxHours     = 1000 // CPD hours in one engagement
	maxCount     = 1000 // participants in a group, responses to feedback
	maxEmail     = 254  // the longest address SMTP allows
	// minYear and maxYear bound every date and year: before the first I
	// Matter course, or centuries ahead, is a typing mistake.
	minYear = 1990
	maxYear = 2199
	// maxValidityYears bounds how far ahead a licence or insurance may run
	// from the day it is recorded as taking effect.
	maxValidityYears = 10
	// actionPlanYearSlack is how far an action plan's year may lie from the
	// day it was submitted: plans are made for this year or the next, and
	// sometimes recorded late.
	actionPlanYearSlack = 2
)

// ValidateFact checks a new fact as a whole: its event's own rules
// (Validate), an effective date that is present and plausible, and the
// event's data against that date (a licence must run past the day it is
// granted; an action plan's year lies near the day it was submitted). The
// domain has no clock, so whether occurred_on lies in the future is for the
// caller, who knows today, to judge.
func ValidateFact(f Fact) error {
	if f.Event == nil {
		return Errorf(EINVALID, "data", "is required")
	}
	if err := checkDate("occurred_on", f.OccurredOn, true); err != nil {
		return err
	}
	if err := f.Event.Validate(); err != nil {
		return err
	}
	if c, ok := f.Event.(interface{ validateOn(Date) error }); ok {
		return c.validateOn(f.OccurredOn)
	}
	return nil
}

// textKind says what a text field holds, which sets its length, whether it
// may span lines, and whether it is scanned for personal identifiers.
type textKind uint8

const (
	// textName is a name, body, provider or person: one line.
	textName textKind = iota
	// textFree is prose: summaries, notes, reasons, rationales, titles.
	textFree
	// textID is an identifier the caller chose: one line, no surrounding spaces.
	textID
	// textOwn is the practitioner's own name, which is theirs to give and
	// is kept only where it can later be made unreadable: not scanned.
	textOwn
)

// textField is one text value of an event, with its JSON path.
type textField struct {
	path     string
	value    string
	kind     textKind
	required bool
}

// validate runs an event's checks in a fixed order: the shape of every text
// field, then the other checks in the order given, then the scan of the text
// for personal identifiers, so that a mistyped enum is reported before a
// possible postcode in a summary.
func validate(texts []textField, checks ...error) error {
	for _, f := range texts {
		if err := f.check(); err != nil {
			return err
		}
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	for _, f := range texts {
		if f.kind == textOwn {
			continue
		}
		if err := CheckPersonalData(f.path, f.value); err != nil {
			return err
		}
	}
	return nil
}

func (f textField) check() error {
	if strings.TrimSpace(f.value) == "" {
		if f.required {
			return Errorf(EINVALID, f.path, "is required")
		}
		if f.value != "" {
			return Errorf(EINVALID, f.path, "is only spaces; leave it out or write something")
		}
		return nil
	}
	if !utf8.ValidString(f.value) {
		return Errorf(EINVALID, f.path, "is not valid UTF-8 text")
	}
	limit := maxNameRunes
	switch f.kind {
	case textFree:
		limit = maxTextRunes
	case textID:
		limit = maxIDRunes
		if strings.TrimSpace(f.value) != f.value {
			return Errorf(EINVALID, f.path, "must not begin or end with spaces")
		}
	}
	if n := utf8.RuneCountInString(f.value); n > limit {
		return Errorf(EINVALID, f.path, "is %d characters long; at most %d are allowed", n, limit)
	}
	for _, r := range f.value {
		if f.kind == textFree && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || isBidiControl(r) {
			return Errorf(EINVALID, f.path, "contains a control character (%U); only printable text is allowed", r)
		}
	}
	return nil
}

// isBidiControl reports the invisible direction overrides that can make text
// read differently from what it holds.
func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F
}

// checkEnum checks that v is empty (when not required) or one of values.
func checkEnum[T ~string](path string, v T, values []T, required bool) error {
	if v == "" {
		if required {
			return Errorf(EINVALID, path, "is required; one of %s", joinValues(values))
		}
		return nil
	}
	if !slices.Contains(values, v) {
		return Errorf(EINVALID, path, "%q is not one of %s", string(v), joinValues(values))
	}
	return nil
}

func joinValues[T ~string](values []T) string {
	var b strings.Builder
	for i, v := range values {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(v))
	}
	return b.String()
}

func checkID(path string, id uuid.UUID) error {
	if id == uuid.Nil {
		return Errorf(EINVALID, path, "is required: the id of an existing record, a UUID")
	}
	return nil
}

func checkDate(path string, d Date, required bool) error {
	if d.IsZero() {
		if required {
			return Errorf(EINVALID, path, "is required, as YYYY-MM-DD")
		}
		return nil
	}
	if y := d.Time().Year(); y < minYear || y > maxYear {
		return Errorf(EINVALID, path, "%s is not a plausible date; years %d to %d are allowed", d, minYear, maxYear)
	}
	return nil
}

func checkCount(path string, n int) error {
	if n < 0 || n > maxCount {
		return Errorf(EINVALID, path, "%d is out of range; 0 to %d are allowed", n, maxCount)
	}
	return nil
}

// checkValidUntil checks that a validity date runs past the day the fact
// took effect, and not absurdly far past it.
func checkValidUntil(path string, until, occurredOn Date) error {
	if until.IsZero() {
		return nil
	}
	if !until.After(occurredOn) {
		return Errorf(EINVALID, path, "%s must be after occurred_on (%s)", until, occurredOn)
	}
	if limit := occurredOn.AddYears(maxValidityYears); until.After(limit) {
		return Errorf(EINVALID, path, "%s is more than %d years after occurred_on (%s)", until, maxValidityYears, occurredOn)
	}
	return nil
}

// ledgerFilled names the decision fields only the ledger writes.
const ledgerFilled = "is filled in by the ledger when the decision is recorded; leave it out"

// texts lists a decision's text fields.
func (d *Decision) texts() []textField {
	return []textField{
		{"data.decided_by", d.DecidedBy, textName, true},
		{"data.rationale", d.Rationale, textFree, true},
	}
}

// check refuses the fields the ledger fills in: a client that could supply
// its own evaluation could record a decision against rules it never met.
func (d *Decision) check() error {
	if d.RulebookVersion != "" {
		return Errorf(EINVALID, "data.rulebook_version", ledgerFilled)
	}
	if d.Evaluation != nil {
		return Errorf(EINVALID, "data.evaluation", ledgerFilled)
	}
	return nil
}

// validateDecision validates a decision event's own texts and checks
// together with its Decision part.
func validateDecision(d *Decision, texts []textField, checks ...error) error {
	return validate(append(texts, d.texts()...), append(checks, d.check())...)
}

// Validate checks a new PractitionerRegistered: a name, a profession, and an
// email address of a plausible shape when given.
func (e *PractitionerRegistered) Validate() error {
	return validate(
		[]textField{{"data.name", e.Name, textOwn, true}, {"data.email", e.Email, textOwn, false}},
		checkEmail("data.email", e.Email),
		checkEnum("data.profession", e.Profession, professions, true),
	)
}

// Validate checks a new PractitionerDetailsChanged: at least one detail, each
// as PractitionerRegistered would have it.
func (e *PractitionerDetailsChanged) Validate() error {
	if e.Name == nil && e.Email == nil && e.Profession == nil && e.Independent == nil {
		return Errorf(EINVALID, "data", "changes nothing; give at least one of name, email, profession, independent")
	}
	var texts []textField
	var checks []error
	if e.Name != nil {
		texts = append(texts, textField{"data.name", *e.Name, textOwn, true})
	}
	if e.Email != nil {
		// An empty email removes the address on record.
		texts = append(texts, textField{"data.email", *e.Email, textOwn, false})
		checks = append(checks, checkEmail("data.email", *e.Email))
	}
	if e.Profession != nil {
		checks = append(checks, checkEnum("data.profession", *e.Profession, professions, true))
	}
	return validate(texts, checks...)
}

func checkEmail(path, email string) error {
	if email == "" {
		return nil
	}
	at := strings.LastIndexByte(email, '@')
	if len(email) > maxEmail || at < 1 || !strings.Contains(email[at+1:], ".") ||
		strings.ContainsAny(email, " \t\r\n<>,;") || strings.HasSuffix(email, ".") {
		return Errorf(EINVALID, path, "is not an email address of the form name@example.org")
	}
	return nil
}

// Validate checks a new OrganisationRegistered.
func (e *OrganisationRegistered) Validate() error {
	return validate(
		[]textField{{"data.name", e.Name, textName, true}},
		checkEnum("data.kind", e.Kind, organisationKinds, true),
	)
}

// Validate checks a new PractitionerJoinedOrganisation.
func (e *PractitionerJoinedOrganisation) Validate() error {
	return validate(nil, checkID("data.organisation_id", e.OrganisationID))
}

// Validate checks a new PractitionerLeftOrganisation.
func (e *PractitionerLeftOrganisation) Validate() error {
	return validate(nil, checkID("data.organisation_id", e.OrganisationID))
}

// Validate checks a new SeniorLeadershipSupportRecorded.
func (e *SeniorLeadershipSupportRecorded) Validate() error {
	return validate(
		[]textField{{"data.endorsed_by", e.EndorsedBy, textName, true}},
		checkID("data.organisation_id", e.OrganisationID),
	)
}

// Validate checks a new SuitabilityAgreed.
func (e *SuitabilityAgreed) Validate() error {
	return validate(nil,
		checkID("data.organisation_id", e.OrganisationID),
		checkEnum("data.role", e.Role, roles, true),
	)
}

// Validate checks a new CourseCompleted.
func (e *CourseCompleted) Validate() error {
	return validate(
		[]textField{{"data.delivered_by", e.DeliveredBy, textName, false}},
		checkEnum("data.course", e.Course, courses, true),
	)
}

// Validate checks a new CPDEngagementRecorded.
func (e *CPDEngagementRecorded) Validate() error {
	var hours error
	if math.IsNaN(e.Hours) || e.Hours < 0 || e.Hours > maxHours {
		hours = Errorf(EINVALID, "data.hours", "%v is out of range; 0 to %d hours are allowed", e.Hours, maxHours)
	}
	return validate(
		[]textField{{"data.title", e.Title, textFree, false}},
		checkEnum("data.kind", e.Kind, cpdKinds, true),
		hours,
	)
}

// Validate checks a new ReflectiveUpdateSubmitted.
func (e *ReflectiveUpdateSubmitted) Validate() error {
	return validate(
		[]textField{{"data.summary", e.Summary, textFree, false}},
		checkEnum("data.kind", e.Kind, reflectiveKinds, true),
	)
}

// Validate checks a new ParticipantFeedbackGathered.
func (e *ParticipantFeedbackGathered) Validate() error {
	return validate(
		[]textField{{"data.group_id", e.GroupID, textID, true}},
		checkCount("data.responses", e.Responses),
	)
}

// Validate checks a new ActionPlanSubmitted; its year is checked against
// the submission date by ValidateFact.
func (e *ActionPlanSubmitted) Validate() error {
	if e.Year < minYear || e.Year > maxYear {
		return Errorf(EINVALID, "data.year", "%d is not a plausible year; %d to %d are allowed", e.Year, minYear, maxYear)
	}
	return nil
}

func (e *ActionPlanSubmitted) validateOn(occurredOn Date) error {
	y := occurredOn.Time().Year()
	if e.Year < y-actionPlanYearSlack || e.Year > y+actionPlanYearSlack {
		return Errorf(EINVALID, "data.year", "%d is more than %d years from occurred_on (%s)", e.Year, actionPlanYearSlack, occurredOn)
	}
	return nil
}

// Validate checks a new StudyGroupRun.
func (e *StudyGroupRun) Validate() error {
	return validate(
		[]textField{{"data.group_id", e.GroupID, textID, true}},
		checkEnum("data.course", e.Course, groupCourses, true),
		checkEnum("data.audience", e.Audience, audiences, false),
		checkCount("data.participants", e.Participants),
	)
}

// Validate checks a new TrackerAssessmentRecorded.
func (e *TrackerAssessmentRecorded) Validate() error {
	return validate([]textField{{"data.summary", e.Summary, textFree, false}})
}

// Validate checks a new PracticeSupportEvidenced.
func (e *PracticeSupportEvidenced) Validate() error {
	var id error
	if e.SupportedPractitionerID != nil {
		id = checkID("data.supported_practitioner_id", *e.SupportedPractitionerID)
	}
	return validate([]textField{{"data.summary", e.Summary, textFree, false}}, id)
}

// Validate checks a new ProfessionalStandingEvidenced.
func (e *ProfessionalStandingEvidenced) Validate() error {
	return validate(
		[]textField{{"data.body", e.Body, textName, true}},
		checkDate("data.valid_until", e.ValidUntil, false),
	)
}

func (e *ProfessionalStandingEvidenced) validateOn(occurredOn Date) error {
	return checkValidUntil("data.valid_until", e.ValidUntil, occurredOn)
}

// Validate checks a new IndemnityInsuranceRecorded.
func (e *IndemnityInsuranceRecorded) Validate() error {
	return validate(
		[]textField{{"data.provider", e.Provider, textName, true}},
		checkDate("data.valid_until", e.ValidUntil, true),
	)
}

func (e *IndemnityInsuranceRecorded) validateOn(occurredOn Date) error {
	return checkValidUntil("data.valid_until", e.ValidUntil, occurredOn)
}

// Validate checks a new ApplicationSubmitted.
func (e *ApplicationSubmitted) Validate() error {
	return validate(
		[]textField{{"data.application_id", e.ApplicationID, textID, true}},
		checkEnum("data.role", e.Role, applicationRoles, true),
	)
}

// Validate checks a new ReferenceReceived.
func (e *ReferenceReceived) Validate() error {
	return validate([]textField{{"data.application_id", e.ApplicationID, textID, true}})
}

// Validate checks a new InterviewHeld.
func (e *InterviewHeld) Validate() error {
	return validate(
		[]textField{{"data.application_id", e.ApplicationID, textID, true}},
		checkEnum("data.outcome", e.Outcome, interviewOutcomes, true),
	)
}

// Validate checks a new ApplicationDecided and its decision fields.
func (e *ApplicationDecided) Validate() error {
	return validateDecision(&e.Decision,
		[]textField{{"data.application_id", e.ApplicationID, textID, true}},
		checkEnum("data.outcome", e.Outcome, applicationOutcome, true),
	)
}

// Validate checks a new TraineeshipStarted.
func (e *TraineeshipStarted) Validate() error {
	return validate(nil, checkEnum("data.role", e.Role, traineeRoles, true))
}

// Validate checks a new CertificationAwarded and its decision fields.
func (e *CertificationAwarded) Validate() error {
	return validateDecision(&e.Decision, nil, checkEnum("data.role", e.Role, roles, true))
}

func validateRoleChange(d *Decision, role Role, reason string) error {
	return validateDecision(d,
		[]textField{{"data.reason", reason, textFree, true}},
		checkEnum("data.role", role, roles, true),
	)
}

// Validate checks a new CertificationSuspended and its decision fields.
func (e *CertificationSuspended) Validate() error {
	return validateRoleChange(&e.Decision, e.Role, e.Reason)
}

// Validate checks a new CertificationReinstated and its decision fields.
func (e *CertificationReinstated) Validate() error {
	return validateRoleChange(&e.Decision, e.Role, e.Reason)
}

// Validate checks a new CertificationWithdrawn and its decision fields.
func (e *CertificationWithdrawn) Validate() error {
	return validateRoleChange(&e.Decision, e.Role, e.Reason)
}

// Validate checks a new LicenceGranted and its decision fields.
func (e *LicenceGranted) Validate() error {
	return validateDecision(&e.Decision,
		[]textField{{"data.licence_id", e.LicenceID, textID, true}},
		checkEnum("data.kind", e.Kind, licenceKinds, true),
		checkEnum("data.scope", e.Scope, licenceScopes, false),
		checkDate("data.valid_until", e.ValidUntil, true),
	)
}

func (e *LicenceGranted) validateOn(occurredOn Date) error {
	return checkValidUntil("data.valid_until", e.ValidUntil, occurredOn)
}

// Validate checks a new LicenceRenewed and its decision fields.
func (e *LicenceRenewed) Validate() error {
	return validateDecision(&e.Decision,
		[]textField{{"data.licence_id", e.LicenceID, textID, true}},
		checkDate("data.valid_until", e.ValidUntil, true),
	)
}

func (e *LicenceRenewed) validateOn(occurredOn Date) error {
	return checkValidUntil("data.valid_until", e.ValidUntil, occurredOn)
}

func validateLicenceChange(d *Decision, licenceID, reason string) error {
	return validateDecision(d, []textField{
		{"data.licence_id", licenceID, textID, true},
		{"data.reason", reason, textFree, true},
	})
}

// Validate checks a new LicenceSuspended and its decision fields.
func (e *LicenceSuspended) Validate() error {
	return validateLicenceChange(&e.Decision, e.LicenceID, e.Reason)
}

// Validate checks a new LicenceReinstated and its decision fields.
func (e *LicenceReinstated) Validate() error {
	return validateLicenceChange(&e.Decision, e.LicenceID, e.Reason)
}

// Validate checks a new LicenceRevoked and its decision fields.
func (e *LicenceRevoked) Validate() error {
	return validateLicenceChange(&e.Decision, e.LicenceID, e.Reason)
}

// Validate checks a new DirectoryListingConsented.
func (e *DirectoryListingConsented) Validate() error {
	return validate(nil, checkEnum("data.directory", e.Directory, directories, true))
}

// Validate checks a new DirectoryListingWithdrawn.
func (e *DirectoryListingWithdrawn) Validate() error {
	return validate(nil, checkEnum("data.directory", e.Directory, directories, true))
}

// Validate checks a new DecisionReviewed.
func (e *DecisionReviewed) Validate() error {
	return validate(
		[]textField{{"data.notes", e.Notes, textFree, false}},
		checkID("data.decision_event_id", e.DecisionEventID),
		checkEnum("data.outcome", e.Outcome, reviewOutcomes, true),
	)
}

// Validate checks a new EventRetracted.
func (e *EventRetracted) Validate() error {
	return validate(
		[]textField{{"data.reason", e.Reason, textFree, true}},
		checkID("data.retracted_event_id", e.RetractedEventID),
	)
}

// Validate checks a new PersonalDataErased: the reason is required, and like
// every reason it must hold no personal identifiers.
func (e *PersonalDataErased) Validate() error {
	return validate([]textField{{"data.reason", e.Reason, textFree, true}})
}
