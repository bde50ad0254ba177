package driver

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/thinkey/thinkey/netq"
	"github.com/thinkey/thinkey/node/types"
)

// EnvelopeSize is the length of the chain envelope that starts every netq
// payload: the chain ID, u32 big-endian. The runners of one process share
// one transport; the envelope says which runner a payload is for.
const EnvelopeSize = 4

// appendEnvelope appends the envelope of chain to dst.
func appendEnvelope(dst []byte, chain types.ChainID) []byte {
	return binary.BigEndian.AppendUint32(dst, uint32(chain))
}

// frame returns payload in chain's envelope, in a new buffer.
func frame(chain types.ChainID, payload []byte) []byte {
	out := make([]byte, 0, EnvelopeSize+len(payload))
	return append(appendEnvelope(out, chain), payload...)
}

// openEnvelope splits a netq payload into its chain and the payload inside;
// ok is false when it is too short to hold an envelope and a kind byte.
func openEnvelope(msg []byte) (types.ChainID, []byte, bool) {
	if len(msg) <= EnvelopeSize {
		return 0, nil, false
	}
	return types.ChainID(binary.BigEndian.Uint32(msg)), msg[EnvelopeSize:], true
}

// demux reads the transport and hands each payload to the runner of its
// envelope's chain, waiting while that runner's queue is full (the
// transport's back-pressure). Payloads from outside the genesis, without
// an envelope, or for a chain this node does not run are dropped and
// counted.
func (n *Node) demux(ctx context.Context) {
	recv := n.tr.Receive()
	for {
		var in netq.Inbound
		var ok bool
		select {
		case <-ctx.Done():
			return
		case in, ok = <-recv:
			if !ok {
				return
			}
		}
		node, known := n.nodeOf[in.From]
		chain, payload, framed := openEnvelope(in.Msg)
		r := n.runners[chain]
		if !known || node == n.self || !framed || r == nil {
			n.dropped.Inc()
			continue
		}
		n.heard[node].Store(time.Now().UnixNano())
		select {
		case r.raw <- inbound{node: node, peer: in.From, payload: payload}:
		case <-ctx.Done():
			return
		}
	}
}

// inbound is a payload for one runner, from genesis node node.
type inbound struct {
	node    int
	peer    netq.PeerID
	payload []byte
}

// sendTo queues payload (already in its envelope) to peer in the reliable
// class, waiting at most wait for room.
func (n *Node) sendTo(ctx context.Context, peer netq.PeerID, framed []byte, wait time.Duration) error {
	sctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	return n.tr.Send(sctx, peer, framed)
}
