package bench

// codecCases is filled in by the codec stage.
func codecCases(cfg Config) []Case { return nil }
