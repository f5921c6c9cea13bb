package domain

import "slices"

// The enumerations of DOMAIN.md's event catalogue. Each is a string type whose
// values are the wire names; the tables at the end list every value in the
// catalogue's order, and Valid reports membership. Validation (validate.go)
// and EnumValues (enumvalues.go) read the same tables.

// Profession is a practitioner's professional background.
type Profession string

// Professions.
const (
	ProfessionHealth    Profession = "health"
	ProfessionEducation Profession = "education"
	ProfessionCommunity Profession = "community"
	ProfessionParent    Profession = "parent"
	ProfessionOther     Profession = "other"
)

// OrganisationKind is the kind of an organisation.
type OrganisationKind string

// Organisation kinds.
const (
	OrgSchool       OrganisationKind = "school"
	OrgGPPractice   OrganisationKind = "gp_practice"
	OrgService      OrganisationKind = "service"
	OrgCommunityHub OrganisationKind = "community_hub"
	OrgNetwork      OrganisationKind = "network"
	OrgOther        OrganisationKind = "other"
)

// Course is a course a practitioner completes.
type Course string

// Courses.
const (
	CourseAwareness                  Course = "awareness"
	CourseFoundationAPart1           Course = "foundation_a_part1"
	CourseFoundationAPart2           Course = "foundation_a_part2"
	CourseFoundationB                Course = "foundation_b"
	CourseIntermediateA              Course = "intermediate_a"
	CourseIntermediateB              Course = "intermediate_b"
	CourseStudySupporterPreparation  Course = "study_supporter_preparation"
	CourseFacilitatorMechanics       Course = "facilitator_mechanics"
	CourseLevel3                     Course = "level3"
	CourseDeepDive                   Course = "deep_dive"
	CourseLinkProfessional           Course = "link_professional"
	CourseLeadProfessional           Course = "lead_professional"
	CourseLeadPlusModules            Course = "lead_plus_modules"
	CourseIncreasedPressureParenting Course = "increased_pressure_parenting"
)

// GroupCourse is a course a study group is run for.
type GroupCourse string

// Group courses.
const (
	GroupFoundationA                GroupCourse = "foundation_a"
	GroupFoundationB                GroupCourse = "foundation_b"
	GroupIntermediateA              GroupCourse = "intermediate_a"
	GroupIntermediateB              GroupCourse = "intermediate_b"
	GroupEverydayParenting          GroupCourse = "everyday_parenting"
	GroupIncreasedPressureParenting GroupCourse = "increased_pressure_parenting"
)

// Audience is who a study group is for.
type Audience string

// Audiences.
const (
	AudienceProfessionals Audience = "professionals"
	AudienceParents       Audience = "parents"
)

// CPDKind is a kind of continuing professional development engagement.
type CPDKind string

// CPD kinds.
const (
	CPDPractitionerDevelopment CPDKind = "practitioner_development"
	CPDNetworkEngagement       CPDKind = "network_engagement"
	CPDPeerSupervision         CPDKind = "peer_supervision"
	CPDLinkedCPD               CPDKind = "linked_cpd"
)

// ReflectiveKind is a kind of reflective update.
type ReflectiveKind string

// Reflective update kinds.
const (
	ReflectiveLogBook        ReflectiveKind = "log_book"
	ReflectiveJournal        ReflectiveKind = "reflective_journal"
	ReflectivePeriodicUpdate ReflectiveKind = "periodic_update"
)

// ApplicationRole is a role one applies for.
type ApplicationRole string

// Application roles.
const (
	ApplyStudySupporter          ApplicationRole = "study_supporter"
	ApplyTraineeLeadProfessional ApplicationRole = "trainee_lead_professional"
	ApplyLeadPlus                ApplicationRole = "lead_plus"
	ApplyParentMentor            ApplicationRole = "parent_mentor"
	ApplyAdvancedPractitioner    ApplicationRole = "advanced_practitioner"
	ApplySeniorLink              ApplicationRole = "senior_link"
)

// Role is a certified role on the pathway.
type Role string

// Certified roles, in pathway order.
const (
	RoleInformedPractitioner Role = "informed_practitioner"
	RoleLinkProfessional     Role = "link_professional"
	RoleLeadProfessional     Role = "lead_professional"
	RoleLeadPlus             Role = "lead_plus"
	RoleSeniorLink           Role = "senior_link"
)

// InterviewOutcome is the outcome of an interview.
type InterviewOutcome string

// Interview outcomes.
const (
	InterviewPassed    InterviewOutcome = "passed"
	InterviewNotPassed InterviewOutcome = "not_passed"
)

// ApplicationOutcome is the outcome of an application decision.
type ApplicationOutcome string

// Application outcomes.
const (
	ApplicationAccepted ApplicationOutcome = "accepted"
	ApplicationDeclined ApplicationOutcome = "declined"
)

// LicenceKind is a kind of licence.
type LicenceKind string

// Licence kinds.
const (
	LicenceInformalUse    LicenceKind = "informal_use"
	LicenceLevel3A        LicenceKind = "level3a"
	LicenceLevel3B        LicenceKind = "level3b"
	LicenceLevel4         LicenceKind = "level4"
	LicenceLevel5         LicenceKind = "level5"
	LicenceCommunityWheel LicenceKind = "community_wheel"
	LicenceOrganisational LicenceKind = "organisational"
	LicenceSpecialist     LicenceKind = "specialist"
)

// LicenceScope is what a licence covers.
type LicenceScope string

// Licence scopes.
const (
	ScopeEverydayParenting          LicenceScope = "everyday_parenting"
	ScopeIncreasedPressureParenting LicenceScope = "increased_pressure_parenting"
)

// Directory is a public directory a practitioner may be listed in.
type Directory string

// Directories.
const (
	DirectoryInformed       Directory = "informed"
	DirectoryLocalityHub    Directory = "locality_hub"
	DirectoryIndependent    Directory = "independent"
	DirectoryOrganisational Directory = "organisational"
)

// ReviewOutcome is the outcome of a quality-control review.
type ReviewOutcome string

// Review outcomes.
const (
	ReviewUpheld           ReviewOutcome = "upheld"
	ReviewOverturned       ReviewOutcome = "overturned"
	ReviewNeedsInformation ReviewOutcome = "needs_information"
)

// Every value of each enumeration, in the catalogue's order; Valid and the
// error messages use them.
var (
	professions       = []Profession{ProfessionHealth, ProfessionEducation, ProfessionCommunity, ProfessionParent, ProfessionOther}
	organisationKinds = []OrganisationKind{OrgSchool, OrgGPPractice, OrgService, OrgCommunityHub, OrgNetwork, OrgOther}
	courses           = []Course{CourseAwareness, CourseFoundationAPart1, CourseFoundationAPart2, CourseFoundationB, CourseIntermediateA, CourseIntermediateB, CourseStudySupporterPreparation, CourseFacilitatorMechanics, CourseLevel3, CourseDeepDive, CourseLinkProfessional, CourseLeadProfessional, CourseLeadPlusModules, CourseIncreasedPressureParenting}
	groupCourses      = []GroupCourse{GroupFoundationA, GroupFoundationB, GroupIntermediateA, GroupIntermediateB, GroupEverydayParenting, GroupIncreasedPressureParenting}
	audiences         = []Audience{AudienceProfessionals, AudienceParents}
	cpdKinds          = []CPDKind{CPDPractitionerDevelopment, CPDNetworkEngagement, CPDPeerSupervision, CPDLinkedCPD}
	reflectiveKinds   = []ReflectiveKind{ReflectiveLogBook, ReflectiveJournal, ReflectivePeriodicUpdate}
	applicationRoles  = []ApplicationRole{ApplyStudySupporter, ApplyTraineeLeadProfessional, ApplyLeadPlus, ApplyParentMentor, ApplyAdvancedPractitioner, ApplySeniorLink}
	roles             = []Role{RoleInformedPractitioner, RoleLinkProfessional, RoleLeadProfessional, RoleLeadPlus, RoleSeniorLink}
	// traineeRoles are the certifications one can be a trainee for
	// (catalogue: TraineeshipStarted role is lead_professional or lead_plus).
	traineeRoles       = []Role{RoleLeadProfessional, RoleLeadPlus}
	interviewOutcomes  = []InterviewOutcome{InterviewPassed, InterviewNotPassed}
	applicationOutcome = []ApplicationOutcome{ApplicationAccepted, ApplicationDeclined}
	licenceKinds       = []LicenceKind{LicenceInformalUse, LicenceLevel3A, LicenceLevel3B, LicenceLevel4, LicenceLevel5, LicenceCommunityWheel, LicenceOrganisational, LicenceSpecialist}
	licenceScopes      = []LicenceScope{ScopeEverydayParenting, ScopeIncreasedPressureParenting}
	directories        = []Directory{DirectoryInformed, DirectoryLocalityHub, DirectoryIndependent, DirectoryOrganisational}
	reviewOutcomes     = []ReviewOutcome{ReviewUpheld, ReviewOverturned, ReviewNeedsInformation}
)

// Valid reports whether p is one of the catalogue's professions.
func (p Profession) Valid() bool { return slices.Contains(professions, p) }

// Valid reports whether k is one of the catalogue's organisation kinds.
func (k OrganisationKind) Valid() bool { return slices.Contains(organisationKinds, k) }

// Valid reports whether c is one of the catalogue's courses.
func (c Course) Valid() bool { return slices.Contains(courses, c) }

// Valid reports whether c is one of the courses a study group is run for.
func (c GroupCourse) Valid() bool { return slices.Contains(groupCourses, c) }

// Valid reports whether a is one of the catalogue's audiences.
func (a Audience) Valid() bool { return slices.Contains(audiences, a) }

// Valid reports whether k is one of the catalogue's CPD kinds.
func (k CPDKind) Valid() bool { return slices.Contains(cpdKinds, k) }

// Valid reports whether k is one of the catalogue's reflective update kinds.
func (k ReflectiveKind) Valid() bool { return slices.Contains(reflectiveKinds, k) }

// Valid reports whether r is one of the roles one may apply for.
func (r ApplicationRole) Valid() bool { return slices.Contains(applicationRoles, r) }

// Valid reports whether r is one of the certified roles.
func (r Role) Valid() bool { return slices.Contains(roles, r) }

// Valid reports whether o is an interview outcome.
func (o InterviewOutcome) Valid() bool { return slices.Contains(interviewOutcomes, o) }

// Valid reports whether o is an application outcome.
func (o ApplicationOutcome) Valid() bool { return slices.Contains(applicationOutcome, o) }

// Valid reports whether k is one of the catalogue's licence kinds.
func (k LicenceKind) Valid() bool { return slices.Contains(licenceKinds, k) }

// Valid reports whether s is one of the catalogue's licence scopes.
func (s LicenceScope) Valid() bool { return slices.Contains(licenceScopes, s) }

// Valid reports whether d is one of the catalogue's directories.
func (d Directory) Valid() bool { return slices.Contains(directories, d) }

// Valid reports whether o is a review outcome.
func (o ReviewOutcome) Valid() bool { return slices.Contains(reviewOutcomes, o) }
