package allocator

import (
	"container/heap"
	"time"
)

// expiryQueues hold every offer filter's expiry. Filters of one duration
// expire in the order they were made (time only moves forward), so each
// duration gets a FIFO: adding is an append and expiring pops the fronts,
// instead of a heap's log n per filter with millions of filters. The rare
// filter that would break a FIFO's order (a caller's clock stepping back),
// or that comes once too many durations are in use, goes to a heap.
type expiryQueues struct {
	fifos   map[time.Duration]*fifo
	late    queuedHeap
	pending int // queued entries, live or not
}

const maxFIFOs = 32

type queued struct {
	expires int64
	seq     uint64
	agent   int32 // agent slot
	idx     int32 // entry in the agent's filters
}

type fifo struct {
	q    []queued
	head int
}

func (e *expiryQueues) push(d time.Duration, q queued) {
	e.pending++
	f := e.fifos[d]
	if f == nil && len(e.fifos) < maxFIFOs {
		if e.fifos == nil {
			e.fifos = make(map[time.Duration]*fifo)
		}
		f = &fifo{}
		e.fifos[d] = f
	}
	if f == nil || (len(f.q) > f.head && f.q[len(f.q)-1].expires > q.expires) {
		heap.Push(&e.late, q)
		return
	}
	f.q = append(f.q, q)
}

// popExpired calls expired for every queued entry with expires <= now.
func (e *expiryQueues) popExpired(now int64, expired func(queued)) {
	for d, f := range e.fifos {
		for f.head < len(f.q) && f.q[f.head].expires <= now {
			expired(f.q[f.head])
			f.head++
			e.pending--
		}
		switch {
		case f.head == len(f.q):
			delete(e.fifos, d)
		case f.head > len(f.q)/2 && f.head > 1024:
			f.q = append(f.q[:0], f.q[f.head:]...)
			f.head = 0
		}
	}
	for len(e.late) > 0 && e.late[0].expires <= now {
		expired(heap.Pop(&e.late).(queued))
		e.pending--
	}
}

// compact drops the entries live rejects.
func (e *expiryQueues) compact(live func(queued) bool) {
	e.pending = 0
	for d, f := range e.fifos {
		kept := f.q[:0]
		for _, q := range f.q[f.head:] {
			if live(q) {
				kept = append(kept, q)
			}
		}
		f.q, f.head = kept, 0
		if len(kept) == 0 {
			delete(e.fifos, d)
		}
		e.pending += len(kept)
	}
	kept := e.late[:0]
	for _, q := range e.late {
		if live(q) {
			kept = append(kept, q)
		}
	}
	e.late = kept
	heap.Init(&e.late)
	e.pending += len(kept)
}

type queuedHeap []queued

func (h queuedHeap) Len() int           { return len(h) }
func (h queuedHeap) Less(i, j int) bool { return h[i].expires < h[j].expires }
func (h queuedHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *queuedHeap) Push(x any)        { *h = append(*h, x.(queued)) }
func (h *queuedHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
