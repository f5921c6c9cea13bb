package console

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/imattertraining/ledger/projections"
)

var timeZero time.Time

// historyOf reads the practitioner's audit trail as known at the
// request's known_at, for a download.
func (c *console) historyOf(r *http.Request) (string, []projections.HistoryItem, error) {
	id, err := pathUUID(r, "id", "practitioner")
	if err != nil {
		return "", nil, err
	}
	_, knownAt, err := c.moment(r)
	if err != nil {
		return "", nil, err
	}
	stream := projections.PractitionerStream(id)
	items, err := c.d.Projector.History(r.Context(), stream, knownAt)
	return stream, items, err
}

// historyJSON downloads the audit trail as the API gives it
// (GET /v1/practitioners/{id}/history).
func (c *console) historyJSON(w http.ResponseWriter, r *http.Request, _ *req) error {
	stream, items, err := c.historyOf(r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+stream+`-history.json"`)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Items      []projections.HistoryItem `json:"items"`
		NextCursor string                    `json:"next_cursor"`
	}{Items: items})
}

// historyColumns are the CSV download's columns: every field of a history
// item, the data as its stored JSON.
var historyColumns = []string{"event_id", "type", "occurred_on", "recorded_at", "recorded_by", "revision", "position", "schema_version", "hash", "prev_hash", "retracted_by", "data"}

// historyCSV downloads the audit trail as CSV, one event a row.
func (c *console) historyCSV(w http.ResponseWriter, r *http.Request, _ *req) error {
	stream, items, err := c.historyOf(r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+stream+`-history.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write(historyColumns)
	for _, it := range items {
		retracted := ""
		if it.RetractedBy != nil {
			retracted = it.RetractedBy.String()
		}
		_ = cw.Write([]string{
			it.EventID.String(), it.Type, it.OccurredOn, it.RecordedAt, it.RecordedBy,
			strconv.FormatUint(it.Revision, 10), strconv.FormatUint(uint64(it.Position), 10),
			strconv.FormatUint(uint64(it.SchemaVersion), 10), it.Hash, it.PrevHash, retracted, string(it.Data),
		})
	}
	cw.Flush()
	return cw.Error()
}
