package domain

import (
	"errors"
	"fmt"
)

// Error codes: the few kinds of failure a caller may act on. The api package
// maps each to one HTTP status in one place; anything that is not an *Error
// is "internal", logged and never shown.
const (
	// EINVALID: the input is malformed or breaks a validation rule (400).
	EINVALID = "invalid"
	// ENOTFOUND: the thing named does not exist (404).
	ENOTFOUND = "not_found"
	// ECONFLICT: the input clashes with the current state, e.g. a stale
	// expected revision (409).
	ECONFLICT = "conflict"
	// EREFUSED: the input is well formed but a rule refuses it, e.g. a
	// decision whose requirements are unmet (422).
	EREFUSED = "refused"
	// EUNAUTHORIZED: no or bad credentials (401).
	EUNAUTHORIZED = "unauthorized"
	// EFORBIDDEN: the principal's role may not do this (403).
	EFORBIDDEN = "forbidden"
	// EINTERNAL: anything else; its detail is logged, never shown.
	EINTERNAL = "internal"
)

// ErrUnknownType is returned (wrapped) by DecodeStored when history holds an
// event type this code does not know: a fold must fail on it, never skip it.
// DecodeNew reports an unknown type as an EINVALID *Error instead, since
// there the caller is at fault.
var ErrUnknownType = errors.New("domain: unknown event type")

// Error is a domain failure whose Message is safe to show to the person who
// caused it: it names what is wrong in their terms and holds no internal
// detail. Error values are not modified after they are returned, so they are
// safe to share between goroutines.
type Error struct {
	// Code is one of the E* constants.
	Code string
	// Field is the JSON path of the input at fault, e.g. "data.course", or
	// "" when the error is not about one field.
	Field string
	// Message says what is wrong and, where it helps, what would be right.
	Message string
	// Evaluation, on a refused decision, is the evaluation that refused it:
	// every requirement, met or not, so the caller sees what is missing.
	Evaluation *Evaluation
}

// Error renders the field and the message, e.g.
// `data.course: "foundation_c" is not one of awareness, …`.
func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Errorf returns an *Error with the given code and field and a message
// formatted as by fmt.Sprintf. The message must be fit for a user to read.
func Errorf(code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, "" for a nil
// err, and EINTERNAL for any other error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorField returns the field of the first *Error in err's chain, or "".
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// ErrorMessage returns what may be shown to a user about err: the field and
// message of a domain error, or a fixed text for anything else, whose detail
// may hold internals and belongs in the log only.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Error()
	}
	return "Internal error."
}

// ErrorEvaluation returns the evaluation carried by a refused decision in
// err's chain, or nil.
func ErrorEvaluation(err error) *Evaluation {
	var e *Error
	if errors.As(err, &e) {
		return e.Evaluation
	}
	return nil
}
