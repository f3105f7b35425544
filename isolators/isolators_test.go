package isolators_test

import (
	"math"
	"testing"

	"github.com/cairnhq/cairn/isolators"
	"github.com/cairnhq/cairn/isolators/isolatortest"
)

func TestConformance(t *testing.T) {
	for _, iso := range []isolators.Isolator{
		isolators.CPU{EnableCFS: true},
		isolators.CPU{},
		isolators.Mem{},
		isolators.Pids{Max: 64},
		isolators.Pids{},
	} {
		t.Run(iso.Name(), func(t *testing.T) { isolatortest.Run(t, iso) })
	}
}

func TestCPUSpec(t *testing.T) {
	tests := []struct {
		name    string
		cfs     bool
		cpus    float64
		quota   float64
		want    isolators.Limits
		wantErr bool
	}{
		{name: "task quota nested in the container's", cfs: true, cpus: 0.6, quota: 0.5, want: isolators.Limits{CPUShares: 614, CPUQuotaUs: 60000, CPUPeriodUs: 100000, TaskCPUQuotaUs: 50000}},
		{name: "tiny task quota hits the minimum", cfs: true, cpus: 0.101, quota: 0.001, want: isolators.Limits{CPUShares: 103, CPUQuotaUs: 10100, CPUPeriodUs: 100000, TaskCPUQuotaUs: 1000}},
		{name: "quota above cpus is ignored", cfs: true, cpus: 0.5, quota: 2, want: isolators.Limits{CPUShares: 512, CPUQuotaUs: 50000, CPUPeriodUs: 100000}},
		{name: "no task quota without cfs", cfs: false, cpus: 0.6, quota: 0.5, want: isolators.Limits{CPUShares: 614}},
		{name: "one cpu", cfs: true, cpus: 1, want: isolators.Limits{CPUShares: 1024, CPUQuotaUs: 100000, CPUPeriodUs: 100000}},
		{name: "half cpu", cfs: true, cpus: 0.5, want: isolators.Limits{CPUShares: 512, CPUQuotaUs: 50000, CPUPeriodUs: 100000}},
		{name: "two and a half", cfs: true, cpus: 2.5, want: isolators.Limits{CPUShares: 2560, CPUQuotaUs: 250000, CPUPeriodUs: 100000}},
		{name: "tiny hits minimums", cfs: true, cpus: 0.001, want: isolators.Limits{CPUShares: 2, CPUQuotaUs: 1000, CPUPeriodUs: 100000}},
		{name: "cfs off: shares only", cfs: false, cpus: 1.5, want: isolators.Limits{CPUShares: 1536}},
		{name: "zero", cfs: true, cpus: 0, wantErr: true},
		{name: "negative", cfs: true, cpus: -1, wantErr: true},
		{name: "nan", cfs: true, cpus: math.NaN(), wantErr: true},
		{name: "inf", cfs: true, cpus: math.Inf(1), wantErr: true},
		{name: "absurd", cfs: true, cpus: 1e9, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l isolators.Limits
			err := isolators.CPU{EnableCFS: tt.cfs}.Spec(isolators.Request{CPUs: tt.cpus, MemMB: 64, QuotaCPUs: tt.quota}, &l)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Spec error = %v, want error %v", err, tt.wantErr)
			}
			if l != tt.want {
				t.Errorf("Spec = %+v, want %+v", l, tt.want)
			}
		})
	}
}

func TestMemSpec(t *testing.T) {
	tests := []struct {
		name    string
		mem     float64
		want    int64
		wantErr bool
	}{
		{name: "64 MB", mem: 64, want: 64 << 20},
		{name: "fractional", mem: 100.5, want: 100<<20 + 1<<19},
		{name: "below minimum", mem: 8, want: 32 << 20},
		{name: "zero", mem: 0, wantErr: true},
		{name: "negative", mem: -5, wantErr: true},
		{name: "nan", mem: math.NaN(), wantErr: true},
		{name: "absurd", mem: 1e18, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l isolators.Limits
			err := isolators.Mem{}.Spec(isolators.Request{CPUs: 1, MemMB: tt.mem}, &l)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Spec error = %v, want error %v", err, tt.wantErr)
			}
			want := isolators.Limits{MemoryBytes: tt.want, MemorySwapBytes: tt.want}
			if l != want {
				t.Errorf("Spec = %+v, want %+v (swap equal to memory: no swap)", l, want)
			}
		})
	}
}

func TestPidsSpec(t *testing.T) {
	for _, tt := range []struct {
		max, want int64
	}{{4096, 4096}, {16, 16}, {0, 0}, {-1, 0}} {
		var l isolators.Limits
		if err := (isolators.Pids{Max: tt.max}).Spec(isolators.Request{}, &l); err != nil {
			t.Fatalf("Pids{%d}.Spec: %v", tt.max, err)
		}
		if l != (isolators.Limits{PidsMax: tt.want}) {
			t.Errorf("Pids{%d}.Spec = %+v, want PidsMax %d only", tt.max, l, tt.want)
		}
	}
}
