//go:build !linux

package main

import "os/exec"

// usableCPUs returns none: pinning is Linux's (sched_setaffinity), so
// elsewhere nothing is pinned.
func usableCPUs() ([]int, error) { return nil, nil }

func pinSelf([]int) (func(), error) { return func() {}, nil }

func startOn(cmd *exec.Cmd, _ []int) error { return cmd.Start() }
