package bench

// ed25519Cases is filled in by the ed25519 stage.
func ed25519Cases(cfg Config) []Case { return nil }

func ed25519Comparisons(cfg Config) []Comparison { return nil }
