package usage

import "time"

// ring holds a container's latest samples, oldest first. It grows up to its
// capacity and then overwrites the oldest, so a short-lived container costs
// only what it used.
type ring struct {
	buf  []Sample
	next int // where the next sample goes once buf is full
	cap  int
}

func newRing(capacity int) ring { return ring{cap: max(1, capacity)} }

func (r *ring) push(s Sample) {
	if len(r.buf) < r.cap {
		r.buf = append(r.buf, s)
		return
	}
	r.buf[r.next] = s
	r.next = (r.next + 1) % r.cap
}

func (r *ring) len() int { return len(r.buf) }

// at returns the i-th sample, 0 the oldest.
func (r *ring) at(i int) *Sample {
	if len(r.buf) < r.cap {
		return &r.buf[i]
	}
	return &r.buf[(r.next+i)%r.cap]
}

// last returns the newest sample, and the one before it (the same when
// there is only one); nil when empty.
func (r *ring) last() (cur, prev *Sample) {
	n := len(r.buf)
	if n == 0 {
		return nil, nil
	}
	cur = r.at(n - 1)
	if n == 1 {
		return cur, cur
	}
	return cur, r.at(n - 2)
}

// since appends to out the samples taken at or after t, oldest first.
func (r *ring) since(t time.Time, out []Sample) []Sample {
	n := len(r.buf)
	// Samples are in time order: find the first one not before t.
	lo, hi := 0, n
	for lo < hi {
		mid := (lo + hi) / 2
		if r.at(mid).Time.Before(t) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	for i := lo; i < n; i++ {
		out = append(out, *r.at(i))
	}
	return out
}
