package propusk

// Abilities a personal access token needs for the endpoints that serve
// relying services (back ends that verify tokens on their own).
const (
	AbilityTokensIntrospect = "tokens:introspect" // POST /api/v1/token.introspect
	AbilityRevocationsRead  = "revocations:read"  // GET /api/v1/revocations
)
