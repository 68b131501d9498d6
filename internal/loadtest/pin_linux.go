package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// usableCPUs returns the CPUs the harness may run on, ascending.
func usableCPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("read the CPUs this process may use: %w", err)
	}
	var cpus []int
	for c := 0; len(cpus) < set.Count(); c++ { // ends: Count is how many IsSet
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}

func cpuSet(cpus []int) *unix.CPUSet {
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	return &set
}

// pinSelf moves every thread of the harness onto cpus, and sets its
// GOMAXPROCS to as many; with no cpus, it does nothing. Threads the
// runtime starts later are cloned from these and inherit their CPUs. The
// returned function puts the threads and GOMAXPROCS back as they were, for
// the next run in the same process (the tests').
func pinSelf(cpus []int) (unpin func(), err error) {
	if len(cpus) == 0 {
		return func() {}, nil
	}
	var was unix.CPUSet
	if err := unix.SchedGetaffinity(0, &was); err != nil {
		return nil, fmt.Errorf("read the CPUs this process may use: %w", err)
	}
	procs := runtime.GOMAXPROCS(0)
	if err := setThreads(cpuSet(cpus)); err != nil {
		setThreads(&was)
		return nil, fmt.Errorf("pin the harness to CPU %s: %w", cpuList(cpus), err)
	}
	runtime.GOMAXPROCS(len(cpus))
	return func() {
		setThreads(&was)
		runtime.GOMAXPROCS(procs)
	}, nil
}

// setThreads sets the CPUs of every thread of the process.
func setThreads(set *unix.CPUSet) error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, set); err != nil && err != unix.ESRCH { // ESRCH: the thread has exited since
			return fmt.Errorf("thread %d: %w", tid, err)
		}
	}
	return nil
}

// startOn starts cmd on cpus (on any CPU when cpus is empty). The child
// inherits the CPUs of the thread that forks it, so a thread of its own is
// pinned for the fork, and ends with the goroutine that locked it: the
// harness's other goroutines never run on it. The child's Go runtime reads
// its CPUs as it starts, so its GOMAXPROCS is their number.
func startOn(cmd *exec.Cmd, cpus []int) error {
	if len(cpus) == 0 {
		return cmd.Start()
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with this goroutine
		if err := unix.SchedSetaffinity(0, cpuSet(cpus)); err != nil {
			done <- fmt.Errorf("pin to CPU %s: %w", cpuList(cpus), err)
			return
		}
		done <- cmd.Start()
	}()
	return <-done
}
