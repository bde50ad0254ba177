package bench

import (
	"runtime"
	"slices"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/host"
	"github.com/shirou/gopsutil/v4/mem"
)

// Profile describes the machine a report was measured on. The capacity
// planner reads it back from the JSON report.
type Profile struct {
	CPUModel       string   `json:"cpu_model"`
	CPUMHz         float64  `json:"cpu_mhz"`
	LogicalCores   int      `json:"logical_cores"`
	PhysicalCores  int      `json:"physical_cores"`
	CPUFlags       []string `json:"cpu_flags"` // only the flags that change which backend is fastest
	MemoryBytes    uint64   `json:"memory_bytes"`
	OS             string   `json:"os"`
	Platform       string   `json:"platform"`
	Kernel         string   `json:"kernel"`
	Virtualization string   `json:"virtualization,omitempty"`
	Arch           string   `json:"arch"`
	GoVersion      string   `json:"go_version"`
	GOMAXPROCS     int      `json:"gomaxprocs"`
}

// relevantFlags are the CPU features our hot paths dispatch on: SHA
// extensions for SHA-256, AVX2/AVX-512 and GFNI for Reed-Solomon, ADX and
// BMI2 for blst's field arithmetic.
var relevantFlags = []string{"sha_ni", "sha", "avx2", "avx512f", "avx512bw", "gfni", "adx", "bmi2", "asimd", "sha2"}

// ReadProfile reads the hardware profile with gopsutil. Fields it cannot read
// stay zero; a profile is informative and never fails a run.
func ReadProfile() Profile {
	p := Profile{
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
		GoVersion:  runtime.Version(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
	}
	if infos, err := cpu.Info(); err == nil && len(infos) > 0 {
		p.CPUModel = infos[0].ModelName
		p.CPUMHz = infos[0].Mhz
		for _, f := range infos[0].Flags {
			if slices.Contains(relevantFlags, f) {
				p.CPUFlags = append(p.CPUFlags, f)
			}
		}
		slices.Sort(p.CPUFlags)
	}
	if n, err := cpu.Counts(true); err == nil {
		p.LogicalCores = n
	}
	if n, err := cpu.Counts(false); err == nil {
		p.PhysicalCores = n
	}
	if vm, err := mem.VirtualMemory(); err == nil {
		p.MemoryBytes = vm.Total
	}
	if hi, err := host.Info(); err == nil {
		p.Platform = hi.Platform + " " + hi.PlatformVersion
		p.Kernel = hi.KernelVersion
		if hi.VirtualizationRole == "guest" {
			p.Virtualization = hi.VirtualizationSystem
		}
	}
	return p
}
