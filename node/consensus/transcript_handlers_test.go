package consensus

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/thinkey/thinkey/node/types"
)

// transcriptEnv runs transcript commands against one cluster. Each command
// prints the harness log lines it produced.
type transcriptEnv struct {
	t  *testing.T
	cl *cluster
	// logged is how much of the cluster log was printed already.
	logged int
	// drops are the active drop rules.
	drops []dropRule
}

// dropRule drops packets of one kind (any when empty) between members
// (any when nil).
type dropRule struct {
	kind     string
	from, to []int
}

func (r dropRule) matches(p packet) bool {
	if r.kind != "" && p.msg.Kind().String() != r.kind {
		return false
	}
	if r.from != nil && !slices.Contains(r.from, int(p.from)) {
		return false
	}
	return r.to == nil || slices.Contains(r.to, int(p.to))
}

func (e *transcriptEnv) run(command string) (string, error) {
	fields := strings.Fields(command)
	name, args := fields[0], parseArgs(fields[1:])
	if name != "cluster" && e.cl == nil {
		return "", fmt.Errorf("no cluster yet")
	}
	var extra string
	var err error
	switch name {
	case "cluster":
		err = e.handleCluster(args)
	case "start":
		e.cl.start()
	case "settle":
		e.cl.settle()
	case "tick":
		err = e.handleTick(args)
	case "crash":
		err = e.handleMembers(args, e.cl.crash)
	case "restart":
		err = e.handleMembers(args, e.cl.restart)
	case "drop":
		err = e.handleDrop(args)
	case "heal":
		e.drops = nil
	case "status":
		extra = e.handleStatus()
	default:
		err = fmt.Errorf("unknown command %q", name)
	}
	if err != nil {
		return "", err
	}
	out := strings.Join(e.cl.log[e.logged:], "\n")
	e.logged = len(e.cl.log)
	if extra != "" {
		if out != "" {
			out += "\n"
		}
		out += extra
	}
	return out, nil
}

// parseArgs splits "key=value" and bare arguments; bare ones are keyed by
// position ("0", "1", ...).
func parseArgs(fields []string) map[string]string {
	out := make(map[string]string)
	for i, f := range fields {
		if k, v, ok := strings.Cut(f, "="); ok {
			out[k] = v
		} else {
			out[strconv.Itoa(i)] = f
		}
	}
	return out
}

func parseMembers(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		i, err := strconv.Atoi(part)
		if err != nil {
			return nil, fmt.Errorf("member %q: %w", part, err)
		}
		out = append(out, i)
	}
	return out, nil
}

// cluster n=<members> [last-height=<h>]
func (e *transcriptEnv) handleCluster(args map[string]string) error {
	n, err := strconv.Atoi(args["n"])
	if err != nil {
		return fmt.Errorf("n: %w", err)
	}
	e.cl = newCluster(e.t, n)
	e.logged = 0
	if h, ok := args["last-height"]; ok {
		v, err := strconv.Atoi(h)
		if err != nil {
			return fmt.Errorf("last-height: %w", err)
		}
		e.cl.lastHeight = types.Height(v)
	}
	e.cl.drop = func(p packet) bool {
		return slices.ContainsFunc(e.drops, func(r dropRule) bool { return r.matches(p) })
	}
	return nil
}

// tick <duration>
func (e *transcriptEnv) handleTick(args map[string]string) error {
	d, err := time.ParseDuration(args["0"])
	if err != nil {
		return err
	}
	e.cl.advance(d)
	return nil
}

// crash <members> / restart <members>
func (e *transcriptEnv) handleMembers(args map[string]string, do func(int)) error {
	members, err := parseMembers(args["0"])
	if err != nil {
		return err
	}
	for _, i := range members {
		do(i)
	}
	return nil
}

// drop [kind=<message kind>] [from=<members>] [to=<members>]
func (e *transcriptEnv) handleDrop(args map[string]string) error {
	r := dropRule{kind: args["kind"]}
	var err error
	if s, ok := args["from"]; ok {
		if r.from, err = parseMembers(s); err != nil {
			return err
		}
	}
	if s, ok := args["to"]; ok {
		if r.to, err = parseMembers(s); err != nil {
			return err
		}
	}
	e.drops = append(e.drops, r)
	return nil
}

// status
func (e *transcriptEnv) handleStatus() string {
	var lines []string
	for i, c := range e.cl.cores {
		st := c.Status()
		state := "up"
		if e.cl.crashed[i] {
			state = "down"
		}
		lock := "unlocked"
		if st.Locked {
			lock = fmt.Sprintf("locked r%d:%s", st.LockRound, shortValue(st.LockValue))
		}
		lines = append(lines, fmt.Sprintf("member %d %s: h%d r%d %v leader=%d %s commits=%d", i, state, st.Height, st.Round, st.Step, st.Leader, lock, len(e.cl.commits[i])))
	}
	return strings.Join(lines, "\n")
}
