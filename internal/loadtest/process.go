package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// build compiles propusk and the bare server into dir, as "go build"
// would for a deployment: the harness measures the binary, not a test
// build.
func build(ctx context.Context, dir string) (propusk, bare string, err error) {
	propusk, bare = filepath.Join(dir, "propusk"), filepath.Join(dir, "bare")
	for bin, pkg := range map[string]string{
		propusk: "github.com/propusk/propusk/cmd/propusk",
		bare:    "github.com/propusk/propusk/internal/loadtest/bare",
	} {
		out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg).CombinedOutput()
		if err != nil {
			return "", "", fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
		}
	}
	return propusk, bare, nil
}

// process is a server the harness started: propusk or the bare handler.
type process struct {
	name string
	cmd  *exec.Cmd
	URL  string // http://127.0.0.1:port
	tail *tail
	done chan struct{}
	// gcPolicy is the garbage collector policy "propusk serve" set for
	// itself, as it logs it (gctune.Policy.String) before it listens; ""
	// if it set none (GOGC or GOMEMLIMIT was in the environment it
	// inherited) or is not propusk.
	gcPolicy string
}

var (
	listening = regexp.MustCompile(`msg=listening addr=(\S+)`)
	gcPolicy  = regexp.MustCompile(`gc="([^"]+)"`)
)

// start runs bin with args and env added, on cpus (any CPU when empty:
// see cpuSplit), and waits until it writes its
// listening line. Its standard error is read for that line and then
// drained: the request log is written as a deployment writes it, to a
// pipe, and costs the server what it costs there.
func start(ctx context.Context, name, bin string, cpus []int, env []string, args ...string) (*process, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := startOn(cmd, cpus); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, tail: &tail{}, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		defer close(p.done)
		r := bufio.NewReaderSize(stderr, 64<<10)
		for {
			line, err := r.ReadString('\n')
			p.tail.add(line)
			if m := gcPolicy.FindStringSubmatch(line); m != nil {
				p.gcPolicy = m[1]
			}
			if m := listening.FindStringSubmatch(line); m != nil {
				addr <- m[1]
				break
			}
			if err != nil {
				cmd.Wait()
				return
			}
		}
		// From here on only the last lines are kept, for a failure's
		// message; reading in large blocks keeps the harness's share small.
		buf := make([]byte, 64<<10)
		for {
			n, err := r.Read(buf)
			p.tail.add(string(buf[:n]))
			if err != nil {
				break
			}
		}
		cmd.Wait()
	}()
	select {
	case a := <-addr:
		p.URL = "http://" + a
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("%s exited before it listened:\n%s", name, p.tail)
	case <-time.After(2 * time.Minute):
		p.stop()
		return nil, fmt.Errorf("%s did not listen within 2 minutes:\n%s", name, p.tail)
	case <-ctx.Done():
		p.stop()
		return nil, ctx.Err()
	}
}

// cpu returns the CPU time, user and system, the process has used so far.
func (p *process) cpu() (time.Duration, error) {
	return processCPU(p.cmd.Process.Pid)
}

// stop asks the process to stop (SIGTERM: propusk drains and flushes) and
// kills it if it has not within 20 seconds.
func (p *process) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// clockTick is the unit of utime and stime in /proc/PID/stat: USER_HZ,
// which Linux fixes at 100 for every architecture's user-space ABI.
const clockTick = 10 * time.Millisecond

// processCPU reads utime+stime of pid from /proc/PID/stat: the CPU time of
// all its threads, those that have exited included.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces:
	// fields are counted from after its closing parenthesis.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unreadable", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return time.Duration(ut+st) * clockTick, nil
}

// processesNamed returns the pids of the processes whose command name
// (/proc/PID/comm) is one of names.
func processesNamed(names ...string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/comm")
		if err != nil {
			continue
		}
		for _, n := range names {
			if strings.TrimSpace(string(b)) == n {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// tail keeps the last 8 KiB a process wrote.
type tail struct {
	mu sync.Mutex
	b  []byte
}

const tailSize = 8 << 10

func (t *tail) add(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, s...)
	if len(t.b) > 2*tailSize {
		t.b = append(t.b[:0], t.b[len(t.b)-tailSize:]...)
	}
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.b) > tailSize {
		return string(t.b[len(t.b)-tailSize:])
	}
	return string(t.b)
}
