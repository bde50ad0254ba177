package sendq

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"pgregory.net/rapid"

	"github.com/thinkey/thinkey/netq"
)

func item(b byte, size int) Item { return Item{Msg: bytes.Repeat([]byte{b}, size)} }

// TestQueueMatchesModel drives a queue and a plain two-lane model with the
// same random non-blocking operations: same verdicts, same items, same
// order, and the bounds hold throughout.
func TestQueueMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		limits := Limits{Messages: rapid.IntRange(1, 6).Draw(t, "messages"), Bytes: rapid.IntRange(1, 64).Draw(t, "bytes")}
		q := New(limits)
		var model [laneCount][]Item
		modelBytes := func(l Lane) int {
			n := 0
			for _, it := range model[l] {
				n += len(it.Msg)
			}
			return n
		}
		var next byte
		t.Repeat(map[string]func(*rapid.T){
			"push": func(t *rapid.T) {
				lane := Lane(rapid.IntRange(0, int(laneCount)-1).Draw(t, "lane"))
				it := item(next, rapid.IntRange(0, 80).Draw(t, "size"))
				next++
				fits := len(model[lane]) == 0 ||
					(len(model[lane]) < limits.Messages && modelBytes(lane)+len(it.Msg) <= limits.Bytes)
				err := q.TryPush(lane, it)
				if fits != (err == nil) {
					t.Fatalf("TryPush: fits=%v, err=%v", fits, err)
				}
				if err != nil && !errors.Is(err, netq.ErrQueueFull) {
					t.Fatalf("TryPush: %v, want ErrQueueFull", err)
				}
				if fits {
					model[lane] = append(model[lane], it)
				}
			},
			"pop": func(t *rapid.T) {
				got, ok := q.TryPop()
				for l := range model {
					if len(model[l]) > 0 {
						want := model[l][0]
						model[l] = model[l][1:]
						if !ok || !bytes.Equal(got.Msg, want.Msg) {
							t.Fatalf("TryPop = %v, %v; want %v from lane %d", got.Msg, ok, want.Msg, l)
						}
						return
					}
				}
				if ok {
					t.Fatalf("TryPop from an empty queue = %v", got.Msg)
				}
			},
			"": func(t *rapid.T) {
				if got, want := q.Len(), len(model[Reliable])+len(model[BestEffort]); got != want {
					t.Fatalf("Len = %d, want %d", got, want)
				}
				for l := range q.lanes {
					lane := &q.lanes[l]
					if lane.len() != len(model[l]) || lane.bytes != modelBytes(Lane(l)) {
						t.Fatalf("lane %d holds %d items, %d bytes; model %d, %d", l, lane.len(), lane.bytes, len(model[l]), modelBytes(Lane(l)))
					}
					if lane.len() > 1 && (lane.len() > limits.Messages || lane.bytes > limits.Bytes) {
						t.Fatalf("lane %d over its bounds: %d items, %d bytes", l, lane.len(), lane.bytes)
					}
				}
			},
		})
	})
}

func TestPushWaitsForRoom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := New(Limits{Messages: 1, Bytes: 100})
		if err := q.Push(context.Background(), Reliable, item(1, 1)); err != nil {
			t.Fatal(err)
		}
		// A full lane: Push gives up when its context ends.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := q.Push(ctx, Reliable, item(2, 1))
		cancel()
		if !errors.Is(err, netq.ErrQueueFull) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Push on a full lane: got %v, want ErrQueueFull and DeadlineExceeded", err)
		}
		// The other lane is independent.
		if err := q.TryPush(BestEffort, item(3, 1)); err != nil {
			t.Fatalf("best-effort lane blocked by the reliable one: %v", err)
		}
		// A waiting Push completes as soon as the consumer makes room.
		done := make(chan error, 1)
		go func() { done <- q.Push(context.Background(), Reliable, item(4, 1)) }()
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("Push returned %v with the lane full", err)
		default:
		}
		if it, _ := q.TryPop(); it.Msg[0] != 1 {
			t.Fatalf("popped %v, want the reliable item first", it.Msg)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		for _, want := range []byte{4, 3} { // reliable before best-effort
			if it, ok := q.Pop(nil); !ok || it.Msg[0] != want {
				t.Fatalf("Pop = %v, %v; want %d", it.Msg, ok, want)
			}
		}
	})
}

func TestLargeItemEntersEmptyLane(t *testing.T) {
	q := New(Limits{Messages: 4, Bytes: 10})
	if err := q.TryPush(Reliable, item(1, 50)); err != nil {
		t.Fatalf("item over the byte bound refused by an empty lane: %v", err)
	}
	if err := q.TryPush(Reliable, item(2, 1)); !errors.Is(err, netq.ErrQueueFull) {
		t.Fatalf("lane over its byte bound accepted more: %v", err)
	}
}

func TestPopAndWaitBlockUntilItemOrDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := New(Limits{Messages: 4, Bytes: 100})
		done := make(chan struct{})
		popped := make(chan Item, 1)
		go func() {
			if !q.Wait(nil) {
				t.Error("Wait returned false with an item pushed")
			}
			it, _ := q.Pop(nil)
			popped <- it
		}()
		synctest.Wait()
		if err := q.TryPush(BestEffort, item(9, 1)); err != nil {
			t.Fatal(err)
		}
		if it := <-popped; it.Msg[0] != 9 {
			t.Fatalf("Pop = %v", it.Msg)
		}
		go func() { time.Sleep(time.Minute); close(done) }()
		if _, ok := q.Pop(done); ok {
			t.Fatal("Pop returned an item from an empty queue")
		}
		if q.Wait(done) {
			t.Fatal("Wait returned true after done")
		}
	})
}

func TestCloseWakesEveryone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := New(Limits{Messages: 1, Bytes: 100})
		if err := q.TryPush(Reliable, item(1, 1)); err != nil {
			t.Fatal(err)
		}
		if err := q.TryPush(BestEffort, item(2, 1)); err != nil {
			t.Fatal(err)
		}
		pushErr := make(chan error, 1)
		go func() { pushErr <- q.Push(context.Background(), Reliable, item(3, 1)) }()
		synctest.Wait()
		if n := q.Close(); n != 2 {
			t.Fatalf("Close discarded %d items, want 2", n)
		}
		if err := <-pushErr; !errors.Is(err, netq.ErrClosed) {
			t.Fatalf("waiting Push after Close: %v, want ErrClosed", err)
		}
		if err := q.TryPush(BestEffort, item(4, 1)); !errors.Is(err, netq.ErrClosed) {
			t.Fatalf("TryPush after Close: %v, want ErrClosed", err)
		}
		if _, ok := q.Pop(nil); ok {
			t.Fatal("Pop after Close returned an item")
		}
		if q.Wait(nil) {
			t.Fatal("Wait after Close returned true")
		}
		if n := q.Close(); n != 0 {
			t.Fatalf("second Close discarded %d", n)
		}
	})
}

// TestLongQueueKeepsOrder crosses the compaction threshold of a lane with
// items still queued, where the slice is shifted down.
func TestLongQueueKeepsOrder(t *testing.T) {
	q := New(Limits{Messages: 1000, Bytes: 1 << 20})
	var pushed, popped int
	push := func(n int) {
		for range n {
			if err := q.TryPush(Reliable, Item{Msg: []byte{byte(pushed), byte(pushed >> 8)}}); err != nil {
				t.Fatal(err)
			}
			pushed++
		}
	}
	pop := func(n int) {
		for range n {
			it, ok := q.TryPop()
			if got := int(it.Msg[0]) | int(it.Msg[1])<<8; !ok || got != popped {
				t.Fatalf("popped %d, want %d", got, popped)
			}
			popped++
		}
	}
	push(300)
	pop(200) // compacts once the head passes half of the slice
	push(300)
	pop(400)
	if q.Len() != 0 || q.lanes[Reliable].bytes != 0 {
		t.Fatalf("queue not empty: %d items, %d bytes", q.Len(), q.lanes[Reliable].bytes)
	}
}
