package console

import (
	"encoding/json"
	"fmt"
	"html/template"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/projections"
)

// funcs are the templates' helpers: wording and formatting only.
var funcs = template.FuncMap{
	"words": func(s any) string { return strings.ReplaceAll(fmt.Sprint(s), "_", " ") },
	"short": func(id any) string {
		s := fmt.Sprint(id)
		if len(s) > 8 {
			return s[:8]
		}
		return s
	},
	"roles": func(rs []domain.Role) string {
		if len(rs) == 0 {
			return "none"
		}
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = strings.ReplaceAll(string(r), "_", " ")
		}
		return strings.Join(out, ", ")
	},
	"orgName": func(names map[uuid.UUID]string, id uuid.UUID) string {
		if n := names[id]; n != "" {
			return n
		}
		return "organisation " + id.String()[:8]
	},
	// event names an evidence event by its type and date when the page
	// has its stream's events (events may be nil), by its id otherwise.
	"event": func(events any, id uuid.UUID) string {
		m, _ := events.(map[uuid.UUID]projections.HistoryItem)
		if e, ok := m[id]; ok {
			return e.Type + " of " + e.OccurredOn
		}
		return "event " + id.String()[:8]
	},
	// data renders an event's data as "key: value" pairs: its personal
	// data opened when it opens, left out when it does not (erased, or
	// sealed with a key this ledger lacks), and without the evaluation the
	// ledger stored with a decision (shown on the decision's page).
	"data": func(it projections.HistoryItem) []string {
		raw, skip := it.Data, []string{"evaluation"}
		if len(it.OpenedData) > 0 {
			raw = it.OpenedData
		} else if domain.HasPersonalData(it.Type) {
			skip = append(skip, domain.PersonalFields(it.Type)...)
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return nil
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			if !slices.Contains(skip, k) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		out := make([]string, 0, len(keys)+1)
		switch it.PersonalData {
		case "erased", "unavailable":
			out = append(out, "personal data: "+it.PersonalData)
		}
		for _, k := range keys {
			v := string(m[k])
			var s string
			if json.Unmarshal(m[k], &s) == nil {
				v = s
			}
			out = append(out, strings.ReplaceAll(k, "_", " ")+": "+v)
		}
		return out
	},
	"statusClass": func(s string) string { return "st-" + strings.ReplaceAll(s, "_", "-") },
	"add":         func(a, b int) int { return a + b },
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
	"stringOf": func(id uuid.UUID) string { return id.String() },
	"deref":    func(b *bool) bool { return b != nil && *b },
	// newID is a fresh event id for a form, so that a form sent twice
	// records once.
	"newID": func() string { return uuid.NewString() },
	"decisionLink": func(d projections.DecisionItem) string {
		return "/ui/decisions/" + d.DecisionEventID.String()
	},
}
