package domain

import "github.com/google/uuid"

// LevelRule is one row of the levels table: the level, its name, and the
// requirement it rests on.
type LevelRule struct {
	Level       int
	Name        string
	Requirement Requirement
}

// LevelResult is a practitioner's level on a date, with the evidence it
// rests on.
type LevelResult struct {
	Level int
	Name  string
	// Evidence lists the events the level rests on.
	Evidence []uuid.UUID
	// Source cites the seed sentence for the level.
	Source string
}

// Level returns the practitioner's level (0-5) on date on: the highest
// level whose requirement is met that day. A level that rests on a licence
// or certification falls when it is suspended, revoked or expired, since
// only a current licence or an active role meets those requirements. Every
// practitioner is at least at the lowest level, Awareness.
func (rb *Rulebook) Level(p *Practitioner, on Date) LevelResult {
	// Only met and evidence are read here: no reason for an unmet level
	// is spelt out.
	c := evalCtx{rb: rb, p: p, on: on, terse: true}
	for i := range rb.Levels {
		l := &rb.Levels[i]
		o := evaluate(&l.Requirement, &c)
		if o.met || i == len(rb.Levels)-1 {
			ev := o.evidence
			if !o.met {
				ev = nil
			}
			return LevelResult{Level: l.Level, Name: l.Name, Evidence: ev, Source: l.Requirement.Source}
		}
	}
	return LevelResult{}
}
