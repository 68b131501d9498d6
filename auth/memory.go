package auth

// HashingMemory is the most memory s's password checks and hashes hold at
// once: one argon2id computation of Config.Argon2.Memory in each hashing
// slot (Config.MaxHashing and Config.RegisterHashing). A server sizes its
// memory limit by it. Hashes imported from a Laravel app with costlier
// parameters take more, until their users' next login rehashes them.
func (s *Service) HashingMemory() int64 {
	return int64(cap(s.hashing)+cap(s.registering)) * int64(s.cfg.Argon2.Memory) << 10
}
