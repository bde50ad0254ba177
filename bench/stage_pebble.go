package bench

// pebbleCases is filled in by the pebble stage.
func pebbleCases(cfg Config) []Case { return nil }
