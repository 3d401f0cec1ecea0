//go:build linux

package cgroup

import "syscall"

// supported reports whether this system has memory cgroups at all.
func supported() error { return nil }

// writable reports whether this process may create entries in dir.
func writable(dir string) error { return syscall.Access(dir, 2 /* W_OK */) }
