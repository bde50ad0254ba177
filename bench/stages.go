package bench

// stages lists the case constructors of every stage, in report order. Each
// stage file defines its constructor and the comparisons it states.
var stages = []func(Config) []Case{
	blsCases,
	ed25519Cases,
	sha256Cases,
	merkleCases,
	codecCases,
	pebbleCases,
	netqCases,
	execCases,
	consensusCases,
	shardCases,
}

// comparisons lists the ratios the report states, from every stage.
func comparisons(cfg Config) []Comparison {
	var out []Comparison
	for _, f := range []func(Config) []Comparison{blsComparisons, ed25519Comparisons, sha256Comparisons, merkleComparisons, execComparisons, consensusComparisons, shardComparisons} {
		out = append(out, f(cfg)...)
	}
	return out
}
