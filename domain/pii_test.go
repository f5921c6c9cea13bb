package domain

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The identifiers below are fictional: Ofcom's drama ranges for phone
// numbers, NHS numbers whose only property is a valid check digit, and
// well-known non-residential postcodes.
func TestPersonalDataIn(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string // "" when the text must pass
	}{
		// Must pass: ordinary CPD and group vocabulary.
		{"hours", "2 hours", ""},
		{"year group", "Year 2 group", ""},
		{"cpd year", "CPD 2025", ""},
		{"course code", "foundation_a_part1", ""},
		{"course code level3", "level3", ""},
		{"course code intermediate", "intermediate_b", ""},
		{"group id", "FA-2025-001", ""},
		{"application id", "APP-2025-0042", ""},
		{"licence id", "L3A-0007", ""},
		{"uuid", "0b6f3d8e-6f1a-4c3e-9d2a-5c1e8f7a9b10", ""},
		{"participants", "Foundation A group, 12 participants over 8 weeks", ""},
		{"month and year only", "March 2025 cohort", ""},
		{"academic year", "Budget of £1,200 for 2025/26", ""},
		{"version with short year and dots", "notes template 1.2.25", ""},
		{"ordinal after year group", "Y2 3rd session", ""},
		{"born without a date", "Peer group born out of the network meeting", ""},
		{"stubborn is not born", "stubborn issue with 2025 budget", ""},
		{"birthday without a date", "celebrated the hub's birthday", ""},
		{"invalid NHS check digit", "ref 943 476 5918", ""},
		{"too short for a phone", "call ext 0123", ""},
		{"at sign without a domain", "met @ the hub", ""},
		{"morning time is not a postcode", "b1 2pm", ""},
		{"empty", "", ""},

		// Email addresses.
		{"email", "contact jo.bloggs@example.org for details", piiEmail},
		{"email upper case", "JO@EXAMPLE.CO.UK", piiEmail},

		// NHS numbers (valid modulus 11).
		{"nhs spaced", "NHS 943 476 5919", piiNHS},
		{"nhs plain", "ref 9434765919.", piiNHS},
		{"nhs dashed", "999-000-0018", piiNHS},

		// UK phone numbers.
		{"mobile", "ring 07700 900123", piiPhone},
		{"mobile plain", "07700900123", piiPhone},
		{"mobile dashed", "07700-900-123", piiPhone},
		{"london", "020 7946 0958", piiPhone},
		{"manchester", "0161 496 0123", piiPhone},
		{"landline bracketed", "(01632) 960123", piiPhone},
		{"ten digit landline", "01632 96012", piiPhone},
		{"non-geographic 03", "0300 123 4567", piiPhone},
		{"plus 44 mobile", "+44 7700 900123", piiPhone},
		{"plus 44 with (0)", "+44 (0)20 7946 0958", piiPhone},
		{"0044", "0044 113 496 0000", piiPhone},

		// Postcodes.
		{"postcode", "lives near SW1A 1AA", piiPostcode},
		{"postcode lower no space", "sw1a1aa", piiPostcode},
		{"postcode short", "M1 1AE", piiPostcode},
		{"postcode ordinal-looking upper case", "B33 8TH", piiPostcode},
		{"postcode two letters", "CR2 6XH", piiPostcode},
		{"postcode girobank", "GIR 0AA", piiPostcode},

		// Dates of birth.
		{"dob keyword", "DOB 4th June", piiDOB},
		{"d.o.b.", "d.o.b. 03/2015", piiDOB},
		{"born in year", "born in 2015", piiDOB},
		{"birthday month", "birthday in March", piiDOB},
		{"date of birth", "date of birth: June 2016", piiDOB},
		{"keyword after", "12 June (DOB)", piiDOB},
		{"slashed full date", "seen 12/03/2015", piiDate},
		{"dotted full date", "12.03.2015", piiDate},
		{"dashed full date", "12-03-2015", piiDate},
		{"short year with slashes", "3/4/15", piiDate},
		{"iso date", "on 2015-03-12", piiDate},
		{"text date", "12 March 2015", piiDate},
		{"text date ordinal", "1st of Feb 2016", piiDate},
		{"american text date", "March 12, 2015", piiDate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, personalDataIn(tt.text), "text %q", tt.text)
		})
	}
}

func TestCheckPersonalDataMessage(t *testing.T) {
	err := CheckPersonalData("data.summary", "NHS 943 476 5919")
	require.Error(t, err)
	assert.Equal(t, EINVALID, ErrorCode(err))
	assert.Equal(t, "data.summary", ErrorField(err))
	assert.Equal(t, "data.summary: looks like it contains an NHS number; events can never be edited, so personal details of children or clients must not be recorded", err.Error())
	assert.NotContains(t, err.Error(), "5919", "the message must not repeat the identifier")
	assert.NoError(t, CheckPersonalData("data.summary", "Ran the Year 2 group for 2 hours"))
}

func TestValidNHSNumber(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"valid", "9434765919", true},
		{"valid spaced", "943 476 5919", true},
		{"check digit 0 from 11", "9990000018", true},
		{"wrong check digit", "9434765918", false},
		{"check digit would be 10", "1234567890", false},
		{"nine digits", "943476591", false},
		{"eleven digits", "94347659190", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, validNHSNumber(tt.in))
		})
	}
}
