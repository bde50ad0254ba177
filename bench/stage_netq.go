package bench

import (
	"context"
	"fmt"
	"net"
	"testing"

	"github.com/thinkey/thinkey/netq"
	netquic "github.com/thinkey/thinkey/netq/quic"
)

// The netq stage measures the node-to-node transport between two QUIC
// endpoints (netq/quic, default production config) on loopback UDP sockets
// of this machine:
//
//   - quic/rtt/<size>: one round trip: A sends a message with Send, B's
//     echo loop sends it back, A receives it. Two frames, two stream
//     writes and reads, two passes through the queues and Receive
//     channels; loopback has no wire latency, so this is the transport's
//     own per-message cost on the critical path of a consensus phase.
//   - quic/throughput/<size>: A streams messages to B with Send (waiting on
//     a full queue, as consensus traffic does) while B drains Receive; the
//     time per message includes encryption, flow control and copies, and
//     MB/s is the payload rate one core sustains.
//
// Loopback flatters nothing but the wire: both endpoints run on this
// machine and share its cores, so figures are per pair of nodes on one
// host. Connections are set up and warmed before the timer starts.

func netqCases(cfg Config) []Case {
	rttSizes := []int{256, 4 << 10}
	throughputSizes := []int{1 << 10, 64 << 10, 1 << 20}
	if cfg.Quick {
		rttSizes = []int{256}
		throughputSizes = []int{64 << 10}
	}
	var cases []Case
	for _, size := range rttSizes {
		cases = append(cases, Case{
			Stage: "netq",
			Name:  "quic/rtt/" + sizeLabel(size),
			Unit:  "round trip",
			Run:   func(b *testing.B) { benchQUICRoundTrip(b, size) },
		})
	}
	for _, size := range throughputSizes {
		cases = append(cases, Case{
			Stage: "netq",
			Name:  "quic/throughput/" + sizeLabel(size),
			Unit:  "message",
			Run:   func(b *testing.B) { benchQUICThroughput(b, size) },
		})
	}
	return cases
}

// quicPair starts two connected transports on 127.0.0.1 and returns them
// with a function that closes both.
func quicPair(b *testing.B) (a, z *netquic.Transport, closeBoth func()) {
	b.Helper()
	start := func(i byte) *netquic.Transport {
		seed := make([]byte, 32)
		seed[0] = i
		id, err := netq.NewIdentity(seed)
		if err != nil {
			b.Fatal(err)
		}
		pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			b.Fatal(err)
		}
		tr, err := netquic.New(netquic.Config{Identity: id, PacketConn: pc})
		if err != nil {
			_ = pc.Close()
			b.Fatal(err)
		}
		return tr
	}
	a, z = start(1), start(2)
	if err := a.AddPeer(z.LocalID(), z.LocalAddr().String()); err != nil {
		b.Fatal(err)
	}
	if err := z.AddPeer(a.LocalID(), a.LocalAddr().String()); err != nil {
		b.Fatal(err)
	}
	return a, z, func() {
		_ = a.Close()
		_ = z.Close()
	}
}

// receiveOne waits for one message on tr, failing b if the transport
// closed.
func receiveOne(b *testing.B, tr netq.Transport) netq.Inbound {
	in, ok := <-tr.Receive()
	if !ok {
		b.Fatal("receive channel closed")
	}
	return in
}

func benchQUICRoundTrip(b *testing.B, size int) {
	a, z, closeBoth := quicPair(b)
	defer closeBoth()
	ctx := context.Background()
	echoDone := make(chan struct{})
	go func() {
		defer close(echoDone)
		for in := range z.Receive() {
			if err := z.Send(ctx, in.From, in.Msg); err != nil {
				return // closed at the end of the run
			}
		}
	}()
	msg := make([]byte, size)
	// Warm up: both connections dialled, windows and buffers in use.
	for range 10 {
		if err := a.Send(ctx, z.LocalID(), msg); err != nil {
			b.Fatal(err)
		}
		receiveOne(b, a)
	}
	b.SetBytes(int64(2 * size))
	b.ResetTimer()
	for range b.N {
		if err := a.Send(ctx, z.LocalID(), msg); err != nil {
			b.Fatal(err)
		}
		// The echo returns the payload it received, which is a fresh
		// buffer: msg is never shared between the two ends.
		msg = receiveOne(b, a).Msg
	}
	b.StopTimer()
	if len(msg) != size {
		b.Fatalf("echo returned %d bytes, want %d", len(msg), size)
	}
	closeBoth()
	<-echoDone
}

func benchQUICThroughput(b *testing.B, size int) {
	a, z, closeBoth := quicPair(b)
	defer closeBoth()
	ctx := context.Background()
	// Send takes ownership of its message; this one is never modified, so
	// every send may share it.
	msg := make([]byte, size)
	if err := a.Send(ctx, z.LocalID(), msg); err != nil {
		b.Fatal(err)
	}
	receiveOne(b, z)
	received := make(chan error, 1)
	b.SetBytes(int64(size))
	b.ResetTimer()
	go func() {
		for i := range b.N {
			in, ok := <-z.Receive()
			if !ok || len(in.Msg) != size {
				received <- fmt.Errorf("message %d: closed=%v, %d bytes", i, !ok, len(in.Msg))
				return
			}
		}
		received <- nil
	}()
	for range b.N {
		if err := a.Send(ctx, z.LocalID(), msg); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-received; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
}
