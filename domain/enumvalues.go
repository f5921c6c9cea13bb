package domain

import "reflect"

// EnumValues returns every value of the catalogue enumeration t (Course,
// Role, LicenceKind…), in the catalogue's order, and false when t is not
// one. The web console builds its choices from it, so that a value added
// to the catalogue appears in every form at once.
func EnumValues(t reflect.Type) ([]string, bool) {
	vs, ok := enumsByType[t]
	return vs, ok
}

var enumsByType = map[reflect.Type][]string{
	reflect.TypeFor[Profession]():         stringsOf(professions),
	reflect.TypeFor[OrganisationKind]():   stringsOf(organisationKinds),
	reflect.TypeFor[Course]():             stringsOf(courses),
	reflect.TypeFor[GroupCourse]():        stringsOf(groupCourses),
	reflect.TypeFor[Audience]():           stringsOf(audiences),
	reflect.TypeFor[CPDKind]():            stringsOf(cpdKinds),
	reflect.TypeFor[ReflectiveKind]():     stringsOf(reflectiveKinds),
	reflect.TypeFor[ApplicationRole]():    stringsOf(applicationRoles),
	reflect.TypeFor[Role]():               stringsOf(roles),
	reflect.TypeFor[InterviewOutcome]():   stringsOf(interviewOutcomes),
	reflect.TypeFor[ApplicationOutcome](): stringsOf(applicationOutcome),
	reflect.TypeFor[LicenceKind]():        stringsOf(licenceKinds),
	reflect.TypeFor[LicenceScope]():       stringsOf(licenceScopes),
	reflect.TypeFor[Directory]():          stringsOf(directories),
	reflect.TypeFor[ReviewOutcome]():      stringsOf(reviewOutcomes),
}
