package driver

import (
	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/types"
)

// maxHistory bounds the heights a stateHistory keeps: while the root chain
// lags further behind, accounts cannot be proved at a recorded height.
const maxHistory = 64

// stateHistory lets a transaction chain prove an account at a recent
// committed height, not only at its head: a light client checks an account
// against a header the root chain recorded, which is usually a block or
// two behind. It keeps, per recent block, the state leaves after it
// (exec.MemState.Apply builds new leaves for every block, so keeping the
// old ones costs no copy) and the accounts the block overwrote, as they
// were before it. The txApp's lock guards it.
type stateHistory struct {
	entries []historyEntry // by increasing height
}

type historyEntry struct {
	height types.Height
	leaves []exec.AccountLeaf
	// before holds the accounts this block wrote, as they were before it;
	// a missing account was absent before.
	before map[types.Address]*actor.Account
}

// reset starts the history at the state of height.
func (s *stateHistory) reset(height types.Height, mem *exec.MemState) {
	s.entries = []historyEntry{{height: height, leaves: mem.StateLeaves()}}
}

// add records block height, whose write set ws is about to be applied to
// mem; after records the leaves once it is.
func (s *stateHistory) add(height types.Height, mem *exec.MemState, ws []actor.Account) {
	before := make(map[types.Address]*actor.Account, len(ws))
	for i := range ws {
		if acct, ok := mem.Account(ws[i].Address); ok {
			c := acct.Clone()
			before[ws[i].Address] = &c
		} else {
			before[ws[i].Address] = nil
		}
	}
	s.entries = append(s.entries, historyEntry{height: height, before: before})
}

// after sets the leaves of the last block added.
func (s *stateHistory) after(mem *exec.MemState) {
	s.entries[len(s.entries)-1].leaves = mem.StateLeaves()
}

// prune forgets what no proof at or above recorded needs, and the oldest
// entries beyond maxHistory.
func (s *stateHistory) prune(recorded types.Height) {
	base := 0
	for i := range s.entries {
		if s.entries[i].height <= recorded {
			base = i
		}
	}
	base = max(base, len(s.entries)-maxHistory)
	if base > 0 {
		s.entries = append(s.entries[:0:0], s.entries[base:]...)
	}
}

// prove returns the account at addr as of height with its proof against
// that height's state root; ok is false when the history does not reach
// back to height or the account did not exist then. mem is the state at
// the head.
func (s *stateHistory) prove(height types.Height, addr types.Address, mem *exec.MemState) (actor.Account, merkle.Proof, bool, error) {
	base := -1
	for i := range s.entries {
		if s.entries[i].height <= height {
			base = i
		}
	}
	if base < 0 {
		return actor.Account{}, merkle.Proof{}, false, nil
	}
	acct, exists := mem.Account(addr)
	for _, e := range s.entries[base+1:] {
		if prev, written := e.before[addr]; written {
			if prev == nil {
				exists = false
			} else {
				acct, exists = *prev, true
			}
			break
		}
	}
	if !exists {
		return actor.Account{}, merkle.Proof{}, false, nil
	}
	proof, err := exec.ProveAccount(s.entries[base].leaves, addr)
	if err != nil {
		return actor.Account{}, merkle.Proof{}, false, err
	}
	return acct.Clone(), proof, true, nil
}
