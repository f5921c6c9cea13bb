package domain

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Free text is checked at the door: an event can never be edited, so a
// child's or client's details written into a summary would stay in the
// ledger for good. The checks look for obvious personal identifiers only;
// they are deliberately a little eager (a plain full date is refused as a
// possible date of birth) because a false refusal costs a rewording, while a
// false acceptance cannot be undone.

// Identifier kinds, as named in error messages.
const (
	piiEmail    = "an email address"
	piiNHS      = "an NHS number"
	piiPhone    = "a phone number"
	piiPostcode = "a postcode"
	piiDOB      = "a date of birth"
	piiDate     = "a full date, which may be a date of birth"
)

// CheckPersonalData returns an EINVALID *Error naming field and the kind of
// identifier when text looks like it holds an email address, a UK phone
// number, an NHS number, a UK postcode or a date of birth; nil otherwise.
// The message never repeats the identifier, so the error may be logged.
func CheckPersonalData(field, text string) error {
	if kind := personalDataIn(text); kind != "" {
		return Errorf(EINVALID, field, "looks like it contains %s; events can never be edited, so personal details of children or clients must not be recorded", kind)
	}
	return nil
}

// personalDataIn returns the kind of the first identifier found in s, or "".
// NHS numbers are looked for before phone numbers because a ten-digit
// landline and an NHS number can share a shape; either is refused. The
// checks read s in its scanning form (see scanForm), not as written.
func personalDataIn(s string) string {
	s = scanForm(s)
	if !hasDigitOrAt(s) {
		// Every identifier but a birthday by month name has a digit or an
		// @: most texts ("peer supervision") are done after one regexp.
		if hasDOBNearKeyword(s) {
			return piiDOB
		}
		return ""
	}
	switch {
	case strings.IndexByte(s, '@') >= 0 && emailRE.MatchString(s):
		return piiEmail
	case hasNHSNumber(s):
		return piiNHS
	case hasUKPhone(s):
		return piiPhone
	case hasPostcode(s):
		return piiPostcode
	case hasDOBNearKeyword(s):
		return piiDOB
	case hasFullDate(s):
		return piiDate
	}
	return ""
}

// scanForm returns s as a reader sees it, so that the checks, which look
// for ASCII digits, @ and spaces, cannot be dodged by writing the same
// thing with other code points: "07700\u00a0900123" (a no-break space),
// "0770\u200b0900123" (a zero-width space inside), "０７７００ ９００１２３"
// (full-width digits), "jo＠example.org". It applies Unicode compatibility
// normalisation (NFKC: full-width and other compatibility forms become
// their plain letters, digits and signs), removes what is not seen
// (format characters, category Cf: zero-width spaces and joiners, the byte
// order mark, soft hyphens; combining and enclosing marks left after NFKC,
// categories Mn and Me; the other default-ignorable code points, such as
// the Hangul fillers, letters that draw nothing), writes every space
// separator (Zs, Zl, Zp) and the blank braille pattern as ' ',
// every dash (Pd) as '-', and every other decimal digit (Nd: Arabic-Indic,
// Devanagari…) as its ASCII digit. ASCII text is returned as it is.
func scanForm(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	s = norm.NFKC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			b.WriteByte(byte(r))
		case unicode.In(r, unicode.Cf, unicode.Mn, unicode.Me, unicode.Other_Default_Ignorable_Code_Point):
			// unseen: left out
		case unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp), r == '\u2800':
			b.WriteByte(' ')
		case unicode.Is(unicode.Pd, r):
			b.WriteByte('-')
		case unicode.Is(unicode.Nd, r):
			b.WriteByte('0' + digitValue(r))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// digitValue returns the value of the decimal digit r (category Nd).
// Unicode encodes every decimal digit in runs of ten, 0 to 9, so the value
// is how far r lies from the start of its run of digits, modulo ten.
func digitValue(r rune) byte {
	n := 0
	for unicode.Is(unicode.Nd, r-rune(n)-1) {
		n++
	}
	return byte(n % 10)
}

func hasDigitOrAt(s string) bool {
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) || s[i] == '@' {
			return true
		}
	}
	return false
}

var emailRE = regexp.MustCompile(`(?i)[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}`)

// nhsRE finds ten digits, optionally spaced or dashed 3-3-4, standing alone.
var nhsRE = regexp.MustCompile(`\b\d{3}[ -]?\d{3}[ -]?\d{4}\b`)

func hasNHSNumber(s string) bool {
	if !hasDigitRun(s, 3) { // every match starts with three digits
		return false
	}
	for _, m := range nhsRE.FindAllString(s, -1) {
		if validNHSNumber(m) {
			return true
		}
	}
	return false
}

// validNHSNumber reports whether the ten digits in s carry a valid NHS
// modulus 11 check digit: weights 10 down to 2 on the first nine digits, the
// check digit is 11 minus the sum modulo 11 (11 becomes 0, 10 is never valid).
func validNHSNumber(s string) bool {
	var d [10]int
	n := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			if n == 10 {
				return false
			}
			d[n] = int(s[i] - '0')
			n++
		}
	}
	if n != 10 {
		return false
	}
	sum := 0
	for i := 0; i < 9; i++ {
		sum += d[i] * (10 - i)
	}
	check := 11 - sum%11
	if check == 11 {
		check = 0
	}
	return check != 10 && check == d[9]
}

// hasUKPhone finds a UK number: 07 mobiles (11 digits), 01 landlines (10 or
// 11 digits), 02 and 03 numbers (11 digits), written with a leading 0, +44 or
// 0044 (with or without "(0)"), in groups separated by spaces, dashes,
// brackets or full stops. The number must stand alone: not inside a word or a longer number.
func hasUKPhone(s string) bool {
	for i := 0; i < len(s); i++ {
		if i > 0 && (isAlnum(s[i-1]) || s[i-1] == '+') {
			continue
		}
		digits := make([]byte, 0, 12)
		j := i
		switch {
		case strings.HasPrefix(s[i:], "+44"), strings.HasPrefix(s[i:], "0044"):
			j = i + 3
			if s[i] == '0' {
				j = i + 4
			}
			j = skipPhoneSeparators(s, j)
			if strings.HasPrefix(s[j:], "(0)") {
				j = skipPhoneSeparators(s, j+3)
			}
			if j < len(s) && s[j] == '0' {
				j++ // "+44 07700…": a stray trunk 0
			}
			digits = append(digits, '0')
		case s[i] == '0':
		case s[i] == '(' && i+1 < len(s) && s[i+1] == '0':
			j = i + 1
		default:
			continue
		}
		if phoneGroupsFrom(s, j, digits) {
			return true
		}
	}
	return false
}

// phoneGroupsFrom reads digit groups from s[j:] onto digits and reports
// whether, at the end of some group that ends the number, they make a UK number.
func phoneGroupsFrom(s string, j int, digits []byte) bool {
	for {
		k := j
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k == j {
			return false
		}
		digits = append(digits, s[j:k]...)
		if len(digits) > 11 {
			return false
		}
		j = k
		if (j == len(s) || !isAlnum(s[j])) && ukPhoneDigits(digits) {
			return true
		}
		k = skipPhoneSeparators(s, j)
		if k == j {
			return false
		}
		j = k
	}
}

func skipPhoneSeparators(s string, j int) int {
	for n := 0; j < len(s) && n < 3 && strings.IndexByte(" -().", s[j]) >= 0; n++ {
		j++
	}
	return j
}

func ukPhoneDigits(d []byte) bool {
	if len(d) < 10 || d[0] != '0' {
		return false
	}
	switch d[1] {
	case '7', '2', '3':
		return len(d) == 11
	case '1':
		return len(d) == 10 || len(d) == 11
	}
	return false
}

// postcodeRE is the UK postcode pattern (outward code, optional space,
// inward code whose letters never include C, I, K, M, O or V).
var postcodeRE = regexp.MustCompile(`(?i)\b(?:GIR ?0AA|[A-PR-UWYZ](?:[0-9][0-9A-HJKPS-UW]?|[A-HK-Y][0-9][0-9ABEHMNPRV-Y]?) ?[0-9][ABD-HJLNP-UW-Z]{2})\b`)

func hasPostcode(s string) bool {
	if !hasDigitThenLetter(s) {
		return false
	}
	for _, m := range postcodeRE.FindAllString(s, -1) {
		if !lowerOrdinalTail(m) {
			return true
		}
	}
	return false
}

// hasDigitThenLetter reports whether s has an ASCII digit followed by an
// ASCII letter or a byte of a multi-byte code point (under (?i) the inward
// code's S also matches U+017F): every postcodeRE match has one, its
// inward code's digit and first letter. Without one the regexp is not run.
func hasDigitThenLetter(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if c := s[i+1]; isDigit(s[i]) && (c|0x20 >= 'a' && c|0x20 <= 'z' || c >= utf8.RuneSelf) {
			return true
		}
	}
	return false
}

// lowerOrdinalTail reports whether a postcode-shaped match ends in a lower
// case English ordinal ("y2 3rd", "ww2 4th"): prose, not an address.
func lowerOrdinalTail(m string) bool {
	n := len(m)
	digit, suffix := m[n-3], m[n-2:]
	want := "th"
	switch digit {
	case '1':
		want = "st"
	case '2':
		want = "nd"
	case '3':
		want = "rd"
	}
	return suffix == want
}

const monthNames = `january|jan|february|feb|march|mar|april|apr|may|june|jun|july|jul|august|aug|september|sept|sep|october|oct|november|nov|december|dec`

var (
	// dobKeywordRE finds the words people write beside a date of birth.
	dobKeywordRE = regexp.MustCompile(`(?i)\bd\.? ?o\.? ?b\b|\bdate of birth\b|\bbirth ?date\b|\bborn\b|\bbirthdays?\b`)
	// dateishRE finds anything that could be part of a date: a year, a
	// day/month pair, an ordinal day, a month name.
	dateishRE = regexp.MustCompile(`(?i)\b(?:(?:19|20)\d{2}|\d{1,2}[/.\-]\d{1,2}|\d{1,2}(?:st|nd|rd|th)|` + monthNames + `)\b`)
	// numericDateRE finds day-month-year (or month-day-year) dates; a two
	// digit year only with slashes, since "1.2.25" is more often a version.
	numericDateRE = regexp.MustCompile(`\b(\d{1,2})([/.\-])(\d{1,2})([/.\-])(\d{4}|\d{2})\b`)
	// isoDateRE finds year-month-day dates.
	isoDateRE = regexp.MustCompile(`\b(?:19|20)\d{2}[/\-.](?:0?[1-9]|1[0-2])[/\-.](?:0?[1-9]|[12]\d|3[01])\b`)
	// textDateRE finds dates written with a month name and a year.
	textDateRE = regexp.MustCompile(`(?i)\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:` + monthNames + `)\b\.?,?\s+\d{4}\b|\b(?:` + monthNames + `)\b\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}\b`)
)

// dobWindow is how far either side of a keyword a date is looked for.
const dobWindow = 30

func hasDOBNearKeyword(s string) bool {
	if !mayHoldDOBKeyword(s) {
		return false
	}
	for _, loc := range dobKeywordRE.FindAllStringIndex(s, -1) {
		from, to := max(0, loc[0]-dobWindow), min(len(s), loc[1]+dobWindow)
		if dateishRE.MatchString(s[from:loc[0]]) || dateishRE.MatchString(s[loc[1]:to]) {
			return true
		}
	}
	return false
}

// mayHoldDOBKeyword reports whether s could hold a match of dobKeywordRE:
// every match has "birth" or "born" in it, or a d, o and b with at most a
// dot and a space after each of the first two (ASCII letters in either case:
// of the keywords' letters only the optional s of "birthdays" folds to a
// code point outside ASCII). False means dobKeywordRE finds nothing, so most
// texts skip the regexp, the dearest part of the scan of a text without
// digits; true says nothing, and the regexp decides.
func mayHoldDOBKeyword(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] | 0x20 {
		case 'b':
			if hasPrefixFold(s[i:], "birth") || hasPrefixFold(s[i:], "born") {
				return true
			}
		case 'd':
			j := skipDotSpace(s, i+1)
			if j < len(s) && s[j]|0x20 == 'o' {
				j = skipDotSpace(s, j+1)
				if j < len(s) && s[j]|0x20 == 'b' {
					return true
				}
			}
		}
	}
	return false
}

// skipDotSpace skips an optional '.' and then an optional ' ' at s[j:], as
// "d\.? ?o\.? ?b" allows between its letters.
func skipDotSpace(s string, j int) int {
	if j < len(s) && s[j] == '.' {
		j++
	}
	if j < len(s) && s[j] == ' ' {
		j++
	}
	return j
}

// hasPrefixFold reports whether s starts with the lower case ASCII word
// prefix, in either case.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if s[i]|0x20 != prefix[i] {
			return false
		}
	}
	return true
}

func hasFullDate(s string) bool {
	// isoDateRE and textDateRE both match four digits in a row (a year):
	// without them, neither is run (textDateRE's backtracking over month
	// names was most of the scan of a text with digits).
	if hasDigitRun(s, 4) && (isoDateRE.MatchString(s) || textDateRE.MatchString(s)) {
		return true
	}
	if !hasDigitSepDigit(s) { // every numericDateRE match has one
		return false
	}
	for _, m := range numericDateRE.FindAllStringSubmatch(s, -1) {
		a, sep1, b, sep2, year := atoi(m[1]), m[2], atoi(m[3]), m[4], m[5]
		if sep1 != sep2 || (len(year) == 2 && sep1 != "/") {
			continue
		}
		if a >= 1 && b >= 1 && ((a <= 31 && b <= 12) || (a <= 12 && b <= 31)) {
			return true
		}
	}
	return false
}

// hasDigitRun reports whether s has n ASCII digits in a row.
func hasDigitRun(s string, n int) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			run = 0
			continue
		}
		if run++; run == n {
			return true
		}
	}
	return false
}

// hasDigitSepDigit reports whether s has an ASCII digit, a '/', '.' or '-',
// and another digit in a row: the day, separator and month of a numeric date.
func hasDigitSepDigit(s string) bool {
	for i := 0; i+2 < len(s); i++ {
		if isDigit(s[i]) && strings.IndexByte("/.-", s[i+1]) >= 0 && isDigit(s[i+2]) {
			return true
		}
	}
	return false
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}
