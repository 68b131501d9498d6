package propusk

// Registration is what signing up writes: a user, their first session and
// their api-token. Store.Register writes it all or nothing, so that a
// failure part way leaves no account behind to make the retry a conflict.
type Registration struct {
	User    *User    // the new user; the store sets ID, CreatedAt and UpdatedAt as CreateUser does
	Session *Session // the first session; the store sets UserID
	// Token is the api-token; the store sets ID and TokenableID.
	Token *PersonalAccessToken
	// SealAPIToken returns users.api_token for the new user's id. The sealed
	// value is bound to the id, which exists only once the user row is
	// written, so the store calls it inside the transaction.
	SealAPIToken func(userID int64) (string, error)
}
