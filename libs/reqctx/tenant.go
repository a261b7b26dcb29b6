package reqctx

// MaxTenantIDLen bounds a tenant id; tenant ids become NATS subject tokens and ClickHouse keys,
// where unbounded values would be a cheap way to hurt every consumer.
const MaxTenantIDLen = 64

// ValidTenantID reports whether id is a well-formed tenant id: 1..64 characters from
// [A-Za-z0-9_-]. Tenant ids are NATS subject tokens (DESIGN.md §3), so '.', '*', '>' and
// whitespace would change which subjects a message lands on.
func ValidTenantID(id string) bool {
	if len(id) == 0 || len(id) > MaxTenantIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
