package simulate

import (
	"os"
	"strings"
	"testing"
)

func TestExplore(t *testing.T) {
	args := strings.Fields(os.Getenv("EXPLORE_ARGS"))
	if len(args) == 0 {
		t.Skip()
	}
	out, _, err := execute(t, args...)
	lines := strings.Split(out, "\n")
	for _, l := range lines {
		if strings.Contains(l, "FAIL") {
			t.Log(l)
		}
	}
	t.Log(lines[len(lines)-2])
	if err != nil {
		t.Fatal(err)
	}
}
