package main

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/argon2"
)

// argon2Params are an argon2id hash's cost parameters.
type argon2Params struct {
	memory, time uint32 // KiB, passes
	threads      uint8
}

// parseArgon2 reads the parameters of hash, a PHC string propusk wrote
// ($argon2id$v=19$m=…,t=…,p=…$salt$key).
func parseArgon2(hash string) (argon2Params, error) {
	var a argon2Params
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return a, fmt.Errorf("propusk's password hash %.30q… is not argon2id", hash)
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &a.memory, &a.time, &a.threads); err != nil {
		return a, fmt.Errorf("propusk's password hash %.30q…: %w", hash, err)
	}
	return a, nil
}

// String is the parameters as a PHC string writes them, the form the bare
// process's -argon2 takes.
func (a argon2Params) String() string {
	return fmt.Sprintf("m=%d,t=%d,p=%d", a.memory, a.time, a.threads)
}

// measurePrimitives times, as CPU time of this process, one Ed25519
// signature of a token-sized message and one argon2id hash with params:
// the work under token.obtain and user.login, for the page. Each is the
// median of five rounds.
func measurePrimitives(params argon2Params) Primitives {
	var p Primitives
	p.Argon2Params = fmt.Sprintf("m=%d KiB, t=%d, p=%d", params.memory, params.time, params.threads)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := make([]byte, 300) // the header and claims of an access token
	rand.Read(msg)
	salt, pw := make([]byte, 16), []byte("a password of some length")
	p.Ed25519Sign = perOp(2000, func() { ed25519.Sign(priv, msg) })
	p.Argon2id = perOp(5, func() { argon2.IDKey(pw, salt, params.time, params.memory, params.threads, 32) })
	return p
}

// perOp returns the median over five rounds of the CPU time of f per
// call, µs. CPU time, not wall time: another process taking the core
// for a while does not count.
func perOp(n int, f func()) float64 {
	runtime.GC()
	var xs []float64
	for range 5 {
		c0 := selfCPU()
		for range n {
			f()
		}
		xs = append(xs, micros(selfCPU()-c0)/float64(n))
	}
	return median(xs)
}

// selfCPU is this process's CPU time so far, user and system.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// readMachine reads what the machine is from /proc and /etc/os-release.
func readMachine() Machine {
	m := Machine{Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), CPU: "unknown", OS: runtime.GOOS}
	m.CPU = field("/proc/cpuinfo", "model name", ":")
	if kb, err := strconv.ParseFloat(strings.Fields(field("/proc/meminfo", "MemTotal", ":") + " 0")[0], 64); err == nil {
		m.MemoryGiB = kb / (1 << 20)
	}
	if os := strings.Trim(field("/etc/os-release", "PRETTY_NAME", "="), `"`); os != "" {
		m.OS = os
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	m.Load[0] = loadAverage()
	m.Go = runtime.Version()
	if out, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		m.Go = strings.TrimSpace(string(out)) // the toolchain that built propusk
	}
	return m
}

// loadAverage is the 1-minute load average, 0 if unknown.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(b) + " 0")[0], 64)
	return f
}

// field returns the value of the first line of file that starts with key.
func field(file, key, sep string) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), sep)
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
