package bls

import (
	"flag"
	"os"
	"testing"
)

// propertyChecks is the default number of rapid checks per property here:
// every check pays for real pairings, so the default of 100 would make the
// package slow under -race. -rapid.checks or RAPID_CHECKS still win.
const propertyChecks = "30"

func TestMain(m *testing.M) {
	flag.Parse()
	set := os.Getenv("RAPID_CHECKS") != ""
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if !set {
		if err := flag.Set("rapid.checks", propertyChecks); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
