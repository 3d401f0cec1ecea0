// Package explore looks inside a model instead of running it for text: the
// token embedding matrix as a vector space (nearest entries, analogies,
// directions; Embeddings), the hidden state of every position of a text
// (Contextual), the next-token distribution at any temperature
// (NextLogits, Probabilities), and teacher-forced perplexity
// (Perplexity). llmap embed, next and perplexity are built on it, and so
// is the server's explorer.
//
// Everything here reads the model through the runtime package's public API
// and takes turns with generation on the same Model, so a server may call
// these tools while its sessions decode. An Embeddings value keeps
// scratch buffers: one per goroutine.
package explore
