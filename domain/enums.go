package domain

// The enumerations of DOMAIN.md's event catalogue. Each is a string type whose
// values are the wire names; Valid reports membership.

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
