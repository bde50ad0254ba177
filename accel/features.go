package accel

import (
	"runtime"
	"strings"

	"github.com/klauspost/cpuid/v2"
	"golang.org/x/sys/cpu"
)

// CPUFeatures are the instruction-set extensions our hot paths dispatch on.
type CPUFeatures struct {
	// Arch is runtime.GOARCH.
	Arch string `json:"arch"`
	// SHANI: the x86 SHA extensions, the fast path of both SHA-256 backends.
	SHANI bool `json:"sha_ni"`
	// AVX2: the stdlib SHA-256 fallback without SHA-NI; Reed-Solomon.
	AVX2 bool `json:"avx2"`
	// AVX512: F, DQ, BW and VL together, what sha256-simd's AVX-512 kernels
	// and klauspost/reedsolomon's AVX-512 paths require.
	AVX512 bool `json:"avx512"`
	// ADX and BMI2: blst's fast field arithmetic (mulx, adcx, adox).
	ADX  bool `json:"adx"`
	BMI2 bool `json:"bmi2"`
	// ARMSHA2: the ARMv8 SHA-256 instructions.
	ARMSHA2 bool `json:"arm_sha2"`
}

// Features reports the features of the CPU we run on, as the OS lets us use
// them (AVX state must be enabled by the kernel).
//
// golang.org/x/sys/cpu is the source for everything it knows; it has no
// SHA-NI bit, so that one comes from github.com/klauspost/cpuid/v2 with the
// same test sha256-simd uses to pick its kernel, so the report matches what
// the backend does.
func Features() CPUFeatures {
	return CPUFeatures{
		Arch:    runtime.GOARCH,
		SHANI:   runtime.GOARCH == "amd64" && cpuid.CPU.Supports(cpuid.SHA, cpuid.SSSE3, cpuid.SSE4),
		AVX2:    cpu.X86.HasAVX2,
		AVX512:  cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL,
		ADX:     cpu.X86.HasADX,
		BMI2:    cpu.X86.HasBMI2,
		ARMSHA2: cpu.ARM64.HasSHA2,
	}
}

// Names lists the features present, in a fixed order, by the names of
// /proc/cpuinfo where it has one.
func (f CPUFeatures) Names() []string {
	var names []string
	for _, feature := range []struct {
		present bool
		name    string
	}{
		{f.SHANI, "sha_ni"},
		{f.AVX2, "avx2"},
		{f.AVX512, "avx512"},
		{f.ADX, "adx"},
		{f.BMI2, "bmi2"},
		{f.ARMSHA2, "sha2"},
	} {
		if feature.present {
			names = append(names, feature.name)
		}
	}
	return names
}

// String is the architecture followed by the features present, for the
// start-up log: "amd64: sha_ni avx2 avx512 adx bmi2".
func (f CPUFeatures) String() string {
	names := f.Names()
	if len(names) == 0 {
		return f.Arch + ": none"
	}
	return f.Arch + ": " + strings.Join(names, " ")
}
