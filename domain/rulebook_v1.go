package domain

// Rulebook v1: the seeds as DOMAIN.md reads them. Every requirement cites
// the sentence it comes from: "older seed" is
// licensing-and-lead-professional-training.txt, "newer seed" is
// lead-plus-professional-role.txt (which stands where they disagree).
// Where the seeds are silent, the Source says "v1 reading:" and what was
// chosen; a different reading is a rulebook v2, a new table.

// Seed sentences cited by more than one requirement.
const (
	srcApplySupport  = `older seed: "Anyone wishing to apply to become a Lead Professional offering study support sessions for online learning to others must apply to our Lead Professionals progam with support from senior leadership from their own organisation or community"`
	srcConfidence    = `older seed: "You must have the confidence of your senior leadership team as regards your ability to connect well with a range of professionals and parents and young people"`
	srcOnApplication = `older seed: "Volunteer places and Advanced Practitioner Trainee licences are offered on the basis of application, references and interview."`
	srcEntry         = `older seed: "We generally take people into the advanced programme on completion of Intermediate A or B."`
	srcFastTrack     = `older seed: "when an organisation can benefit and we can see a clear fit, then we sometimes offer a fast track on completion of Foundation A and B on an understanding that the required course work will be prioritised and completed."`
	srcALicence      = `older seed: "A licenses are generally offered to professionals who are salaried professionals who have completed Foundation A&B and Intermeidate A plus our study supporters preparation course"`
	src3ASupport     = `older seed: "We offer Level 3 A licences to professionals who have the support of their senior leadership teams."`
	srcRegistered    = `older seed: "we have made a current decision to only licence professionals as Lead Practitioners if they are working with a registered school or service"`
	srcFacilitator   = `older seed: "If you want to become a facilitator you must complete Foundation and Intermediate Training and a short course on the mechnanics of running a successful Foundation A study support group."`
	srcTrainee       = `older seed: "You then apply to become a trainee and set up and run two groups including the completion of a learning log book."`
	srcLinkedCPD     = `older seed: "+ must take part in some linked CPD to maintain their licence"`
	srcLevel1        = `older seed: "Level 1 Foundation Level - fleshes out the I Matter Framework helping join up the dots and LINK PROFESSIONAL ROLE"`
	srcLevel2        = `older seed: "Level 2 Intermediate Level - ensures a solid grasp of basics of child development"`
	srcL3Basis       = `older seed: "Supporting Others - LEAD PROFESSIONALS (levels 3-5)"; v1 reading: Level 3 rests on a current Level 3 A or B licence or Lead Professional certification (DOMAIN.md levels table)`
	srcPlusL12       = `newer seed: "have completed Level 1 and Level 2"`
	srcPlusL3        = `newer seed: "have completed the I Matter Level 3 and Deep Dive (Extended Learning)"`
	srcPlusCerts     = `newer seed: "have completed Link and Lead Professional certification"`
	srcPlusSuitable  = `newer seed: "have agreed suitability for this role within your organisation or network"`
	srcPlusApply     = `newer seed: "Apply for Lead Plus Professional certification"`
)

// Requirement builders, so that the table below reads as a list of rules.

func reqCourse(name string, c Course, src string) Requirement {
	return Requirement{Name: name, Description: courseNames[c] + " completed", Source: src, Kind: RequireCourse, Course: c}
}

func reqCertified(name string, r Role, src string) Requirement {
	return Requirement{Name: name, Description: roleNames[r] + " certification held and active", Source: src, Kind: RequireCertified, Role: r}
}

func reqCount(name, desc string, k EvidenceKind, min int, w Window, src string) Requirement {
	return Requirement{Name: name, Description: desc, Source: src, Kind: RequireCount, Evidence: k, Min: min, Window: w}
}

// withRole sets the role a WindowTraineeship count counts from.
func withRole(r Requirement, role Role) Requirement {
	r.Role = role
	return r
}

func reqAll(name, desc, src string, of ...Requirement) Requirement {
	return Requirement{Name: name, Description: desc, Source: src, Kind: RequireAllOf, Of: of}
}

func reqAny(name, desc, src string, of ...Requirement) Requirement {
	return Requirement{Name: name, Description: desc, Source: src, Kind: RequireAnyOf, Of: of}
}

func reqLeadership(src string) Requirement {
	return Requirement{Name: "senior_leadership_support", Description: "senior-leadership support from an organisation the practitioner is still in", Source: src, Kind: RequireLeadershipSupport}
}

func reqRegisteredService() Requirement {
	return Requirement{Name: "registered_school_or_service", Description: "working with a registered school or service (one registered as a service on its organisation stream)", Source: srcRegistered, Kind: RequireOrganisation, RegisteredService: true}
}

func reqApplicationOnFile() Requirement {
	return Requirement{Name: "application_submitted", Description: "the application decided is on file", Source: srcOnApplication, Kind: RequireApplicationSubmitted}
}

func reqReferences() Requirement {
	return Requirement{Name: "supportive_references", Description: "at least two supportive references for the application", Source: srcOnApplication + `; v1 reading: "references" means at least two supportive ones`, Kind: RequireReferences, Min: 2}
}

func reqInterview() Requirement {
	return Requirement{Name: "interview_passed", Description: "the latest interview for the application was passed", Source: srcOnApplication, Kind: RequireInterviewPassed}
}

func reqLicenceStatus(desc string, src string, st ...LicenceStatus) Requirement {
	return Requirement{Name: "licence_status", Description: desc, Source: src, Kind: RequireLicenceStatus, LicenceStatuses: st}
}

func reqRoleStatus(desc string, src string, st ...RoleStatus) Requirement {
	return Requirement{Name: "role_status", Description: desc, Source: src, Kind: RequireRoleStatus, RoleStatuses: st}
}

// foundationCourses are Level 1: Foundation A (both parts) and Foundation B.
func foundationCourses(src string) []Requirement {
	return []Requirement{
		reqCourse("foundation_a_part1", CourseFoundationAPart1, src),
		reqCourse("foundation_a_part2", CourseFoundationAPart2, src),
		reqCourse("foundation_b", CourseFoundationB, src),
	}
}

// level12 is Level 1 and Level 2 as one requirement.
func level12(name, src string) Requirement {
	return reqAll(name, "Level 1 and Level 2 completed: Foundation A parts 1 and 2, Foundation B, Intermediate A and B", src,
		reqCourse("foundation_a_part1", CourseFoundationAPart1, src),
		reqCourse("foundation_a_part2", CourseFoundationAPart2, src),
		reqCourse("foundation_b", CourseFoundationB, src),
		reqCourse("intermediate_a", CourseIntermediateA, src),
		reqCourse("intermediate_b", CourseIntermediateB, src))
}

// level3Basis is what Level 3 rests on.
func level3Basis(name string) Requirement {
	return reqAny(name, "a current Level 3 A or B licence, or Lead Professional certification", srcL3Basis,
		Requirement{Name: "level3_licence", Description: "a current Level 3 A or B licence", Source: srcL3Basis, Kind: RequireLicenceCurrent, LicenceKinds: []LicenceKind{LicenceLevel3A, LicenceLevel3B}},
		reqCertified("lead_professional", RoleLeadProfessional, srcL3Basis))
}

// advancedEntry is entry to the advanced programme: Intermediate A or B,
// or, on a fast-track decision, Foundation A and B.
func advancedEntry(fastTrack bool) Requirement {
	of := []Requirement{
		reqCourse("intermediate_a", CourseIntermediateA, srcEntry),
		reqCourse("intermediate_b", CourseIntermediateB, srcEntry),
	}
	desc := "Intermediate A or Intermediate B completed"
	src := srcEntry
	if fastTrack {
		of = append(of, reqAll("fast_track", "a fast-track decision, with Foundation A parts 1 and 2 and Foundation B completed", srcFastTrack,
			append([]Requirement{{Name: "fast_track_decision", Description: "the decision is marked fast_track", Source: srcFastTrack, Kind: RequireFastTrack}},
				foundationCourses(srcFastTrack)...)...))
		desc += ", or a fast track after Foundation A and B"
		src += "; " + srcFastTrack
	}
	return reqAny("advanced_programme_entry", desc, src, of...)
}

// leadMaintenance is what every trainee and Lead Professional keeps up each
// certification year (older seed, the list after "start out as Trainees
// and are expected to").
func leadMaintenance() []Requirement {
	return []Requirement{
		reqLeadership(`older seed: "+ have the support of senior leadership"`),
		{Name: "current_licence", Description: "a current Level 3 A, 3 B, 4 or 5 licence", Source: `older seed: "+ have a current licence by subscription"`,
			Kind: RequireLicenceCurrent, LicenceKinds: []LicenceKind{LicenceLevel3A, LicenceLevel3B, LicenceLevel4, LicenceLevel5}},
		{Name: "monthly_practitioner_development", Description: "practitioner development training in every elapsed whole month of the certification year",
			Source: `older seed: "+ take part in a monthly ongoing practitioner development training"; v1 reading: at least one practitioner_development engagement in each whole month of the certification year that has elapsed (months counted from the year's start day); a month missed cannot be made up`,
			Kind:   RequireMonthly, Evidence: EvidencePractitionerDevelopment, Window: WindowPeriod},
		reqCount("participant_feedback", "participant feedback gathered this certification year", EvidenceParticipantFeedback, 1, WindowPeriod,
			`older seed: "+ gather participant feedback"; v1 reading: at least once each certification year`),
		reqCount("log_book", "the personal log book kept up this certification year", EvidenceLogBook, 1, WindowPeriod,
			`older seed: "+ maintain a personal log book"; v1 reading: at least one log_book update each certification year`),
		reqCount("annual_action_plan", "an annual action plan with a budget plan submitted this certification year", EvidenceActionPlanWithBudget, 1, WindowPeriod,
			`older seed: "+ must submit an annual action plan and budgetting plan each year" and "+ have an agreed Action plan outline"; v1 reading: one action plan with budget_included in each certification year serves both; its year field is not read`),
		reqCount("foundation_a_supported", "at least 2 Foundation A courses supported this certification year", EvidenceFoundationAGroup, 2, WindowPeriod,
			`older seed: "+ must support a minimum of 2 Foundation A courses each year for professionals or parents"`),
		reqCount("linked_cpd", "linked CPD taken part in this certification year", EvidenceLinkedCPD, 1, WindowPeriod, srcLinkedCPD),
	}
}

// RulebookV1 returns rulebook v1. Each call builds a new value; callers
// keep one and share it.
func RulebookV1() *Rulebook {
	practiceLicences := []LicenceKind{LicenceLevel3A, LicenceLevel3B, LicenceLevel4, LicenceLevel5, LicenceCommunityWheel, LicenceSpecialist}
	linkedCPDLastYear := reqCount("linked_cpd", "linked CPD taken part in during the year before the renewal", EvidenceLinkedCPD, 1, WindowPeriod,
		srcLinkedCPD+"; v1 reading: a renewal needs at least one linked CPD engagement in the year up to the renewal date")

	return &Rulebook{
		Version:    "v1",
		AtRiskDays: 60,
		Levels: []LevelRule{
			{Level: 5, Name: "Complex care co-ordination; Community Trainer", Requirement: Requirement{Name: "level5", Description: "a current Level 5 licence",
				Source: `older seed: "Level 5 Complex care co-ordination for inhouse practices and Community Trainer licences"`, Kind: RequireLicenceCurrent, LicenceKinds: []LicenceKind{LicenceLevel5}}},
			{Level: 4, Name: "Embedding developmental thinking in in-house practice", Requirement: Requirement{Name: "level4", Description: "a current Level 4 licence",
				Source: `older seed: "Level 4 Embedding developmental thinking delivery into inhouse practice licences"`, Kind: RequireLicenceCurrent, LicenceKinds: []LicenceKind{LicenceLevel4}}},
			{Level: 3, Name: "Supporting Foundation learning in house (Everyday Parenting)", Requirement: level3Basis("level3")},
			{Level: 2, Name: "Intermediate", Requirement: level12("level2", srcLevel2)},
			{Level: 1, Name: "Foundation", Requirement: reqAll("level1", "Foundation A parts 1 and 2 and Foundation B completed", srcLevel1, foundationCourses(srcLevel1)...)},
			{Level: 0, Name: "Awareness", Requirement: reqAny("level0", "registered, or the Awareness course completed", `older seed: "Awareness Level - Introductions, Getting Started"`,
				Requirement{Name: "registered", Description: "registered", Kind: RequireRegistered},
				reqCourse("awareness", CourseAwareness, `older seed: "Awareness Level - Introductions, Getting Started"`))},
		},

		LicenceGrants: map[LicenceKind][]Requirement{
			LicenceInformalUse: {
				reqAny("level_1_or_2_training", "any Level 1 Foundation or Level 2 Intermediate course completed",
					`older seed: "A professional or parent who accesses our Level 1 Foundation or Level 2 Intermediate training or purchases course notes or A4 posters has a licence to use the resources"; v1 reading: buying course notes or posters is not recorded, so a licence on that ground is an exception`,
					reqCourse("foundation_a_part1", CourseFoundationAPart1, srcLevel1),
					reqCourse("foundation_a_part2", CourseFoundationAPart2, srcLevel1),
					reqCourse("foundation_b", CourseFoundationB, srcLevel1),
					reqCourse("intermediate_a", CourseIntermediateA, srcLevel2),
					reqCourse("intermediate_b", CourseIntermediateB, srcLevel2)),
			},
			LicenceLevel3A: append(append([]Requirement{reqLeadership(src3ASupport)}, foundationCourses(srcALicence)...),
				reqCourse("intermediate_a", CourseIntermediateA, srcALicence),
				reqCourse("study_supporter_preparation", CourseStudySupporterPreparation, srcALicence),
				reqRegisteredService()),
			LicenceLevel3B: {
				{Name: "central_team", Description: "on the I Matter central team, freelance or employed",
					Source: `older seed: "At present, all B licensees work on our team in a freelance or employed capacity."; v1 reading: the catalogue records no central-team membership, so every Level 3 B grant is an exception whose rationale names the team role, and goes to quality control`,
					Kind:   RequireNotRecorded},
			},
			LicenceLevel4: {
				level3Basis("level3"),
				reqCourse("intermediate_a", CourseIntermediateA, srcLevel2+"; v1 reading: Level 4 builds on Levels 1 to 3"),
				reqCourse("intermediate_b", CourseIntermediateB, srcLevel2+"; v1 reading: Level 4 builds on Levels 1 to 3"),
				reqLeadership(srcApplySupport),
				reqRegisteredService(),
			},
			LicenceLevel5: {
				{Name: "level4_licence", Description: "a current Level 4 licence",
					Source: `older seed: "Our Level 5 trainers are selected from professionals who have worked up through their own organisational structures."; v1 reading: a current Level 4 licence`,
					Kind:   RequireLicenceCurrent, LicenceKinds: []LicenceKind{LicenceLevel4}},
				reqLeadership(srcApplySupport),
				reqRegisteredService(),
			},
			LicenceCommunityWheel: {
				{Name: "community_hub_or_gp", Description: "working with a community hub or GP practice",
					Source: `older seed: "commuity wheel licences are more often held by GP's and community leaders" and "The wheel is offered as part of an I Matter community hub development process"`,
					Kind:   RequireOrganisation, OrgKinds: []OrganisationKind{OrgCommunityHub, OrgGPPractice}},
			},
			LicenceSpecialist: {
				level3Basis("level3"),
				reqRegisteredService(),
			},
			LicenceOrganisational: {
				{Name: "held_by_organisation", Description: "an organisational licence is held by a school or service, on the organisation's stream",
					Source: `older seed: "an organisational licence to a school or service requires a commitment to the thinking involved from senior leadership teams"`, Kind: RequireNotRecorded},
			},
		},
		OrganisationLicenceGrants: map[LicenceKind][]Requirement{
			LicenceOrganisational: {
				{Name: "school_or_service", Description: "a registered school, service or GP practice", Kind: RequireOrganisationIs, OrgKinds: []OrganisationKind{OrgSchool, OrgService, OrgGPPractice},
					Source: `older seed: "an organisational licence to a school or service requires a commitment to the thinking involved from senior leadership teams"; v1 reading: a GP practice is a service`},
				{Name: "senior_leadership_commitment", Description: "senior-leadership support for the organisation recorded by a practitioner still in it", Kind: RequireOrganisationCommitment,
					Source: `older seed: "an organisational licence to a school or service requires a commitment to the thinking involved from senior leadership teams"; v1 reading: a SeniorLeadershipSupportRecorded naming the organisation in a member's stream`},
			},
			LicenceLevel3A: {
				{Name: "registered_school_or_service", Description: "a registered school, service or GP practice", Kind: RequireOrganisationIs, OrgKinds: []OrganisationKind{OrgSchool, OrgService, OrgGPPractice}, RegisteredService: true,
					Source: `older seed: "whereas 3A licences are generally held by schools"; ` + srcRegistered},
				{Name: "senior_leadership_commitment", Description: "senior-leadership support for the organisation recorded by a practitioner still in it", Kind: RequireOrganisationCommitment, Source: src3ASupport},
			},
			LicenceCommunityWheel: {
				{Name: "community_hub_or_gp", Description: "a community hub or GP practice", Kind: RequireOrganisationIs, OrgKinds: []OrganisationKind{OrgCommunityHub, OrgGPPractice},
					Source: `older seed: "The wheel is offered as part of an I Matter community hub development process"`},
			},
		},
		ScopeRequirements: map[LicenceScope][]Requirement{
			ScopeIncreasedPressureParenting: {
				reqCourse("increased_pressure_parenting", CourseIncreasedPressureParenting,
					`older seed: "The licence covers support for what we describe as Everyday Parenting, and additional experience and competencies will be required to offer I Matter Training for Increased Pressure Parenting."; v1 reading: the increased_pressure_parenting course`),
			},
		},
		LicenceChanges: map[string][]Requirement{
			TypeLicenceRenewed: {reqLicenceStatus("the licence was granted and is not revoked", `DOMAIN.md: "Licences are by subscription: they have a validity period and are renewed."`,
				LicenceStatusActive, LicenceStatusSuspended, LicenceStatusExpired)},
			TypeLicenceSuspended:  {reqLicenceStatus("the licence is active", `DOMAIN.md: "A decision is an event that grants, refuses, suspends, reinstates or withdraws something"; v1 reading: only an active licence is suspended`, LicenceStatusActive)},
			TypeLicenceReinstated: {reqLicenceStatus("the licence is suspended", `DOMAIN.md: "A decision is an event that grants, refuses, suspends, reinstates or withdraws something"; v1 reading: only a suspended licence is reinstated`, LicenceStatusSuspended)},
			TypeLicenceRevoked: {reqLicenceStatus("the licence was granted and is not already revoked", `DOMAIN.md: "A decision is an event that grants, refuses, suspends, reinstates or withdraws something"`,
				LicenceStatusActive, LicenceStatusSuspended, LicenceStatusExpired)},
		},
		LicenceRenewals: map[LicenceKind][]Requirement{
			LicenceLevel3A:        {linkedCPDLastYear, reqRegisteredService()},
			LicenceLevel3B:        {linkedCPDLastYear},
			LicenceLevel4:         {linkedCPDLastYear, reqRegisteredService()},
			LicenceLevel5:         {linkedCPDLastYear, reqRegisteredService()},
			LicenceCommunityWheel: {linkedCPDLastYear},
			LicenceSpecialist:     {linkedCPDLastYear, reqRegisteredService()},
		},

		Applications: map[ApplicationRole][]Requirement{
			ApplyStudySupporter: {
				reqApplicationOnFile(),
				reqAll("courses_completed", "Foundation A parts 1 and 2 and Foundation B completed",
					`older seed: "Professionals and parents who have completed the courses can apply to join our team of volunteer study supporters."; v1 reading: "the courses" are Level 1 Foundation`,
					foundationCourses(srcLevel1)...),
				reqReferences(),
				reqInterview(),
			},
			ApplyTraineeLeadProfessional: {
				reqApplicationOnFile(),
				reqReferences(),
				reqInterview(),
				reqLeadership(srcApplySupport + "; " + srcConfidence),
				advancedEntry(true),
			},
			ApplyAdvancedPractitioner: {
				reqApplicationOnFile(),
				reqReferences(),
				reqInterview(),
				reqLeadership(srcConfidence),
				advancedEntry(true),
			},
			ApplyParentMentor: {
				reqApplicationOnFile(),
				reqReferences(),
				reqInterview(),
				func() Requirement {
					r := advancedEntry(false)
					r.Source = `older seed: "We are able to offer some experienced parents positions as Level 3 advanced level Parent Mentor"; v1 reading: entry as to the advanced programme, ` + srcEntry
					return r
				}(),
			},
			ApplyLeadPlus: {
				{Name: "application_submitted", Description: "the application decided is on file", Source: srcPlusApply, Kind: RequireApplicationSubmitted},
				level12("level_1_and_2", srcPlusL12),
				reqCourse("level3", CourseLevel3, srcPlusL3),
				reqCourse("deep_dive", CourseDeepDive, srcPlusL3),
				reqCertified("link_professional", RoleLinkProfessional, srcPlusCerts),
				reqCertified("lead_professional", RoleLeadProfessional, srcPlusCerts),
				{Name: "suitability_agreed", Description: "suitability for Lead Plus agreed by an organisation or network", Source: srcPlusSuitable, Kind: RequireSuitability, Role: RoleLeadPlus},
			},
			ApplySeniorLink: {
				{Name: "application_submitted", Description: "the application decided is on file", Source: `newer seed: "Senior Link Professional – supports organisational alignment and programme oversight"`, Kind: RequireApplicationSubmitted},
				reqCertified("lead_plus", RoleLeadPlus, `newer seed: "Lead Plus Professional – supports practice development and oversight" precedes "Senior Link Professional – supports organisational alignment and programme oversight"; v1 reading: Senior Link follows Lead Plus certification`),
				{Name: "suitability_agreed", Description: "suitability for Senior Link agreed by an organisation or network", Kind: RequireSuitability, Role: RoleSeniorLink,
					Source: `v1 reading: the seeds say nothing of Senior Link entry; as for Lead Plus, ` + srcPlusSuitable},
			},
		},
		ApplicationDeclined: []Requirement{
			{Name: "application_submitted", Description: "the application decided is on file", Source: `DOMAIN.md: "ApplicationDecided * | P | **application_id**, **outcome** (accepted, declined)"`, Kind: RequireApplicationSubmitted},
		},

		Certifications: map[Role][]Requirement{
			RoleInformedPractitioner: {
				reqAll("level_1", "Level 1 Foundation completed: Foundation A parts 1 and 2 and Foundation B",
					`newer seed: "I Matter Informed Practitioner – understands and applies the framework"; `+srcLevel1+`; v1 reading: certified on completing Level 1`,
					foundationCourses(srcLevel1)...),
			},
			RoleLinkProfessional: {
				reqCertified("informed_practitioner", RoleInformedPractitioner, `newer seed: "I Matter Informed Practitioner – understands and applies the framework" precedes "Link Professional – supports access and engagement"`),
				reqCourse("link_professional_course", CourseLinkProfessional, srcLevel1+`; v1 reading: the link_professional course`),
			},
			RoleLeadProfessional: {
				level12("foundation_and_intermediate", srcFacilitator+`; v1 reading: both Intermediate courses, so a fast-tracked trainee finishes the course work before certification`),
				reqCourse("facilitator_mechanics", CourseFacilitatorMechanics, srcFacilitator),
				reqCourse("lead_professional_course", CourseLeadProfessional, `older seed: "Trainee Lead Professional Certification course:  running an I Matter Foundation course (focus on selected specialism)"`),
				{Name: "trainee_application_accepted", Description: "an accepted application to become a trainee Lead Professional", Source: srcTrainee, Kind: RequireApplicationAccepted, AppRole: ApplyTraineeLeadProfessional},
				{Name: "trainee_year_completed", Description: "a Lead Professional traineeship begun at least a year before", Kind: RequireTraineeship, Role: RoleLeadProfessional, Years: 1,
					Source: `older seed: "The Lead Professional Certtification process is 1 year training followed by a 1 year implementation practice period." and "On successful completion of the trainee period you can become an approved member of our Lead Professional team."; v1 reading: approval after the training year; the implementation year is the first certification year`},
				withRole(reqCount("two_groups_run", "two groups set up and run as a trainee", EvidenceGroupRun, 2, WindowTraineeship, srcTrainee), RoleLeadProfessional),

				withRole(reqCount("learning_log_book", "a learning log book completed as a trainee", EvidenceLogBook, 1, WindowTraineeship, srcTrainee), RoleLeadProfessional),
			},
			RoleLeadPlus: {
				level12("level_1_and_2", srcPlusL12),
				reqCourse("level3", CourseLevel3, srcPlusL3),
				reqCourse("deep_dive", CourseDeepDive, srcPlusL3),
				reqCertified("link_professional", RoleLinkProfessional, srcPlusCerts),
				reqCertified("lead_professional", RoleLeadProfessional, srcPlusCerts),
				{Name: "suitability_agreed", Description: "suitability for Lead Plus agreed by an organisation or network", Source: srcPlusSuitable, Kind: RequireSuitability, Role: RoleLeadPlus},
				reqCourse("lead_plus_modules", CourseLeadPlusModules, `newer seed: "complete the Lead Plus training modules"`),
				reqCount("peer_supervision", "at least two Lead Plus peer or supervision sessions", EvidencePeerSupervision, 2, WindowEver,
					`newer seed: "participate in Lead Plus peer or supervision sessions"; v1 reading: at least two`),
				reqCount("practice_support", "support of other practitioners evidenced", EvidencePracticeSupport, 1, WindowEver,
					`newer seed: "demonstrate ability to support other practitioners (e.g. CYP Practitioners and Leads) in applying the framework"`),
				reqCount("tracker_assessment", "use of the I Matter Tracker evidenced", EvidenceTrackerAssessment, 1, WindowEver,
					`newer seed: "demonstrate use of structured assessment approaches (including the I Matter Tracker where appropriate)"`),
				reqCount("reflective_journal", "a reflective practice journal completed", EvidenceReflectiveJournal, 1, WindowEver,
					`newer seed: "complete a reflective practice journal based on your work supporting practice development"`),
				{Name: "application_accepted", Description: "an accepted application for Lead Plus", Source: srcPlusApply, Kind: RequireApplicationAccepted, AppRole: ApplyLeadPlus},
			},
			RoleSeniorLink: {
				reqCertified("lead_plus", RoleLeadPlus, `newer seed: "Lead Plus Professional – supports practice development and oversight" precedes "Senior Link Professional – supports organisational alignment and programme oversight"`),
				{Name: "application_accepted", Description: "an accepted application for Senior Link", Kind: RequireApplicationAccepted, AppRole: ApplySeniorLink,
					Source: `v1 reading: the seeds give no Senior Link certification requirements; it follows an accepted application, as Lead Plus does`},
			},
		},
		CertificationChanges: map[string][]Requirement{
			TypeCertificationSuspended:  {reqRoleStatus("the role is certified and active", `DOMAIN.md, Standing: suspended or withdrawn when "an explicit decision says so"`, RoleActive)},
			TypeCertificationReinstated: {reqRoleStatus("the role is suspended", `DOMAIN.md, Standing: suspended or withdrawn when "an explicit decision says so"`, RoleSuspended)},
			TypeCertificationWithdrawn:  {reqRoleStatus("the role is certified and not already withdrawn", `DOMAIN.md, Standing: suspended or withdrawn when "an explicit decision says so"`, RoleActive, RoleSuspended)},
		},

		Maintenance: []MaintenanceRule{
			{Trainee: RoleLeadProfessional, Requirements: leadMaintenance()},
			{Role: RoleLeadProfessional, Requirements: leadMaintenance()},
			{Role: RoleLeadPlus, Requirements: []Requirement{
				reqCount("network_engagements", "at least 2 network engagements this certification year", EvidenceNetworkEngagement, 2, WindowPeriod,
					`newer seed: "remain active in Lead Plus or wider practitioner networks (minimum 2 engagements per year)"`),
				reqCount("practice_support", "practice development supported this certification year", EvidencePracticeSupport, 1, WindowPeriod,
					`newer seed: "continue to support practice development within a team or organisation"; v1 reading: at least once each certification year`),
				reqCount("periodic_reflective_updates", "at least 2 periodic reflective updates this certification year", EvidencePeriodicUpdate, 2, WindowPeriod,
					`newer seed: "complete periodic reflective updates on your work"; v1 reading: at least two each certification year`),
				{Name: "professional_standing", Description: "evidence of professional standing on file and not expired", Kind: RequireDocument, Document: DocumentProfessionalStanding,
					Source: `newer seed: "evidence that you are maintaining professional standing with relevant organisations"; v1 reading: valid through its valid_until, or for a year when it has none`},
				{Name: "indemnity_insurance", Description: "professional indemnity insurance current, when working independently or across organisations", Kind: RequireWhenIndependent,
					Source: `newer seed: "Practitioners working independently or across organisations must ensure appropriate professional indemnity insurance"; v1 reading: independent as recorded, or in two or more organisations on the date`,
					Of:     []Requirement{{Name: "indemnity", Description: "professional indemnity insurance", Kind: RequireDocument, Document: DocumentIndemnity}}},
			}},
			{LicenceKinds: practiceLicences, Requirements: []Requirement{
				reqCount("linked_cpd", "linked CPD taken part in this licence year", EvidenceLinkedCPD, 1, WindowPeriod, srcLinkedCPD+"; v1 reading: at least once in each year from the grant"),
			}},
		},

		Pathway: []PathwayStep{
			{Role: RoleInformedPractitioner},
			{Role: RoleLinkProfessional},
			{Role: RoleLeadProfessional, Application: ApplyTraineeLeadProfessional},
			{Role: RoleLeadPlus, Application: ApplyLeadPlus},
			{Role: RoleSeniorLink, Application: ApplySeniorLink},
		},
	}
}
