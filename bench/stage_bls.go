package bench

// blsCases is filled in by the bls stage.
func blsCases(cfg Config) []Case { return nil }

func blsComparisons(cfg Config) []Comparison { return nil }
