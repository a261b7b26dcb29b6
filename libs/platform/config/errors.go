package config

import "fmt"

// FieldError says that one setting is wrong. It names both the flag and the environment
// variable because an operator may have used either.
type FieldError struct {
	// Flag is the flag name without the leading dash.
	Flag string
	// Env is the environment variable, or "" if the setting has none.
	Env string
	// Value is the rejected input, if the error came from parsing.
	Value string
	// Reason says what is wrong.
	Reason string
}

// Error names the flag and the environment variable, then the problem.
func (e *FieldError) Error() string {
	where := "-" + e.Flag
	if e.Env != "" {
		where += " / $" + e.Env
	}
	if e.Value != "" {
		return fmt.Sprintf("config: invalid value %q for %s: %s", e.Value, where, e.Reason)
	}
	return fmt.Sprintf("config: invalid %s: %s", where, e.Reason)
}

// Invalid returns a FieldError for the flag named flagName. Validate methods use it; [Loader.Load]
// fills in the environment variable, so a service's Validate does not repeat the env names.
func Invalid(flagName, format string, args ...any) *FieldError {
	return &FieldError{Flag: flagName, Reason: fmt.Sprintf(format, args...)}
}
