package isolators

import (
	"errors"
	"math"
)

// The Mesos cgroups/cpu constants.
const (
	CPUSharesPerCPU = 1024   // cpu.shares per requested cpu
	MinCPUShares    = 2      // the kernel's minimum cpu.shares
	CFSPeriodUs     = 100000 // 100 ms, the kernel's default CFS period
	MinCFSQuotaUs   = 1000   // 1 ms: a smaller quota starves the container
)

// CPU is the cgroups/cpu isolator: proportional shares always, and a hard CFS
// quota when EnableCFS is set (Mesos flag --cgroups_enable_cfs).
type CPU struct {
	EnableCFS bool
}

// Name implements Isolator.
func (CPU) Name() string { return "cgroups/cpu" }

// Spec implements Isolator. It sets CPUShares, and CPUQuotaUs and CPUPeriodUs
// when CFS is enabled. A request without cpus is an error, as in Mesos: a
// container must be given some CPU.
func (c CPU) Spec(req Request, l *Limits) error {
	if err := checkQuantity("cpus", req.CPUs); err != nil {
		return err
	}
	if req.CPUs == 0 {
		return errors.New("no cpus in request")
	}
	// The kernel caps shares at 2^18; anything near MaxInt32 is a mistake.
	if req.CPUs*CPUSharesPerCPU > math.MaxInt32 {
		return errors.New("cpus too large")
	}
	l.CPUShares = max(uint64(req.CPUs*CPUSharesPerCPU), MinCPUShares)
	if c.EnableCFS {
		l.CPUPeriodUs = CFSPeriodUs
		l.CPUQuotaUs = max(int64(req.CPUs*CFSPeriodUs), MinCFSQuotaUs)
		if req.QuotaCPUs > 0 && req.QuotaCPUs < req.CPUs {
			l.TaskCPUQuotaUs = max(int64(req.QuotaCPUs*CFSPeriodUs), MinCFSQuotaUs)
		}
	}
	return nil
}
