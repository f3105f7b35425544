package agent

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/isolators/netbw"
)

// apply makes the shaper hold the framework's share as the record now
// says. Order: stale cgroups out, then the rate (a new class before its
// cgroups), then new cgroups in, so no packet is ever classified into a
// class that is gone. A failed step is logged and returned; the next apply
// of the framework retries what is still missing.
func (b *bandwidth) apply(fw ids.FrameworkID) error {
	b.applyMu.Lock()
	defer b.applyMu.Unlock()
	b.mu.Lock()
	sum, want := b.share(fw)
	b.mu.Unlock()
	var errs []error
	for c, v := range b.added {
		if v.fw == fw && want[c] != v {
			if err := b.shaper.RemoveCgroup(v.cgroup); err != nil {
				errs = append(errs, err)
				continue
			}
			delete(b.added, c)
		}
	}
	if sum <= 0 {
		if _, ok := b.rates[fw]; ok {
			if err := b.shaper.RemoveFramework(fw); err != nil {
				errs = append(errs, err)
			} else {
				delete(b.rates, fw)
				b.log.Info("bandwidth class removed", "framework_id", fw)
			}
		}
		return b.logged(fw, errs)
	}
	if r, ok := b.rates[fw]; !ok || r != sum {
		if err := b.shaper.SetFramework(fw, sum); err != nil {
			return b.logged(fw, append(errs, err))
		}
		b.rates[fw] = sum
		b.log.Info("bandwidth class set", "framework_id", fw, "rate_mbps", sum)
	}
	for c, v := range want {
		if b.added[c] == v {
			continue
		}
		if err := b.shaper.AddCgroup(v.cgroup, fw); err != nil {
			errs = append(errs, err)
			continue
		}
		b.added[c] = v
	}
	return b.logged(fw, errs)
}

func (b *bandwidth) logged(fw ids.FrameworkID, errs []error) error {
	err := errors.Join(errs...)
	if err != nil {
		b.log.Warn("apply bandwidth share", "framework_id", fw, "err", err)
	}
	return err
}

// flush applies what the loop queued: the shares that changed, then the
// namespaces of destroyed containers.
func (b *bandwidth) flush() error {
	b.mu.Lock()
	fws := slices.Sorted(maps.Keys(b.pending))
	gone := slices.Sorted(maps.Keys(b.detach))
	clear(b.pending)
	clear(b.detach)
	b.mu.Unlock()
	var errs []error
	for _, fw := range fws {
		errs = append(errs, b.apply(fw))
	}
	for _, c := range gone {
		if err := b.net.Detach(c); err != nil {
			b.log.Warn("detach container from its network", "container_id", c, "err", err)
			errs = append(errs, err)
			continue
		}
		b.mu.Lock()
		delete(b.nets, c)
		b.mu.Unlock()
	}
	return errors.Join(errs...)
}

// start runs the worker: it flushes whenever the loop queued something,
// until stop. Errors are logged by apply and flush.
func (b *bandwidth) start() {
	b.quit, b.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(b.done)
		for {
			select {
			case <-b.quit:
				return
			case <-b.wake:
				_ = b.flush()
			}
		}
	}()
}

// stop ends the worker and applies what is still queued.
func (b *bandwidth) stop() {
	if b.quit != nil {
		close(b.quit)
		<-b.done
		b.quit = nil
	}
	_ = b.flush()
}

// reconcile makes the shaper exactly the record (after recovery: what the
// agent recovered), in place.
func (b *bandwidth) reconcile() error {
	if b == nil {
		return nil
	}
	b.applyMu.Lock()
	defer b.applyMu.Unlock()
	want := map[ids.FrameworkID]netbw.Share{}
	added := map[ids.ContainerID]bwContainer{}
	b.mu.Lock()
	fws := map[ids.FrameworkID]bool{}
	for k := range b.tasks {
		fws[k.fw] = true
	}
	for fw := range fws {
		sum, cgs := b.share(fw)
		if sum <= 0 {
			continue
		}
		s := netbw.Share{RateMbps: sum}
		for c, v := range cgs {
			s.Cgroups = append(s.Cgroups, v.cgroup)
			added[c] = v
		}
		slices.Sort(s.Cgroups)
		want[fw] = s
	}
	b.mu.Unlock()
	if err := b.shaper.Reconcile(want); err != nil {
		return fmt.Errorf("reconcile bandwidth classes: %w", err)
	}
	b.added = added
	clear(b.rates)
	for fw, s := range want {
		b.rates[fw] = s.RateMbps
	}
	b.log.Info("bandwidth classes reconciled", "frameworks", len(want))
	return nil
}

// frameworks returns the frameworks with a class, sorted.
func (b *bandwidth) frameworks() []ids.FrameworkID {
	if b == nil {
		return nil
	}
	b.applyMu.Lock()
	defer b.applyMu.Unlock()
	return slices.Sorted(maps.Keys(b.rates))
}
