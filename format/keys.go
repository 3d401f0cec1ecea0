package format

import "strconv"

// Standard metadata keys. SPEC.md describes each one; readers keep and ignore
// keys they do not know.
const (
	KeyArchitecture = "general.architecture" // string: a family of format/arch
	KeyName         = "general.name"         // string: model name
	KeySource       = "general.source"       // string: free text (where the weights came from)

	KeyDim              = "model.dim"               // u32: residual stream width
	KeyHiddenDim        = "model.hidden_dim"        // u32: feed-forward inner width
	KeyNLayers          = "model.n_layers"          // u32
	KeyNHeads           = "model.n_heads"           // u32: query heads
	KeyNKVHeads         = "model.n_kv_heads"        // u32: key/value heads (grouped-query attention)
	KeyHeadSize         = "model.head_size"         // u32: width of one head; optional, default dim/n_heads
	KeyVocabSize        = "model.vocab_size"        // u32
	KeyContextLength    = "model.context_length"    // u32: maximum sequence length
	KeyNormEps          = "model.norm_eps"          // f32: epsilon of RMSNorm / LayerNorm
	KeyRopeBase         = "model.rope_base"         // f32: RoPE theta (families with RoPE)
	KeySharedClassifier = "model.shared_classifier" // bool: output.weight is token_embd.weight
	KeyRopeAttnFactor   = "model.rope_attn_factor"  // f32: multiplies RoPE's cos and sin; optional, default 1
	KeySlidingWindow    = "model.sliding_window"    // u32: positions a query attends to; optional, default all

	KeyTokenizerKind       = "tokenizer.kind"        // string: TokenizerLlama or TokenizerGPT2
	KeyTokenizerTokens     = "tokenizer.tokens"      // []string: token pieces by id
	KeyTokenizerScores     = "tokenizer.scores"      // []f32: merge scores by id (llama)
	KeyTokenizerMerges     = "tokenizer.merges"      // []string: "left right" merge rules by rank (gpt2)
	KeyTokenizerTokenTypes = "tokenizer.token_types" // []i32: TokenType* by id
	KeyTokenizerBOSID      = "tokenizer.bos_id"      // i32: -1 = none
	KeyTokenizerEOSID      = "tokenizer.eos_id"      // i32: -1 = none
	KeyTokenizerAddBOS     = "tokenizer.add_bos"     // bool: prepend BOS when encoding a prompt

	KeyTokenizerPre          = "tokenizer.pre"           // string: pre-tokenizer of a gpt2 tokenizer: gpt2, llama3, qwen2, smollm
	KeyTokenizerIgnoreMerges = "tokenizer.ignore_merges" // bool: a pre-token that is a token is not merged (gpt2)
	KeyTokenizerNormalizer   = "tokenizer.normalizer"    // string: "nfc", or absent for none
	KeyTokenizerEOTID        = "tokenizer.eot_id"        // i32: end of turn, -1 = none
	KeyTokenizerEOGIDs       = "tokenizer.eog_ids"       // []i32: every token that ends generation
	KeyTokenizerChatTemplate = "tokenizer.chat_template" // string: Jinja chat template; named ones under KeyTokenizerChatTemplate + "." + name
)

// Values of KeyTokenizerKind.
const (
	TokenizerLlama = "llama" // SentencePiece-style scored BPE with byte fallback
	TokenizerGPT2  = "gpt2"  // byte-level BPE with ranked merges
)

// Values of KeyTokenizerTokenTypes (GGUF's numbering).
const (
	TokenTypeNormal      int32 = 1
	TokenTypeUnknown     int32 = 2
	TokenTypeControl     int32 = 3
	TokenTypeUserDefined int32 = 4
	TokenTypeUnused      int32 = 5
	TokenTypeByte        int32 = 6
)

// Tensor names outside the transformer blocks (GGUF's convention).
const (
	TensorTokenEmbd    = "token_embd.weight"    // (vocab_size, dim)
	TensorPositionEmbd = "position_embd.weight" // (context_length, dim), gpt2
	TensorOutputNorm   = "output_norm.weight"   // (dim,)
	TensorOutput       = "output.weight"        // (vocab_size, dim), absent if shared
)

// BlockTensor returns the name of a tensor of transformer block layer, e.g.
// BlockTensor(3, "attn_q.weight") = "blk.3.attn_q.weight".
func BlockTensor(layer int, suffix string) string {
	return "blk." + strconv.Itoa(layer) + "." + suffix
}
