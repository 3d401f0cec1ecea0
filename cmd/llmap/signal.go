package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/llmap/llmap/format"
)

// interruptError ends a command stopped by SIGINT or SIGTERM; the exit
// status is 128 plus the signal's number, as a shell reports it (130 for
// Ctrl-C).
type interruptError struct{ sig syscall.Signal }

func (e interruptError) Error() string { return "interrupted" }

// exitCode is the status a process killed by the signal would have.
func (e interruptError) exitCode() int { return 128 + int(e.sig) }

// onInterrupt calls handle, from its own goroutine, on the first SIGINT or
// SIGTERM until stop is called. A second signal ends the process at once
// (after removing temporary files), for a user who does not want to wait.
// A signal the process was started with ignored (SIGINT of a background
// job in a script) stays ignored.
func onInterrupt(handle func(sig syscall.Signal)) (stop func()) {
	var sigs []os.Signal
	for _, s := range []os.Signal{syscall.SIGINT, syscall.SIGTERM} {
		if !signal.Ignored(s) {
			sigs = append(sigs, s)
		}
	}
	ch := make(chan os.Signal, 2)
	done := make(chan struct{})
	signal.Notify(ch, sigs...)
	go func() {
		first := true
		for {
			select {
			case s := <-ch:
				sig := s.(syscall.Signal)
				if !first {
					format.RemoveTemps()
					os.Exit(128 + int(sig))
				}
				first = false
				handle(sig)
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}

// removeOutputOnInterrupt is onInterrupt for commands that write a file
// (convert, synth): the unfinished temporary file is removed, one line
// says so, and the process exits with 128 + the signal's number.
func removeOutputOnInterrupt(stderr io.Writer, name, output string) (stop func()) {
	return onInterrupt(func(sig syscall.Signal) {
		msg := "interrupted"
		if len(format.RemoveTemps()) > 0 {
			msg += "; removed the unfinished " + output
		}
		fmt.Fprintf(stderr, "%s: %s\n", name, msg)
		os.Exit(interruptError{sig}.exitCode())
	})
}
