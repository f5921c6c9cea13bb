package domain

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestPersonalFields pins DOMAIN.md: "A practitioner's own personal data
// (name, email) sits only in PractitionerRegistered and
// PractitionerDetailsChanged".
func TestPersonalFields(t *testing.T) {
	for _, typ := range Types() {
		fields := PersonalFields(typ)
		switch typ {
		case TypePractitionerRegistered, TypePractitionerDetailsChanged:
			assert.Equal(t, []string{"name", "email"}, fields, typ)
			assert.True(t, HasPersonalData(typ), typ)
			info, _ := Lookup(typ)
			for _, f := range fields {
				assert.True(t, info.keys[f], "%s has no field %s", typ, f)
			}
		default:
			assert.Nil(t, fields, typ)
			assert.False(t, HasPersonalData(typ), typ)
		}
	}
	f := PersonalFields(TypePractitionerRegistered)
	f[0] = "scribbled"
	assert.Equal(t, "name", PersonalFields(TypePractitionerRegistered)[0], "a copy")
}

func TestPersonalDataErasedValidate(t *testing.T) {
	tests := []struct {
		name  string
		ev    *PersonalDataErased
		field string
	}{
		{"a reason", &PersonalDataErased{Reason: "Erasure requested under UK GDPR article 17."}, ""},
		{"no reason", &PersonalDataErased{}, "data.reason"},
		{"blank reason", &PersonalDataErased{Reason: "   "}, "data.reason"},
		{"an email in the reason", &PersonalDataErased{Reason: "Asked by casey@example.org"}, "data.reason"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.ev.Validate()
			if tc.field == "" {
				assert.NoError(t, err)
				return
			}
			var de *Error
			if assert.ErrorAs(t, err, &de) {
				assert.Equal(t, tc.field, de.Field)
			}
		})
	}
	// The fold takes it and changes no record.
	p := NewPractitioner(catPractID)
	assert.NoError(t, p.Apply(Fact{OccurredOn: catOn, Event: &PersonalDataErased{Reason: "Asked."}}))
}
