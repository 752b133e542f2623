package checkoutd

import "strings"

// FieldIssue names one thing wrong with a request, by the field's path in the
// request as the API spells it (for example "items[2].quantity").
type FieldIssue struct {
	Field string `json:"field"`
	Issue string `json:"issue"`
}

// ValidationError is returned for a request that is malformed. Nothing was
// read or changed.
type ValidationError struct {
	Details []FieldIssue
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Details))
	for i, d := range e.Details {
		parts[i] = d.Field + ": " + d.Issue
	}
	return "invalid request: " + strings.Join(parts, "; ")
}
