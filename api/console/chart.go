package console

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/projections"
)

// The chart's geometry, in SVG user units.
const (
	chartW, chartH     = 640, 230
	plotL, plotR       = 44, 624
	plotT, plotB       = 16, 146 // the level line, 0 at the bottom
	bandT, bandH       = 160, 18 // the standing band
	maxSamples         = 32      // dates evaluated from the facts' dates
	maxStandingSamples = 16      // extra dates where standing can change
)

// chart is the server-rendered SVG of a practitioner's level and standing
// over time, with its data as a table for those who do not see it.
type chart struct {
	W, H int
	// The plot's edges, for the template's axes.
	L, R, T, B, BandT, BandH int
	LevelPath                string
	Bands                    []band
	XTicks                   []tick
	YTicks                   []tick
	Rows                     []chartRow
	From, To                 string
	Legend                   []band
	Summary                  string
}

type band struct {
	X, W         float64
	Status, Fill string
}

type tick struct {
	X, Y   float64 // where the label goes
	L      float64 // where the grid line goes
	Label  string
	Anchor string // the label's text-anchor
}

type chartRow struct {
	On       string
	Level    int
	Standing string
}

// standingFills are the band colours, each with at least 3:1 contrast on
// white; the legend and the table say the same in words.
var standingFills = map[domain.StandingStatus]string{
	domain.StandingGood:      "#1a7f37",
	domain.StandingAtRisk:    "#9a6700",
	domain.StandingLapsed:    "#cf222e",
	domain.StandingSuspended: "#8250df",
	domain.StandingWithdrawn: "#57606a",
}

var standingOrder = []domain.StandingStatus{domain.StandingGood, domain.StandingAtRisk, domain.StandingLapsed, domain.StandingSuspended, domain.StandingWithdrawn}

// chartOf evaluates the practitioner's level and standing on the dates the
// history changes (thinned to a few dozen) up to asOf, as known at knownAt.
// The stream is read and decoded once; each date is one fold of the facts
// that occurred by then (retractions known at knownAt applied), with the
// organisations as known now.
func (c *console) chartOf(ctx context.Context, id uuid.UUID, asOf domain.Date, knownAt time.Time) (chart, error) {
	facts, _, err := c.d.Projector.Facts(ctx, projections.PractitionerStream(id), domain.Date{}, knownAt)
	if err != nil {
		return chart{}, err
	}
	var dates []domain.Date
	for _, f := range facts {
		if !f.OccurredOn.After(asOf) {
			dates = append(dates, f.OccurredOn)
		}
	}
	dates = append(dates, asOf)
	slices.SortFunc(dates, func(a, b domain.Date) int { return a.DaysUntil(b) * -1 })
	dates = slices.Compact(dates)
	dates = thin(dates, maxSamples)

	orgs := c.d.Projector.Organisations()
	rulebook := c.d.Projector.Rulebooks().Current() // the projections' own
	on := make([]domain.Fact, 0, len(facts))
	eval := func(d domain.Date) (chartRow, domain.Standing, error) {
		on = on[:0]
		for _, f := range facts {
			if !f.OccurredOn.After(d) {
				on = append(on, f)
			}
		}
		p, err := domain.Fold(id, on)
		if err != nil {
			return chartRow{}, domain.Standing{}, fmt.Errorf("console: chart of %s: %w", id, err)
		}
		st := rulebook.Standing(p, orgs, d)
		return chartRow{On: d.String(), Level: rulebook.Level(p, d).Level, Standing: string(st.Status)}, st, nil
	}
	var rows []chartRow
	extra := 0
	for i := 0; i < len(dates); i++ {
		row, st, err := eval(dates[i])
		if err != nil {
			return chart{}, err
		}
		rows = append(rows, row)
		// Standing also changes with no event (a year ends, a licence
		// expires): evaluate there too, a bounded number of times.
		if nc := st.NextChange; !nc.IsZero() && extra < maxStandingSamples && nc.After(dates[i]) && !nc.After(asOf) &&
			(i+1 == len(dates) || nc.Before(dates[i+1])) {
			dates = slices.Insert(dates, i+1, nc)
			extra++
		}
	}
	return drawChart(rows, asOf), nil
}

// thin keeps at most n of dates, evenly spread, always the first and last.
func thin(dates []domain.Date, n int) []domain.Date {
	if len(dates) <= n {
		return dates
	}
	out := make([]domain.Date, 0, n)
	for i := range n {
		out = append(out, dates[i*(len(dates)-1)/(n-1)])
	}
	return slices.Compact(out)
}

// drawChart lays rows out: a step line for the level, a band for standing.
func drawChart(rows []chartRow, to domain.Date) chart {
	ch := chart{W: chartW, H: chartH, Rows: rows, L: plotL, R: plotR, T: plotT, B: plotB, BandT: bandT, BandH: bandH}
	if len(rows) == 0 {
		return ch
	}
	first, _ := domain.ParseDate(rows[0].On)
	ch.From, ch.To = first.String(), to.String()
	span := float64(first.DaysUntil(to))
	if span < 1 {
		span = 1
	}
	x := func(d string) float64 {
		on, _ := domain.ParseDate(d)
		return plotL + float64(first.DaysUntil(on))/span*(plotR-plotL)
	}
	y := func(level int) float64 { return plotB - float64(level)/5*(plotB-plotT) }
	var b strings.Builder
	for i, r := range rows {
		if i == 0 {
			fmt.Fprintf(&b, "M%.1f %.1f", x(r.On), y(r.Level))
		} else {
			fmt.Fprintf(&b, " H%.1f V%.1f", x(r.On), y(r.Level))
		}
	}
	fmt.Fprintf(&b, " H%.1f", float64(plotR))
	ch.LevelPath = b.String()
	for i, r := range rows {
		end := float64(plotR)
		if i+1 < len(rows) {
			end = x(rows[i+1].On)
		}
		if n := len(ch.Bands); n > 0 && ch.Bands[n-1].Status == r.Standing {
			ch.Bands[n-1].W = end - ch.Bands[n-1].X // one band per stretch of the same standing
			continue
		}
		ch.Bands = append(ch.Bands, band{X: x(r.On), W: max(end-x(r.On), 1), Status: r.Standing, Fill: standingFills[domain.StandingStatus(r.Standing)]})
	}
	for l := 0; l <= 5; l++ {
		ch.YTicks = append(ch.YTicks, tick{X: plotL - 8, Y: y(l) + 4, L: y(l), Label: fmt.Sprint(l), Anchor: "end"})
	}
	for i := 0; i <= 4; i++ {
		d := first.AddDays(int(span * float64(i) / 4))
		xi := plotL + (plotR-plotL)*float64(i)/4
		anchor := "middle"
		switch i {
		case 0:
			anchor = "start"
		case 4:
			anchor = "end"
		}
		ch.XTicks = append(ch.XTicks, tick{X: xi, Y: bandT + bandH + 20, L: xi, Label: d.String(), Anchor: anchor})
	}
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r.Standing] = true
	}
	for _, s := range standingOrder {
		if seen[string(s)] {
			ch.Legend = append(ch.Legend, band{Status: string(s), Fill: standingFills[s]})
		}
	}
	last := rows[len(rows)-1]
	ch.Summary = fmt.Sprintf("From %s to %s: level %d to level %d; standing %s on %s.", ch.From, ch.To, rows[0].Level, last.Level, strings.ReplaceAll(last.Standing, "_", " "), last.On)
	return ch
}
