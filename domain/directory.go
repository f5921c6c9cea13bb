package domain

import "slices"

// Listings returns the directories the practitioner is listed in on date
// on, given their standing that day (DOMAIN.md, "Directories"): only with
// consent, only in good or at_risk standing ("a lapsed, suspended or
// withdrawn practitioner drops off until restored"), and only while holding
// a role the seeds let be listed there. This is the one home of directory
// eligibility; the projections' directory and every view ask it.
func (rb *Rulebook) Listings(p *Practitioner, standing StandingStatus, on Date) []Directory {
	if standing != StandingGood && standing != StandingAtRisk {
		return nil
	}
	var out []Directory
	held := p.RolesHeld(on)
	leadPlus := slices.Contains(held, RoleLeadPlus)
	for _, dir := range p.DirectoryConsents(on) {
		ok := false
		switch dir {
		case DirectoryInformed:
			// Older seed: trainees and Lead Professionals "can be listed on
			// the I Matter informed directory if they would like this".
			_, _, trainee := p.Traineeship(RoleLeadProfessional, on)
			ok = trainee || slices.Contains(held, RoleLeadProfessional)
		case DirectoryLocalityHub, DirectoryOrganisational:
			// Newer seed: Lead Plus Professionals "may be listed in
			// approved organisational or network directories".
			ok = leadPlus
		case DirectoryIndependent:
			ok = leadPlus && p.DetailsOn(on).Independent
		}
		if ok {
			out = append(out, dir)
		}
	}
	return out
}
