package domain

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestErrorAccessors(t *testing.T) {
	eval := &Evaluation{Subject: "LicenceGranted level3a"}
	refused := &Error{Code: EREFUSED, Message: "requirements unmet", Evaluation: eval}
	tests := []struct {
		name      string
		err       error
		code      string
		field     string
		message   string
		text      string
		evaluated *Evaluation
	}{
		{name: "nil", err: nil, code: "", field: "", message: "", text: ""},
		{name: "plain error is internal", err: errors.New("bolt: disk on fire"),
			code: EINTERNAL, message: "Internal error.", text: "bolt: disk on fire"},
		{name: "field error", err: Errorf(EINVALID, "data.course", "%q is not one of %s", "x", "a, b"),
			code: EINVALID, field: "data.course",
			message: `data.course: "x" is not one of a, b`, text: `data.course: "x" is not one of a, b`},
		{name: "no field", err: Errorf(ENOTFOUND, "", "practitioner not found"),
			code: ENOTFOUND, message: "practitioner not found", text: "practitioner not found"},
		{name: "wrapped keeps code and field", err: fmt.Errorf("append: %w", Errorf(ECONFLICT, "expected_revision", "stale")),
			code: ECONFLICT, field: "expected_revision", message: "expected_revision: stale",
			text: "append: expected_revision: stale"},
		{name: "refusal carries evaluation", err: refused, code: EREFUSED,
			message: "requirements unmet", text: "requirements unmet", evaluated: eval},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.code, ErrorCode(tt.err))
			assert.Equal(t, tt.field, ErrorField(tt.err))
			assert.Equal(t, tt.message, ErrorMessage(tt.err))
			assert.Same(t, tt.evaluated, ErrorEvaluation(tt.err))
			if tt.err != nil {
				assert.Equal(t, tt.text, tt.err.Error())
			}
		})
	}
}
