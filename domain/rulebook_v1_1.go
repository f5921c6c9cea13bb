package domain

// Rulebook v1.1: rulebook v1 with the readings DOMAIN.md pins in "Rulebook
// v1.1: readings pinned after a review against the seeds". Each change
// cites the seed sentence it rests on, or DOMAIN.md's reading of it; a
// requirement the seeds do not state is marked "v1 reading" with the reason
// it is kept.

// Seed sentences and DOMAIN.md readings v1.1 cites.
const (
	srcAnyHeld       = `DOMAIN.md: "Suspending or withdrawing any certified role (informed practitioner, link, senior link, …) or any practitioner-held licence makes standing ` + "`suspended` / `withdrawn`" + `, whether or not that role has maintenance duties."`
	srcNoReaward     = `DOMAIN.md: "a suspended role or licence comes back by reinstatement, a lapse by meeting the requirement, a licence continues by renewal."`
	srcTraineePeriod = `older seed: "On successful completion of the trainee period you can become an approved member of our Lead Professional team."; DOMAIN.md: "Lead Professional certification needs the traineeship to be at least one year old *and* not lapsed, suspended or withdrawn on the decision date"`
	srcStartTrainees = `older seed: "All of the professionals who apply for a license at Level 3 as Lead Professional Facilitators and study supporters start out as Trainees"`
	srcSchoolHeld    = `older seed: "3A licences are generally held by schools"; DOMAIN.md: "a trainee's or Lead Professional's *current licence* duty is met by their own current Level 3 A (or higher practice) licence, or by a current Level 3 A or organisational licence held by a registered organisation they belong to on that date."`
	srcRegisteredFA  = `DOMAIN.md: "Only a ` + "`StudyGroupRun` with `course: foundation_a` and `registered: true`" + ` counts towards the trainee's two groups and the yearly"`
	srcGroupsReg     = `older seed: "We make no additional charge for these groups though they should be registered with us."`
	srcReinstate     = `DOMAIN.md: "a lapse on a missed month or a standing fact clears only by a decision"`
)

// RulebookV1_1 returns rulebook v1.1. Each call builds a new value; callers
// keep one and share it.
func RulebookV1_1() *Rulebook {
	rb := RulebookV1()
	rb.Version = "v1.1"
	rb.StickyLapses = true
	rb.AnyHeldSuspends = true
	rb.RenewalOnLicenceYear = true

	// No re-award around a decision.
	rb.LicenceIDNew = []Requirement{{Name: "licence_id_not_granted", Description: "the licence_id has not been granted before",
		Source: srcNoReaward, Kind: RequireLicenceIDNew}}
	notHeld := Requirement{Name: "not_already_certified", Description: "the role was never certified (active, suspended, withdrawn or lapsed)",
		Source: srcNoReaward, Kind: RequireRoleStatus, RoleStatuses: []RoleStatus{""}}
	for role, reqs := range rb.Certifications {
		rb.Certifications[role] = append([]Requirement{notHeld}, reqs...)
	}

	// Lead Professional certification: registered service, successful
	// completion of the trainee period, registered Foundation A groups.
	lead := rb.Certifications[RoleLeadProfessional]
	for i := range lead {
		switch lead[i].Name {
		case "two_groups_run":
			lead[i] = withRole(reqCount("two_groups_run", "two registered Foundation A groups set up and run as a trainee, on or after the traineeship start",
				EvidenceRegisteredFoundationAGroup, 2, WindowTraineeship, srcTrainee+"; "+srcGroupsReg+"; "+srcRegisteredFA), RoleLeadProfessional)
		}
	}
	rb.Certifications[RoleLeadProfessional] = append(lead,
		Requirement{Name: "trainee_period_in_standing", Description: "the trainee period completed successfully: standing good or at risk (not lapsed, suspended or withdrawn) on the decision date",
			Source: srcTraineePeriod, Kind: RequireStanding, Standings: []StandingStatus{StandingGood, StandingAtRisk}},
		reqRegisteredService())

	// Maintenance of trainees and Lead Professionals.
	for i := range rb.Maintenance {
		mr := &rb.Maintenance[i]
		if mr.Role != RoleLeadProfessional && mr.Trainee != RoleLeadProfessional {
			continue
		}
		mr.Requirements = leadMaintenanceV1_1()
	}

	// Level 3 licence applicants start out as trainees.
	rb.LicenceGrants[LicenceLevel3A] = append(append([]Requirement{}, rb.LicenceGrants[LicenceLevel3A]...),
		reqAny("trainee_or_lead_professional", "a Lead Professional traineeship started, or Lead Professional certification, by the grant", srcStartTrainees,
			Requirement{Name: "traineeship_started", Description: "a Lead Professional traineeship started", Source: srcStartTrainees, Kind: RequireTraineeship, Role: RoleLeadProfessional},
			reqCertified("lead_professional", RoleLeadProfessional, srcStartTrainees)))

	// Reinstatement clears a lapse on a missed month or a standing fact.
	rb.CertificationChanges[TypeCertificationReinstated] = []Requirement{reqAny("role_status", "the role is suspended, or it (or its traineeship) is lapsed", srcReinstate,
		reqRoleStatus("the role is suspended", `DOMAIN.md, Standing: suspended or withdrawn when "an explicit decision says so"`, RoleSuspended),
		Requirement{Name: "lapsed", Description: "the role or its traineeship is lapsed", Source: srcReinstate, Kind: RequireLapsed})}
	rb.LicenceChanges[TypeLicenceReinstated] = []Requirement{reqAny("licence_status", "the licence is suspended, or lapsed", srcReinstate,
		reqLicenceStatus("the licence is suspended", `DOMAIN.md: "a suspended role or licence comes back by reinstatement"`, LicenceStatusSuspended),
		Requirement{Name: "lapsed", Description: "the licence is lapsed", Source: srcReinstate, Kind: RequireLapsed})}

	// Nothing beyond the seeds without saying so.
	const notStated = "v1 reading, kept in v1.1: "
	rb.LicenceGrants[LicenceCommunityWheel] = nil // "more often held by GP's and community leaders" describes holders, it does not restrict them
	for _, k := range []LicenceKind{LicenceLevel4, LicenceLevel5} {
		reqs := append([]Requirement{}, rb.LicenceGrants[k]...)
		for i := range reqs {
			if reqs[i].Kind == RequireLeadershipSupport {
				reqs[i].Source = srcApplySupport + `; ` + notStated + `the seeds state senior-leadership support for Level 3 applicants and for the Lead Professional programme, which "Supporting Others - LEAD PROFESSIONALS (levels 3-5)" makes Levels 4 and 5 part of`
			}
		}
		rb.LicenceGrants[k] = reqs
	}
	spec := append([]Requirement{}, rb.LicenceGrants[LicenceSpecialist]...)
	for i := range spec {
		spec[i].Source = `older seed: "Our core certification prepares professionals to work with adults, more specialist licnces are neeeded for other applications"; ` + notStated +
			`the seed names no prerequisites; a specialist licence extends the core (Level 3) licence to other applications, so it rests on what that rests on`
	}
	rb.LicenceGrants[LicenceSpecialist] = spec
	return rb
}

// leadMaintenanceV1_1 is leadMaintenance with v1.1's readings: a current
// licence may be the school's, groups supported are registered Foundation A
// groups, and working with a registered school or service is a standing
// fact.
func leadMaintenanceV1_1() []Requirement {
	reqs := leadMaintenance()
	for i := range reqs {
		switch reqs[i].Name {
		case "current_licence":
			own := reqs[i]
			own.Name = "own_licence"
			// "A registered organisation" is read as one registered as a
			// service (registered_service true) on the date, as in
			// srcRegistered.
			reqs[i] = reqAny("current_licence", "a current Level 3 A, 3 B, 4 or 5 licence of their own, or a current Level 3 A or organisational licence held by a registered school or service they are in",
				`older seed: "+ have a current licence by subscription"; `+srcSchoolHeld+"; "+srcRegistered, own,
				Requirement{Name: "organisation_licence", Description: "a current Level 3 A or organisational licence held by a registered school or service (registered_service true) the practitioner is in",
					Source: srcSchoolHeld + "; " + srcRegistered, Kind: RequireOrganisationLicence, LicenceKinds: []LicenceKind{LicenceLevel3A, LicenceOrganisational}})
		case "foundation_a_supported":
			reqs[i] = reqCount("foundation_a_supported", "at least 2 registered Foundation A groups supported this certification year", EvidenceRegisteredFoundationAGroup, 2, WindowPeriod,
				`older seed: "+ must support a minimum of 2 Foundation A courses each year for professionals or parents"; `+srcGroupsReg+"; "+srcRegisteredFA)
		}
	}
	return append(reqs, reqRegisteredService())
}
