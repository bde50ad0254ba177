package consensus

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/thinkey/thinkey/node/types"
)

// The test harness wires n cores together: a FIFO perfect network with
// optional drop and rewrite hooks, a manual clock, a verifier that really
// checks the fast stand-in signatures, and an application validity function.
// It is deliberately small; the simulator (node/sim) is the full-featured
// world.

const testChain types.ChainID = 7

// standInSigner signs with SHA-256(secret || msg), repeated to 96 bytes: a
// deterministic, forgeable-only-with-the-secret stand-in for BLS that the
// harness can verify because it knows every secret.
type standInSigner struct{ secret [32]byte }

func (s standInSigner) Sign(msg []byte) [types.BLSSignatureSize]byte {
	return standInSignature(s.secret, msg)
}

func standInSignature(secret [32]byte, msg []byte) [types.BLSSignatureSize]byte {
	h := sha256.New()
	h.Write(secret[:])
	h.Write(msg)
	d := h.Sum(nil)
	var sig [types.BLSSignatureSize]byte
	for i := 0; i < len(sig); i += len(d) {
		copy(sig[i:], d)
	}
	return sig
}

// xorAggregator aggregates stand-in signatures by XOR; the harness checks a
// certificate by XOR-ing the signatures its signers would have made.
type xorAggregator struct{}

func (xorAggregator) Aggregate(sigs [][types.BLSSignatureSize]byte) ([types.BLSSignatureSize]byte, error) {
	var out [types.BLSSignatureSize]byte
	if len(sigs) == 0 {
		return out, errors.New("nothing to aggregate")
	}
	for _, s := range sigs {
		for i := range out {
			out[i] ^= s[i]
		}
	}
	return out, nil
}

func memberSecret(i int) [32]byte {
	return sha256.Sum256([]byte(fmt.Sprintf("member secret %d", i)))
}

// standInVerifier checks stand-in signatures and certificates for a
// committee of n.
type standInVerifier struct{ n int }

func (v standInVerifier) verify(signer types.ValidatorIndex, msg []byte, sig [types.BLSSignatureSize]byte) bool {
	return int(signer) < v.n && standInSignature(memberSecret(int(signer)), msg) == sig
}

func (v standInVerifier) verifyCertificate(c *types.Certificate) bool {
	msg := c.VoteSigningBytes()
	var want [types.BLSSignatureSize]byte
	for _, s := range c.SignerIndices(nil) {
		sig := standInSignature(memberSecret(int(s)), msg)
		for i := range want {
			want[i] ^= sig[i]
		}
	}
	return c.SignerCount() > 0 && int(c.Signers.CommitteeSize()) == v.n && want == c.AggregateSignature
}

// answer computes the result of a verification request.
func (v standInVerifier) answer(req VerifyRequest, blockValid func(*Block) bool) VerifyResult {
	res := VerifyResult{ID: req.ID}
	switch req.Kind {
	case VerifySameMessageVotes:
		for i, vote := range req.Votes {
			if !bytes.Equal(vote.SigningBytes(), req.SigningBytes) || !v.verify(vote.Voter, req.SigningBytes, vote.Signature) {
				res.Invalid = append(res.Invalid, i)
			}
		}
	case VerifySignatures:
		for _, s := range req.Signatures {
			res.Valid = append(res.Valid, v.verify(s.Signer, s.Message, s.Signature))
		}
	case VerifyCertificate:
		res.OK = v.verifyCertificate(req.Certificate)
	case VerifyBlock:
		res.OK = blockValid(req.Block)
	}
	return res
}

// verifier abstracts the stand-in and real BLS verifiers.
type verifier interface {
	answer(req VerifyRequest, blockValid func(*Block) bool) VerifyResult
	verifyCertificate(c *types.Certificate) bool
	verify(signer types.ValidatorIndex, msg []byte, sig [types.BLSSignatureSize]byte) bool
}

// packet is a message in flight.
type packet struct {
	from, to types.ValidatorIndex
	msg      Message
}

type armedTimer struct {
	node    int
	setting TimerSetting
}

type queuedRequest struct {
	node int
	req  VerifyRequest
}

type queuedProposal struct {
	node int
	req  ProposalRequest
}

// testTB is what the harness needs of testing.T and rapid.T.
type testTB interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// cluster is n cores on a perfect network.
type cluster struct {
	t        testTB
	n        int
	cfgs     []Config
	cores    []*Core
	verifier verifier
	// persisted is each member's last persisted state.
	persisted []PersistentState
	crashed   []bool
	now       time.Duration

	network   []packet
	timers    []armedTimer
	verifies  []queuedRequest
	proposals []queuedProposal

	// drop, when set, discards a packet instead of delivering it.
	drop func(p packet) bool
	// rewrite, when set, replaces each packet a member sends by the
	// packets it returns: how Byzantine behaviour is injected, by
	// rewriting an honest core's output.
	rewrite func(p packet) []packet
	// byzantine marks members whose double votes are expected.
	byzantine []bool
	// signedVotes records every vote honest members sent, by (member,
	// height, round, stage), to catch a double vote (across restarts too).
	signedVotes map[voteSlot]types.Hash
	// claims records, per height, the prepare certificates and the
	// proposals honest members sent, to check the lemma of "Why it is
	// safe" against every decision, whatever the order they were seen in.
	claims map[types.Height][]claim
	// firstDecision is, per height, the lowest round a decision was made
	// at.
	firstDecision map[types.Height]claim
	// crashAfterPersist makes a member crash right after persisting its
	// next Ready, before sending anything of it.
	crashAfterPersist []bool
	// blockValid is the application's check; badBlocks are refused.
	blockValid func(*Block) bool
	// buildBlock, when set, replaces the default block builder.
	buildBlock func(node int, req ProposalRequest) Block
	// lastHeight is the last height blocks are built for, so that a
	// perfect network settles instead of deciding heights forever.
	lastHeight types.Height

	// invalidVotes counts the votes verifiers found invalid.
	invalidVotes int
	// requested counts each member's verification requests by kind.
	requested []map[VerifyKind]int

	commits  [][]Decision
	evidence [][]Evidence
	// decided is the value decided at each height, by whoever first.
	decided map[types.Height]types.Hash
	// log records notable actions for transcripts.
	log []string
	// errors from Step on delivered messages, by sentinel, for assertions.
	stepErrors []error
}

func defaultTestConfig(n, self int) Config {
	return Config{
		Chain: testChain, Self: types.ValidatorIndex(self), CommitteeSize: n,
		Signer: standInSigner{secret: memberSecret(self)}, Aggregator: xorAggregator{},
		ProposalTimeout: time.Second, RoundTimeout: 3 * time.Second, TimeoutIncrement: time.Second,
		MaxFutureMessagesPerMember: 16,
	}
}

func newCluster(t testTB, n int) *cluster {
	t.Helper()
	return newClusterWith(t, n, func(i int) Signer { return standInSigner{secret: memberSecret(i)} }, xorAggregator{}, standInVerifier{n: n})
}

// newClusterWith builds a cluster over another signature scheme.
func newClusterWith(t testTB, n int, signer func(i int) Signer, agg Aggregator, v verifier) *cluster {
	t.Helper()
	cl := &cluster{t: t, n: n, verifier: v, decided: make(map[types.Height]types.Hash), lastHeight: 1}
	cl.blockValid = func(b *Block) bool { return !bytes.HasPrefix(b.Body, []byte("bad")) }
	for i := range n {
		cfg := defaultTestConfig(n, i)
		cfg.Signer, cfg.Aggregator = signer(i), agg
		cl.cfgs = append(cl.cfgs, cfg)
	}
	cl.commits = make([][]Decision, n)
	cl.byzantine = make([]bool, n)
	for range n {
		cl.requested = append(cl.requested, make(map[VerifyKind]int))
	}
	cl.crashAfterPersist = make([]bool, n)
	cl.signedVotes = make(map[voteSlot]types.Hash)
	cl.claims = make(map[types.Height][]claim)
	cl.firstDecision = make(map[types.Height]claim)
	cl.evidence = make([][]Evidence, n)
	cl.crashed = make([]bool, n)
	for i := range n {
		cl.persisted = append(cl.persisted, InitialState(testChain, 1))
		core, err := New(cl.cfgs[i], cl.persisted[i])
		if err != nil {
			t.Fatalf("New(%d): %v", i, err)
		}
		cl.cores = append(cl.cores, core)
	}
	return cl
}

func (cl *cluster) logf(format string, args ...any) {
	cl.log = append(cl.log, fmt.Sprintf("[%v] ", cl.now)+fmt.Sprintf(format, args...))
}

// stepNode feeds one event to a member, checks its invariants and collects
// its Ready.
func (cl *cluster) stepNode(i int, ev Event) error {
	cl.t.Helper()
	if cl.crashed[i] {
		return nil
	}
	err := cl.cores[i].Step(ev)
	if err != nil {
		cl.stepErrors = append(cl.stepErrors, err)
		if errors.Is(err, ErrInvariant) {
			cl.t.Fatalf("member %d: %v", i, err)
		}
	}
	if ierr := cl.cores[i].CheckInvariants(); ierr != nil {
		cl.t.Fatalf("member %d after %T: %v", i, ev, ierr)
	}
	cl.collect(i)
	return err
}

// collect carries out a member's Ready through Apply, as every shell does.
func (cl *cluster) collect(i int) {
	cl.t.Helper()
	c := cl.cores[i]
	if !c.HasReady() {
		return
	}
	if err := Apply(c.Ready(), memberEffects{cl: cl, i: i}); err != nil {
		if !errors.Is(err, errCrashAfterPersist) {
			cl.t.Fatalf("member %d: %v", i, err)
		}
		cl.logf("%d crashes after persisting", i)
		cl.crash(i)
		return
	}
	c.Advance()
}

// errCrashAfterPersist makes Apply stop after a member persisted, the way a
// crash between the synced write and the sends would.
var errCrashAfterPersist = errors.New("crash after persisting")

// memberEffects is the harness's Effects for member i.
type memberEffects struct {
	cl *cluster
	i  int
}

func (fx memberEffects) Persist(state *PersistentState, _ []Decision) error {
	cl, i := fx.cl, fx.i
	cl.t.Helper()
	if state != nil {
		// Round-trip through the codec, as storage would.
		b, err := EncodePersistentState(state)
		if err != nil {
			cl.t.Fatalf("member %d: encode persistent state: %v", i, err)
		}
		s, err := DecodePersistentState(b)
		if err != nil {
			cl.t.Fatalf("member %d: decode persistent state: %v", i, err)
		}
		cl.persisted[i] = s
	}
	if cl.crashAfterPersist[i] {
		cl.crashAfterPersist[i] = false
		return errCrashAfterPersist
	}
	return nil
}

func (fx memberEffects) Send(env Envelope) {
	cl, i := fx.cl, fx.i
	cl.t.Helper()
	// Every message goes through the codec, as the network would.
	b, err := EncodeMessage(env.Msg)
	if err != nil {
		cl.t.Fatalf("member %d: encode %v: %v", i, env.Msg.Kind(), err)
	}
	m, err := DecodeMessage(b)
	if err != nil {
		cl.t.Fatalf("member %d: decode %v: %v", i, env.Msg.Kind(), err)
	}
	cl.logf("%d -> %s: %s", i, recipient(env.To), describe(m))
	cl.recordVote(i, m)
	cl.recordClaim(i, m)
	for to := range cl.n {
		if to != i && (env.To == Broadcast || int(env.To) == to) {
			p := packet{from: types.ValidatorIndex(i), to: types.ValidatorIndex(to), msg: m}
			if cl.rewrite == nil {
				cl.network = append(cl.network, p)
			} else {
				cl.network = append(cl.network, cl.rewrite(p)...)
			}
		}
	}
}

func (fx memberEffects) Commit(d Decision) {
	cl, i := fx.cl, fx.i
	cl.t.Helper()
	cl.checkCommit(i, d)
	cl.commits[i] = append(cl.commits[i], d)
	cl.logf("%d commits height %d: %s", i, d.Height(), describeDecision(&d))
}

func (fx memberEffects) Evidence(e Evidence) {
	cl, i := fx.cl, fx.i
	cl.t.Helper()
	if err := VerifyEvidence(&e, cl.n, cl.verifier.verify); err != nil {
		cl.t.Fatalf("member %d emitted evidence that does not verify: %v", i, err)
	}
	cl.evidence[i] = append(cl.evidence[i], e)
	cl.logf("%d evidence: %v against member %d", i, e.Kind, e.Offender())
}

func (fx memberEffects) Verify(r VerifyRequest) {
	fx.cl.verifies = append(fx.cl.verifies, queuedRequest{node: fx.i, req: r})
	fx.cl.requested[fx.i][r.Kind]++
}

func (fx memberEffects) RequestProposal(r ProposalRequest) {
	fx.cl.proposals = append(fx.cl.proposals, queuedProposal{node: fx.i, req: r})
}

func (fx memberEffects) SetTimer(s TimerSetting) {
	fx.cl.timers = append(fx.cl.timers, armedTimer{node: fx.i, setting: s})
}

type voteSlot struct {
	member int
	height types.Height
	round  types.Round
	stage  stage
}

// recordVote fails the test when an honest member signs two different votes
// of one stage in one round.
func (cl *cluster) recordVote(i int, m Message) {
	cl.t.Helper()
	var v *types.Vote
	switch m := m.(type) {
	case *Prepare:
		v = &m.Vote
	case *Confirm:
		v = &m.Vote
	default:
		return
	}
	slot := voteSlot{member: i, height: v.Height, round: v.Round, stage: stageOf(v.Kind)}
	if prev, ok := cl.signedVotes[slot]; ok && prev != v.BlockHash && !cl.byzantine[i] {
		cl.t.Fatalf("honest member %d signed two votes in stage %d of height %d round %d: %v and %v", i, slot.stage, v.Height, v.Round, prev, v.BlockHash)
	}
	cl.signedVotes[slot] = v.BlockHash
}

// claim is a value bound to a round: a prepare certificate, a proposal or
// a decision.
type claim struct {
	round    types.Round
	value    types.Hash
	proposal bool
	member   int
}

// recordClaim files the certificates and proposals an honest member sends.
func (cl *cluster) recordClaim(i int, m Message) {
	cl.t.Helper()
	if cl.byzantine[i] {
		return
	}
	var c claim
	var h types.Height
	switch m := m.(type) {
	case *Proposal:
		c, h = claim{round: m.Round, value: m.Value(), proposal: true, member: i}, m.Height
	case *Confirm:
		c, h = claim{round: m.PrepareCertificate.Round, value: m.PrepareCertificate.BlockHash, member: i}, m.Vote.Height
	case *RoundChange:
		if m.HighestCertificate == nil {
			return
		}
		c, h = claim{round: m.HighestCertificate.Round, value: m.HighestCertificate.BlockHash, member: i}, m.Height
	default:
		return
	}
	cl.claims[h] = append(cl.claims[h], c)
	if d, ok := cl.firstDecision[h]; ok {
		cl.checkClaim(h, d, c)
	}
}

// checkClaim is the lemma of docs/CONSENSUS.md ("Why it is safe"): once w
// is decided at round R, every prepare certificate of a round >= R is for
// w, and every honest proposal of a round > R proposes w.
func (cl *cluster) checkClaim(h types.Height, d, c claim) {
	cl.t.Helper()
	if c.value == d.value || c.round < d.round || (c.proposal && c.round == d.round) {
		return
	}
	what := "prepare certificate"
	if c.proposal {
		what = "proposal"
	}
	cl.t.Fatalf("height %d: %v decided at round %d, but member %d sent a %s for %v at round %d\n%s",
		h, shortValue(d.value), d.round, c.member, what, shortValue(c.value), c.round, cl.tail(40))
}

// recordDecision checks a decision against the claims seen so far.
func (cl *cluster) recordDecision(d *Decision) {
	cl.t.Helper()
	h := d.Height()
	dc := claim{round: d.Certificate.Round, value: d.Value()}
	if prev, ok := cl.firstDecision[h]; ok && prev.round <= dc.round {
		return
	}
	cl.firstDecision[h] = dc
	for _, c := range cl.claims[h] {
		cl.checkClaim(h, dc, c)
	}
}

// checkCommit asserts agreement and that the commit's certificate is a
// valid proof.
func (cl *cluster) checkCommit(i int, d Decision) {
	cl.t.Helper()
	if err := d.ValidateBasic(); err != nil {
		cl.t.Fatalf("member %d commits an invalid decision: %v", i, err)
	}
	cert := &d.Certificate
	need := ThresholdsFor(cl.n).Quorum
	if cert.Kind != types.VoteConfirm {
		need = cl.n
	}
	if cert.SignerCount() < need || !cl.verifier.verifyCertificate(cert) {
		cl.t.Fatalf("member %d commits height %d with a certificate that does not prove it (%d signers, %v)", i, d.Height(), cert.SignerCount(), cert.Kind)
	}
	if prev, ok := cl.decided[d.Height()]; ok && prev != d.Value() {
		cl.t.Fatalf("agreement violated at height %d: member %d decides %v, another decided %v", d.Height(), i, d.Value(), prev)
	}
	cl.decided[d.Height()] = d.Value()
	cl.recordDecision(&d)
	if n := len(cl.commits[i]); n > 0 && cl.commits[i][n-1].Height()+1 != d.Height() {
		cl.t.Fatalf("member %d commits height %d after height %d", i, d.Height(), cl.commits[i][n-1].Height())
	}
}

func recipient(to types.ValidatorIndex) string {
	if to == Broadcast {
		return "all"
	}
	return fmt.Sprint(to)
}

func shortValue(v types.Hash) string {
	if IsEmptyValue(v) {
		return "EMPTY"
	}
	return v.String()[:8]
}

func describe(m Message) string {
	switch m := m.(type) {
	case *Proposal:
		return fmt.Sprintf("proposal h%d r%d %s just=%d", m.Height, m.Round, shortValue(m.Value()), len(m.Justification))
	case *Prepare:
		return fmt.Sprintf("%v h%d r%d %s", m.Vote.Kind, m.Vote.Height, m.Vote.Round, shortValue(m.Vote.BlockHash))
	case *Confirm:
		return fmt.Sprintf("confirm h%d r%d %s", m.Vote.Height, m.Vote.Round, shortValue(m.Vote.BlockHash))
	case *RoundChange:
		var parts []string
		if c := m.HighestCertificate; c != nil {
			parts = append(parts, fmt.Sprintf("cert=r%d:%s", c.Round, shortValue(c.BlockHash)))
		}
		if v := m.LastPrepare; v != nil {
			parts = append(parts, fmt.Sprintf("last=r%d:%s", v.Round, shortValue(v.BlockHash)))
		}
		return strings.TrimSpace(fmt.Sprintf("round-change h%d r%d %s", m.Height, m.Round, strings.Join(parts, " ")))
	case *Decision:
		return "decision " + describeDecision(m)
	}
	return fmt.Sprintf("%T", m)
}

func describeDecision(d *Decision) string {
	path := "confirm"
	if d.Certificate.Kind != types.VoteConfirm {
		path = "fast"
	}
	return fmt.Sprintf("h%d r%d %s (%s, %d signers)", d.Height(), d.Certificate.Round, shortValue(d.Value()), path, d.Certificate.SignerCount())
}

// start starts every member at the current time.
func (cl *cluster) start() {
	cl.t.Helper()
	for i := range cl.n {
		if err := cl.stepNode(i, Start{Now: cl.now}); err != nil {
			cl.t.Fatalf("start %d: %v", i, err)
		}
	}
}

// defaultBlock builds the block member node proposes at req.
func (cl *cluster) defaultBlock(node int, req ProposalRequest) Block {
	h := types.Header{
		Version: types.HeaderVersion, ChainID: testChain, Height: req.Height, Round: req.Round,
		Proposer: types.ValidatorIndex(node), TimestampMillis: uint64(cl.now / time.Millisecond),
	}
	h.ParentHash = sha256.Sum256([]byte(fmt.Sprintf("parent of %d", req.Height)))
	h.StateRoot = sha256.Sum256([]byte(fmt.Sprintf("state %d %d %d", req.Height, req.Round, node)))
	return Block{Header: h, Body: []byte(fmt.Sprintf("block h%d r%d by %d", req.Height, req.Round, node))}
}

// stepOnce does one unit of work: a proposal, a verification or a
// delivery, in that order of preference. It reports whether there was any.
func (cl *cluster) stepOnce() bool {
	cl.t.Helper()
	next := slices.IndexFunc(cl.proposals, func(q queuedProposal) bool { return q.req.Height <= cl.lastHeight })
	switch {
	case next >= 0:
		p := cl.proposals[next]
		cl.proposals = slices.Delete(cl.proposals, next, next+1)
		build := cl.defaultBlock
		if cl.buildBlock != nil {
			build = cl.buildBlock
		}
		_ = cl.stepNode(p.node, ProposalReady{Now: cl.now, Height: p.req.Height, Round: p.req.Round, Block: build(p.node, p.req)})
	case len(cl.verifies) > 0:
		v := cl.verifies[0]
		cl.verifies = cl.verifies[1:]
		res := cl.verifier.answer(v.req, cl.blockValid)
		res.Now = cl.now
		cl.invalidVotes += len(res.Invalid)
		_ = cl.stepNode(v.node, res)
	case len(cl.network) > 0:
		p := cl.network[0]
		cl.network = cl.network[1:]
		cl.deliver(p)
	default:
		return false
	}
	return true
}

func (cl *cluster) deliver(p packet) {
	cl.t.Helper()
	if cl.crashed[p.to] || (cl.drop != nil && cl.drop(p)) {
		return
	}
	_ = cl.stepNode(int(p.to), MessageReceived{Now: cl.now, From: p.from, Msg: p.msg})
}

// settle runs until no message, verification or proposal is left, without
// moving the clock.
func (cl *cluster) settle() {
	cl.t.Helper()
	for steps := 0; cl.stepOnce(); steps++ {
		if steps > 1_000_000 {
			cl.t.Fatal("the cluster does not settle")
		}
	}
}

// advance moves the clock forward by d, firing the timers that fall due in
// deadline order and settling after each.
func (cl *cluster) advance(d time.Duration) {
	cl.t.Helper()
	end := cl.now + d
	cl.settle()
	for {
		i := cl.nextTimer(end)
		if i < 0 {
			break
		}
		at := cl.timers[i]
		cl.timers = slices.Delete(cl.timers, i, i+1)
		if at.setting.Deadline > cl.now {
			cl.now = at.setting.Deadline
		}
		_ = cl.stepNode(at.node, TimerFired{Now: cl.now, Timer: at.setting.Timer})
		cl.settle()
	}
	cl.now = end
}

// nextTimer returns the index of the earliest timer due by end, or -1.
func (cl *cluster) nextTimer(end time.Duration) int {
	best := -1
	for i, at := range cl.timers {
		if at.setting.Deadline <= end && (best < 0 || at.setting.Deadline < cl.timers[best].setting.Deadline) {
			best = i
		}
	}
	return best
}

// syncLaggards plays the shell's block sync: a member behind by more than
// the one height the core itself catches up on gets the decisions it
// missed, as Decision messages from a member that committed them.
func (cl *cluster) syncLaggards() {
	cl.t.Helper()
	for i := range cl.n {
		for !cl.crashed[i] {
			h := cl.cores[i].Status().Height
			d, from := cl.committedBy(h)
			if d == nil || d.Height()+1 >= cl.highestHeight() {
				break
			}
			_ = cl.stepNode(i, MessageReceived{Now: cl.now, From: types.ValidatorIndex(from), Msg: d})
			cl.settle()
			if cl.cores[i].Status().Height == h {
				break
			}
		}
	}
}

// committedBy returns a commit of height h and a member that made it.
func (cl *cluster) committedBy(h types.Height) (*Decision, int) {
	for j := range cl.n {
		for k := range cl.commits[j] {
			if cl.commits[j][k].Height() == h {
				d := cl.commits[j][k]
				return &d, j
			}
		}
	}
	return nil, -1
}

func (cl *cluster) highestHeight() types.Height {
	var top types.Height
	for j := range cl.n {
		if !cl.crashed[j] {
			top = max(top, cl.cores[j].Status().Height)
		}
	}
	return top
}

// dropStaleTimers forgets the timers of rounds their member has left, which
// the core would answer with ErrStale.
func (cl *cluster) dropStaleTimers() {
	cl.timers = slices.DeleteFunc(cl.timers, func(a armedTimer) bool {
		st := cl.cores[a.node].Status()
		return a.setting.Timer.Height != st.Height || a.setting.Timer.Round != st.Round
	})
}

// crash stops a member: its queued work is lost, its persisted state stays.
func (cl *cluster) crash(i int) {
	cl.crashed[i] = true
	cl.timers = slices.DeleteFunc(cl.timers, func(a armedTimer) bool { return a.node == i })
	cl.verifies = slices.DeleteFunc(cl.verifies, func(q queuedRequest) bool { return q.node == i })
	cl.proposals = slices.DeleteFunc(cl.proposals, func(q queuedProposal) bool { return q.node == i })
}

// restart brings a crashed member back from its persisted state.
func (cl *cluster) restart(i int) {
	cl.t.Helper()
	core, err := New(cl.cfgs[i], cl.persisted[i])
	if err != nil {
		cl.t.Fatalf("restart %d: %v", i, err)
	}
	cl.cores[i] = core
	cl.crashed[i] = false
	if err := cl.stepNode(i, Start{Now: cl.now}); err != nil {
		cl.t.Fatalf("restart %d: start: %v", i, err)
	}
}

// requireCommitted asserts every member in members committed height h with
// value want (nil: any value, but the same for all).
func (cl *cluster) requireCommitted(h types.Height, members []int) types.Hash {
	cl.t.Helper()
	var value types.Hash
	for k, i := range members {
		var found *Decision
		for j := range cl.commits[i] {
			if cl.commits[i][j].Height() == h {
				found = &cl.commits[i][j]
			}
		}
		if found == nil {
			var st []string
			for j := range cl.n {
				st = append(st, fmt.Sprintf("member %d crashed=%v commits=%d %+v", j, cl.crashed[j], len(cl.commits[j]), cl.cores[j].Status()))
			}
			cl.t.Fatalf("member %d did not commit height %d\n%s\nlog:\n%s", i, h, strings.Join(st, "\n"), cl.tail(40))
		}
		if k == 0 {
			value = found.Value()
		} else if found.Value() != value {
			cl.t.Fatalf("members disagree at height %d", h)
		}
	}
	return value
}

func (cl *cluster) tail(n int) string {
	from := max(0, len(cl.log)-n)
	return strings.Join(cl.log[from:], "\n")
}

func allMembers(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func without(members []int, drop ...int) []int {
	return slices.DeleteFunc(slices.Clone(members), func(i int) bool { return slices.Contains(drop, i) })
}
