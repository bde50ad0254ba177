package accel

import (
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestFeaturesNames(t *testing.T) {
	cases := []struct {
		f    CPUFeatures
		want string
	}{
		{CPUFeatures{Arch: "amd64"}, "amd64: none"},
		{CPUFeatures{Arch: "amd64", SHANI: true, AVX2: true, AVX512: true, ADX: true, BMI2: true}, "amd64: sha_ni avx2 avx512 adx bmi2"},
		{CPUFeatures{Arch: "amd64", AVX2: true, BMI2: true}, "amd64: avx2 bmi2"},
		{CPUFeatures{Arch: "arm64", ARMSHA2: true}, "arm64: sha2"},
	}
	for _, c := range cases {
		if got := c.f.String(); got != c.want {
			t.Errorf("String() = %q, want %q", got, c.want)
		}
	}
}

// cpuinfoFlags returns the feature flags the kernel reports for the first
// CPU ("flags" on x86, "Features" on arm64).
func cpuinfoFlags(t *testing.T) []string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Fatalf("read /proc/cpuinfo: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if k := strings.TrimSpace(key); k == "flags" || k == "Features" {
			return strings.Fields(value)
		}
	}
	t.Fatal("no flags line in /proc/cpuinfo")
	return nil
}

// TestFeaturesMatchKernel cross-checks Features against the flags Linux
// reports, an independent reading of CPUID (or of the arm64 HWCAPs).
func TestFeaturesMatchKernel(t *testing.T) {
	if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
		t.Skipf("no /proc/cpuinfo cross-check on %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	f := Features()
	if f.Arch != runtime.GOARCH {
		t.Fatalf("Arch = %q, want %q", f.Arch, runtime.GOARCH)
	}
	flags := cpuinfoFlags(t)
	has := func(names ...string) bool {
		for _, n := range names {
			if !slices.Contains(flags, n) {
				return false
			}
		}
		return true
	}
	t.Logf("Features: %s", f)
	if runtime.GOARCH == "arm64" {
		if f.ARMSHA2 != has("sha2") {
			t.Errorf("ARMSHA2 = %v, /proc/cpuinfo sha2 = %v", f.ARMSHA2, has("sha2"))
		}
		if f.SHANI || f.AVX2 || f.AVX512 || f.ADX || f.BMI2 {
			t.Errorf("x86 features reported on arm64: %s", f)
		}
		return
	}
	checks := []struct {
		name string
		got  bool
		want bool
	}{
		{"SHANI", f.SHANI, has("sha_ni")},
		{"AVX2", f.AVX2, has("avx2")},
		{"AVX512", f.AVX512, has("avx512f", "avx512dq", "avx512bw", "avx512vl")},
		{"ADX", f.ADX, has("adx")},
		{"BMI2", f.BMI2, has("bmi2")},
		{"ARMSHA2", f.ARMSHA2, false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, /proc/cpuinfo says %v", c.name, c.got, c.want)
		}
	}
}
