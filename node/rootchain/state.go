package rootchain

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/codec"
	"github.com/thinkey/thinkey/node/types"
)

// MaxChildren is the most child chains one recorder records: as many as
// a topology has chains.
const MaxChildren = chains.MaxChains

// StateMaxSize is the length of the largest state encoding.
const StateMaxSize = stateFixedSize + MaxChildren*types.HeaderSize

// stateFixedSize is the tag, the recorder's chain ID and the child count.
const stateFixedSize = 1 + 4 + 4

// tipLeafSize is the length of a state root leaf's data.
const tipLeafSize = 4 + 8 + 32

// State is what a recorder chain knows of its children: per child chain
// its tip, the last header recorded (at first the child's genesis header).
//
// A State is immutable: Execute, Verify and Apply return a new State and
// leave the old one valid, so a shell may keep the state of every
// uncommitted recorder block. The new State shares the unchanged tips with
// the old one; deriving it costs a copy of one pointer per child plus the
// changed tips, and a state root over the cached tip leaves.
type State struct {
	recorder types.ChainID
	// chains lists the children in increasing ID order; index maps a
	// child to its position. Both are shared by every State derived from
	// the same genesis and never written.
	chains []types.ChainID
	index  map[types.ChainID]int
	// tips holds, per child in chains order, its tip; the tips are never
	// written once a State holds them.
	tips []*tip
	root types.Hash
}

// tip is a child chain's last recorded header, with the hashes the
// recorder needs of it.
type tip struct {
	header types.Header
	hash   types.Hash
	// leaf is the tip's leaf in the recorder's StateRoot.
	leaf types.Hash
}

func newTip(h *types.Header) *tip {
	hh := h.Hash()
	return tipOf(h, &hh)
}

// tipOf is newTip with the header hash computed by the caller.
func tipOf(h *types.Header, headerHash *types.Hash) *tip {
	t := &tip{header: *h, hash: *headerHash}
	var data [tipLeafSize]byte
	binary.BigEndian.PutUint32(data[0:], uint32(h.ChainID))
	binary.BigEndian.PutUint64(data[4:], uint64(h.Height))
	copy(data[12:], t.hash[:])
	t.leaf = merkle.LeafHash(data[:])
	return t
}

// NewState returns the state of recorder chain recorder at its genesis:
// every child of recorder in topo (topo.Children, the recorder itself
// left out) at its genesis header, taken from genesis, which may hold
// headers of other chains too. It fails, wrapping ErrInvalid, when
// recorder is not a root or coordinator chain of topo, has more than
// MaxChildren children, or a child's genesis header is missing, is not for
// that chain at height 0, or is not well formed.
func NewState(recorder types.ChainID, topo *chains.Topology, genesis map[types.ChainID]types.Header) (*State, error) {
	if topo == nil {
		return nil, fmt.Errorf("new recorder state: %w: no topology", ErrInvalid)
	}
	c, ok := topo.Chain(recorder)
	if !ok {
		return nil, fmt.Errorf("new recorder state: %w: chain %d is not in the topology", ErrInvalid, recorder)
	}
	if c.Kind != chains.Root && c.Kind != chains.Coordinator {
		return nil, fmt.Errorf("new recorder state: %w: chain %d is a %v chain, not a recorder", ErrInvalid, recorder, c.Kind)
	}
	var headers []types.Header
	for _, id := range topo.Children(recorder) {
		if id == recorder {
			continue
		}
		h, ok := genesis[id]
		if !ok {
			return nil, fmt.Errorf("new recorder state: %w: no genesis header for child chain %d", ErrInvalid, id)
		}
		if h.ChainID != id || h.Height != 0 {
			return nil, fmt.Errorf("new recorder state: %w: genesis header of child chain %d is %d/%d", ErrInvalid, id, h.ChainID, h.Height)
		}
		headers = append(headers, h)
	}
	return newState(recorder, headers)
}

// newState builds a State from child tips. It checks what NewState and
// DecodeState share: the count, the order, and each header.
func newState(recorder types.ChainID, headers []types.Header) (*State, error) {
	if len(headers) > MaxChildren {
		return nil, fmt.Errorf("new recorder state: %w: %d children, maximum %d", ErrInvalid, len(headers), MaxChildren)
	}
	s := &State{
		recorder: recorder,
		chains:   make([]types.ChainID, len(headers)),
		index:    make(map[types.ChainID]int, len(headers)),
		tips:     make([]*tip, len(headers)),
	}
	for i := range headers {
		h := &headers[i]
		if h.ChainID == recorder || (i > 0 && h.ChainID <= headers[i-1].ChainID) {
			return nil, fmt.Errorf("new recorder state: %w: child chain %d out of order", ErrInvalid, h.ChainID)
		}
		if err := h.ValidateBasic(); err != nil {
			return nil, fmt.Errorf("new recorder state: child chain %d: %w", h.ChainID, err)
		}
		s.chains[i] = h.ChainID
		s.index[h.ChainID] = i
		s.tips[i] = newTip(h)
	}
	s.root = s.computeRoot()
	return s, nil
}

// Recorder returns the chain whose state this is.
func (s *State) Recorder() types.ChainID { return s.recorder }

// Children returns the child chains, in increasing ID order, in a new
// slice.
func (s *State) Children() []types.ChainID { return slices.Clone(s.chains) }

// Tip returns the last recorded header of chain, and false when chain is
// not a child of this recorder.
func (s *State) Tip(chain types.ChainID) (types.Header, bool) {
	i, ok := s.index[chain]
	if !ok {
		return types.Header{}, false
	}
	return s.tips[i].header, true
}

// TipHash returns the hash of Tip(chain).
func (s *State) TipHash(chain types.ChainID) (types.Hash, bool) {
	i, ok := s.index[chain]
	if !ok {
		return types.Hash{}, false
	}
	return s.tips[i].hash, true
}

// Root returns the state root: the Merkle root over the children's tips
// in chain ID order, each leaf LeafHash(chainID u32 || height u64 ||
// tip header hash), big-endian.
func (s *State) Root() types.Hash { return s.root }

func (s *State) computeRoot() types.Hash {
	leaves := make([]types.Hash, len(s.tips))
	for i, t := range s.tips {
		leaves[i] = t.leaf
	}
	return merkle.RootFromLeafHashes(leaves)
}

// Equal reports whether s and o are the same recorder with the same tips.
func (s *State) Equal(o *State) bool {
	if s == nil || o == nil {
		return s == o
	}
	if s.recorder != o.recorder || len(s.tips) != len(o.tips) || s.root != o.root {
		return false
	}
	for i := range s.tips {
		if s.tips[i].header != o.tips[i].header {
			return false
		}
	}
	return true
}

// CheckTopology reports whether s is a state of recorder chain s.Recorder()
// of topo: its children are exactly topo's. A shell calls it on a state it
// loaded, before using it.
func (s *State) CheckTopology(topo *chains.Topology) error {
	if topo == nil {
		return fmt.Errorf("recorder state of chain %d: %w: no topology", s.recorder, ErrInvalid)
	}
	var want []types.ChainID
	for _, id := range topo.Children(s.recorder) {
		if id != s.recorder {
			want = append(want, id)
		}
	}
	if !slices.Equal(want, s.chains) {
		return fmt.Errorf("recorder state of chain %d: %w: children %v, topology has %v", s.recorder, ErrInvalid, s.chains, want)
	}
	return nil
}

// next returns a state with the tips of updates (child positions to their
// new tips) replaced; s is not changed.
func (s *State) next(updates map[int]*tip) *State {
	if len(updates) == 0 {
		return s
	}
	n := &State{recorder: s.recorder, chains: s.chains, index: s.index, tips: slices.Clone(s.tips)}
	for i, t := range updates {
		n.tips[i] = t
	}
	n.root = n.computeRoot()
	return n
}

// EncodedLen returns the length of s's encoding.
func (s *State) EncodedLen() int { return stateFixedSize + len(s.tips)*types.HeaderSize }

// AppendBinary appends the canonical encoding of s to dst.
func (s *State) AppendBinary(dst []byte) ([]byte, error) {
	e := codec.NewEncoder(dst, s.EncodedLen())
	e.AppendUint8(StateTag)
	e.AppendUint32(uint32(s.recorder))
	e.AppendUint32(uint32(len(s.tips)))
	out := e.Bytes()
	for _, t := range s.tips {
		var err error
		if out, err = t.header.AppendBinary(out); err != nil {
			return dst, fmt.Errorf("encode recorder state: chain %d: %w", t.header.ChainID, err)
		}
	}
	return out, nil
}

// MarshalBinary returns the canonical encoding of s, for persistence.
func (s *State) MarshalBinary() ([]byte, error) {
	return s.AppendBinary(make([]byte, 0, s.EncodedLen()))
}

// DecodeState decodes a canonical state encoding. Beyond the encoding it
// checks what every State holds: at most MaxChildren tips, in strictly
// increasing chain order, none for the recorder itself, each header well
// formed (all rejected with codec.ErrNonCanonical or codec.ErrTooLarge).
// Whether the children are those of the topology is CheckTopology's.
func DecodeState(b []byte) (*State, error) {
	d := codec.NewDecoder("recorder state", b, StateMaxSize)
	readTag(&d, StateTag)
	recorder := types.ChainID(d.Uint32("Recorder"))
	n := d.Uint32("Tips")
	if d.Err() == nil && n > MaxChildren {
		d.Fail("Tips", fmt.Errorf("%w: count %d, maximum %d", codec.ErrTooLarge, n, MaxChildren))
	}
	var headers []types.Header
	if d.Err() == nil && n > 0 {
		headers = make([]types.Header, 0, min(int(n), d.Remaining()/types.HeaderSize))
	}
	var hb [types.HeaderSize]byte
	for i := 0; i < int(n) && d.Err() == nil; i++ {
		d.Fixed("Tips", hb[:])
		if d.Err() != nil {
			break
		}
		h, err := types.DecodeHeader(hb[:])
		if err != nil {
			d.Fail("Tips", fmt.Errorf("tip %d: %w", i, err))
			break
		}
		headers = append(headers, h)
	}
	if err := d.Finish(); err != nil {
		return nil, err
	}
	s, err := newState(recorder, headers)
	if err != nil {
		return nil, fmt.Errorf("decode recorder state: %w: %w", codec.ErrNonCanonical, err)
	}
	return s, nil
}
