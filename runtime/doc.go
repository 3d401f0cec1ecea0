// Package runtime runs transformer language models stored in .llmap files.
//
// A Model holds three kinds of data, kept apart as in llama2.c: Config (the
// hyperparameters), Weights (read-only views into the file's mapping) and
// State (activations and the KV cache, allocated once per context). The
// forward pass allocates nothing per token.
//
// Weights point into a read-only memory mapping of the model file. They are
// valid until Model.Close; writing to them faults. If the file is truncated
// or replaced while a model is open, touching a missing page raises SIGBUS;
// Forward and Generate turn that into an error instead of a crash.
package runtime
