package slsession

// Redact returns "[redacted]" for a non-empty secret and "" for none, so
// configurations can be printed.
func Redact(secret string) string {
	if secret == "" {
		return ""
	}
	return "[redacted]"
}
