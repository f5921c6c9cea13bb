package domain

// NextStep is a decision on the way to the next role on the pathway, with
// what is still missing before it may be taken.
type NextStep struct {
	// Role is the pathway role the step leads to.
	Role Role
	// Decision is the event type of the decision: ApplicationDecided for
	// the application that leads to Role, or CertificationAwarded.
	Decision string
	// Subject names the decision as an Evaluation does.
	Subject string
	// Ready is true when nothing is missing.
	Ready bool
	// Missing are the unmet requirements; empty when Ready.
	Missing []RequirementResult
}

// NextSteps returns what the practitioner still needs on date on for the
// next role on the pathway: the role after the highest one held active.
// When that role is reached through an application not yet accepted, the
// first step is the application (evaluated against the latest application
// for it, if any, and its fast_track); the certification follows. A
// practitioner at the end of the pathway has no next steps.
func (rb *Rulebook) NextSteps(p *Practitioner, orgs Organisations, on Date) []NextStep {
	next := 0
	for i, st := range rb.Pathway {
		if s, _, _, _ := p.roleState(st.Role, on); s == RoleActive {
			next = i + 1
		}
	}
	if next >= len(rb.Pathway) {
		return nil
	}
	step := rb.Pathway[next]
	var out []NextStep
	if step.Application != "" {
		accepted := Requirement{Kind: RequireApplicationAccepted, AppRole: step.Application}
		if c := (evalCtx{rb: rb, p: p, on: on}); !evaluate(&accepted, &c).met {
			c := evalCtx{rb: rb, p: p, orgs: orgs, on: on, app: p.latestApplication(step.Application, on)}
			c.fastTrack = c.app != nil && c.app.fastTrack
			out = append(out, rb.nextStep(step.Role, TypeApplicationDecided, "ApplicationDecided "+string(step.Application)+" accepted", rb.Applications[step.Application], &c))
		}
	}
	c := evalCtx{rb: rb, p: p, orgs: orgs, on: on, role: step.Role}
	out = append(out, rb.nextStep(step.Role, TypeCertificationAwarded, "CertificationAwarded "+string(step.Role), rb.Certifications[step.Role], &c))
	return out
}

func (rb *Rulebook) nextStep(role Role, decision, subject string, reqs []Requirement, c *evalCtx) NextStep {
	s := NextStep{Role: role, Decision: decision, Subject: subject, Ready: true}
	for i := range reqs {
		o := evaluate(&reqs[i], c)
		if !o.met {
			s.Ready = false
			s.Missing = append(s.Missing, result(&reqs[i], "", o))
		}
	}
	return s
}
